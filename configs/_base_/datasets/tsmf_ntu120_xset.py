# NTU RGB+D 120 cross-setup for TSMF: ./tsmf_ntu120_xsub.py with the xset
# splits.
_base_ = './tsmf_ntu120_xsub.py'
train_dataloader = dict(dataset=dict(split='xset_train'))
val_dataloader = dict(dataset=dict(split='xset_val'))
test_dataloader = val_dataloader
