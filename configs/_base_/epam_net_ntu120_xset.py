# EPAM-Net on NTU RGB+D 120 cross-setup (even setup IDs train, odd ones
# test): ./epam_net_ntu120_xsub.py with the xset splits.
_base_ = './epam_net_ntu120_xsub.py'
train_dataloader = dict(dataset=dict(split='xset_train'))
test_dataloader = val_dataloader = dict(dataset=dict(split='xset_val'))
