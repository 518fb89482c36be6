# EPAM-Net on PKU-MMD cross-view (centre and right cameras train, left
# tests): ./epam_net_pku_mmd_xsub.py with the xview splits.
_base_ = './epam_net_pku_mmd_xsub.py'
train_dataloader = dict(dataset=dict(split='xview_train'))
test_dataloader = val_dataloader = dict(dataset=dict(split='xview_val'))
