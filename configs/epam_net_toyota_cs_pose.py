# EPAM-Net stage 1, pose stream, on Toyota Smarthome cross-subject (CS):
# configs/epam_net_ntu120_pose.py (pipeline, schedule, batch) on other data
# (configs/_base_/epam_net_toyota_cs.py), the backbone started from the NTU120
# stage-1 pose model, the 31-class FC new, as in the paper
# (configs/_base_/epam_net_pose_ntu120.py). Other checkpoint:
#   --cfg-options model.backbone.pose.init_cfg.checkpoint=NTU120_POSE.pth
# Annotation: data/toyota_smarthome_cs.pkl from
# python -m data_prep.toyota_smarthome.build_annotations (see
# configs/_base_/epam_net_toyota_cs.py).
_base_ = ['./_base_/epam_net_toyota_cs.py', './_base_/epam_net_pose_ntu120.py']
modalities = ('pose', )
model = dict(cls_head=dict(num_classes=_base_.num_classes))
train_dataloader = _base_.pose_train_loader
test_dataloader = val_dataloader = _base_.pose_test_loader
