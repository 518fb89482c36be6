# EPAM-Net stage 1, pose stream (./epam_net_pose.py) with the backbone
# started from the NTU RGB+D 120 stage-1 pose model
# (configs/epam_net_ntu120_pose.py), the FC new: the paper pretrains both
# X-ShiftNets on NTU RGB+D 120 for Toyota Smarthome (§4.2) and gives no other
# schedule, so the stage-1 one is kept. Other checkpoint:
#   --cfg-options model.backbone.pose.init_cfg.checkpoint=NTU120_POSE.pth
_base_ = './epam_net_pose.py'
ntu120_checkpoint = 'work_dirs/epam_net_ntu120_pose/epoch_240.pth'
model = dict(backbone=dict(pose=dict(init_cfg=dict(
    type='Pretrained', checkpoint=ntu120_checkpoint,
    prefix='backbone.pose.'))))
