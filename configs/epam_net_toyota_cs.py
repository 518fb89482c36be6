# EPAM-Net stage 2 on Toyota Smarthome cross-subject (CS):
# configs/epam_net_ntu120.py (pipeline, schedule, 3 clips x 8 GPUs = 24) on
# other data (configs/_base_/epam_net_toyota_cs.py), each stream (backbone and
# FC) started from its stage-1 model (configs/epam_net_toyota_cs_rgb.py,
# configs/epam_net_toyota_cs_pose.py).
# Other checkpoints:
#   --cfg-options model.stream_checkpoints.rgb=RGB.pth \
#       model.stream_checkpoints.pose=POSE.pth
# Annotation: data/toyota_smarthome_cs.pkl from
# python -m data_prep.toyota_smarthome.build_annotations (see
# configs/_base_/epam_net_toyota_cs.py).
_base_ = ['./_base_/epam_net_toyota_cs.py', './_base_/epam_net_stage2.py']
rgb_checkpoint = 'work_dirs/epam_net_toyota_cs_rgb/epoch_200.pth'
pose_checkpoint = 'work_dirs/epam_net_toyota_cs_pose/epoch_240.pth'
model = dict(stream_checkpoints=dict(rgb=rgb_checkpoint, pose=pose_checkpoint),
             cls_head=dict(num_classes=_base_.num_classes))
