# EPAM-Net stage 1, RGB stream, on NTU RGB+D 60 cross-view (cameras 2 and 3
# train, camera 1 tests): configs/epam_net_ntu120_rgb.py (pipeline, schedule,
# batch) on other data (configs/_base_/epam_net_ntu60_xview.py).
_base_ = ['./_base_/epam_net_ntu60_xview.py', './_base_/epam_net_rgb.py']
model = dict(cls_head=dict(num_classes=_base_.num_classes))
train_dataloader = _base_.rgb_train_loader
test_dataloader = val_dataloader = _base_.rgb_test_loader
