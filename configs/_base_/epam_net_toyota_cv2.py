# EPAM-Net on Toyota Smarthome cross-view 2 (CV2): ./epam_net_toyota_cs.py
# with the cv2 splits.
_base_ = './epam_net_toyota_cs.py'
train_dataloader = dict(dataset=dict(split='cv2_train'))
test_dataloader = val_dataloader = dict(dataset=dict(split='cv2_val'))
