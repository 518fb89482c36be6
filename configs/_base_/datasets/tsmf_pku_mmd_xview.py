# PKU-MMD phase 1 cross-view for TSMF: ./tsmf_pku_mmd_xsub.py with the
# xview splits.
_base_ = './tsmf_pku_mmd_xsub.py'
train_dataloader = dict(dataset=dict(split='xview_train'))
val_dataloader = dict(dataset=dict(split='xview_val'))
test_dataloader = val_dataloader
