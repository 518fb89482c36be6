# EPAM-Net stage 1, RGB stream, on PKU-MMD cross-subject (57 training subjects,
# 9 test): configs/epam_net_ntu120_rgb.py (pipeline, schedule, batch) on other
# data (configs/_base_/epam_net_pku_mmd_xsub.py).
# The annotation (data_prep.pku_mmd.build_annotations, then
# data_prep.pose_extraction): configs/_base_/epam_net_pku_mmd_xsub.py.
_base_ = ['./_base_/epam_net_pku_mmd_xsub.py', './_base_/epam_net_rgb.py']
model = dict(cls_head=dict(num_classes=_base_.num_classes))
train_dataloader = _base_.rgb_train_loader
test_dataloader = val_dataloader = _base_.rgb_test_loader
