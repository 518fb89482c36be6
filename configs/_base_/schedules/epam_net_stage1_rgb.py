# EPAM-Net stage 1, RGB stream (seed 002, §4.2): SGD with momentum 0.9,
# lr 0.05, batch 64, 200 epochs, cosine annealing.
#
# Not stated in the paper (MMAction2's RGBPoseConv3D configs, the two-stream
# RGB + pose model that EPAM-Net's two-stage training follows,
# configs/skeleton/posec3d/rgbpose_conv3d/rgb_only.py): weight decay 1e-4
# and gradient clipping at norm 40; the cosine schedule anneals to 0 and is
# updated every iteration (PoseC3D's CosineAnnealingLR setting).
max_epochs = 200
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_begin=1, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True)
]
# The paper's batch of 64 = 8 GPUs x 8 clips (the configs' batch_size). On
# another number of GPUs add --auto-scale-lr (tools/train.py) to scale lr
# linearly with the total batch.
auto_scale_lr = dict(enable=False, base_batch_size=64)
