# EPAM-Net on PKU-MMD cross-view: ./epam_net_pku_mmd_xsub.py with the xview
# splits, i.e. the cameras Split/cross-view.txt lists (the paper says left
# for testing; MMNet / TSMF's test lists are the centre camera: the file
# decides).
_base_ = './epam_net_pku_mmd_xsub.py'
train_dataloader = dict(dataset=dict(split='xview_train'))
test_dataloader = val_dataloader = dict(dataset=dict(split='xview_val'))
