# EPAM-Net stage 1, pose stream, on PKU-MMD cross-view (the cameras
# Split/cross-view.txt lists): configs/epam_net_ntu120_pose.py (pipeline,
# schedule, batch) on other data (configs/_base_/epam_net_pku_mmd_xview.py).
# The annotation (data_prep.pku_mmd.build_annotations, then
# data_prep.pose_extraction): configs/_base_/epam_net_pku_mmd_xsub.py.
_base_ = ['./_base_/epam_net_pku_mmd_xview.py', './_base_/epam_net_pose.py']
modalities = ('pose', )
model = dict(cls_head=dict(num_classes=_base_.num_classes))
train_dataloader = _base_.pose_train_loader
test_dataloader = val_dataloader = _base_.pose_test_loader
