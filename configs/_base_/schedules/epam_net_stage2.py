# EPAM-Net stage 2 (seed 002, §4.2): the whole two-stream network with the
# attention block, started from the two stage-1 models; SGD with momentum
# 0.9, lr 0.001, batch 24, 10 epochs, cosine annealing; loss = sum of the
# two streams' cross-entropies.
#
# Not stated in the paper (MMAction2's fused RGBPoseConv3D config,
# configs/skeleton/posec3d/rgbpose_conv3d/rgbpose_conv3d.py): weight decay
# 1e-4 and gradient clipping at norm 40; cosine to 0, updated every
# iteration.
_base_ = './epam_net_stage1_rgb.py'
max_epochs = 10
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
optim_wrapper = dict(optimizer=dict(lr=0.001, weight_decay=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True)
]
# The paper's batch of 24 (2 GPUs x 12) kept on 8 GPUs as 8 x 3 clips, at the
# paper's lr; --auto-scale-lr scales lr linearly on another total batch.
auto_scale_lr = dict(enable=False, base_batch_size=24)
