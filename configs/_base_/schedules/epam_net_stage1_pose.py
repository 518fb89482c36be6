# EPAM-Net stage 1, pose stream (seed 002, §4.2): SGD with momentum 0.9,
# lr 0.0375, batch 96, 240 epochs, cosine annealing.
#
# Not stated in the paper (MMAction2's PoseC3D / RGBPoseConv3D pose configs,
# configs/skeleton/posec3d/rgbpose_conv3d/pose_only.py and
# slowonly_r50_8xb16-u48-240e_ntu60-xsub-keypoint.py): weight decay 3e-4 and
# gradient clipping at norm 40; cosine to 0, updated every iteration.
_base_ = './epam_net_stage1_rgb.py'
max_epochs = 240
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.0375, weight_decay=3e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True)
]
# The paper's batch of 96 = 8 GPUs x 12 clips; --auto-scale-lr elsewhere.
auto_scale_lr = dict(enable=False, base_batch_size=96)
