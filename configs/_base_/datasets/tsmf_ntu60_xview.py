# NTU RGB+D 60 cross-view (train cameras 2, 3; test camera 1) for TSMF: the
# samples of ./tsmf_ntu60_xsub.py with the xview splits.
_base_ = './tsmf_ntu60_xsub.py'
train_dataloader = dict(dataset=dict(split='xview_train'))
val_dataloader = dict(dataset=dict(split='xview_val'))
test_dataloader = val_dataloader
