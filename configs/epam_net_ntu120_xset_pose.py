# EPAM-Net stage 1, pose stream, on NTU RGB+D 120 cross-setup (even setup IDs
# train, odd ones test): configs/epam_net_ntu120_pose.py (pipeline, schedule,
# batch) on other data (configs/_base_/epam_net_ntu120_xset.py).
_base_ = ['./_base_/epam_net_ntu120_xset.py', './_base_/epam_net_pose.py']
modalities = ('pose', )
model = dict(cls_head=dict(num_classes=_base_.num_classes))
train_dataloader = _base_.pose_train_loader
test_dataloader = val_dataloader = _base_.pose_test_loader
