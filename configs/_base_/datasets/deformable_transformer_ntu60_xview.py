# The 3D deformable transformer's NTU RGB+D 60 input
# (./deformable_transformer_ntu60_xsub.py) on the cross-view split.
_base_ = './deformable_transformer_ntu60_xsub.py'
train_dataloader = dict(dataset=dict(split='xview_train'))
val_dataloader = test_dataloader = dict(dataset=dict(split='xview_val'))
