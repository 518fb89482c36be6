# EPAM-Net on NTU RGB+D 60 cross-view (cameras 2 and 3 train, camera 1
# tests): ./epam_net_ntu60_xsub.py with the xview splits.
_base_ = './epam_net_ntu60_xsub.py'
train_dataloader = dict(dataset=dict(split='xview_train'))
test_dataloader = val_dataloader = dict(dataset=dict(split='xview_val'))
