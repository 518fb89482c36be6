# The 3D deformable transformer's NTU input on NTU RGB+D 120 cross-setup.
_base_ = './deformable_transformer_ntu120_xsub.py'
train_dataloader = dict(dataset=dict(split='xset_train'))
val_dataloader = test_dataloader = dict(dataset=dict(split='xset_val'))
