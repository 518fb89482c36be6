# Space-time fusion baselines on the embedded synthetic dataset: the paper's
# architecture with ResNet18 trained from scratch (no downloads here), a
# shorter schedule and a larger learning rate; minutes on a 2-core CPU.
_base_ = [
    './models/stfusion_r34.py', './datasets/synthetic_ntu_rgbdi.py',
    './schedules/adamw_step30.py', './default_runtime.py'
]
encoder = dict(space_encoder=dict(depth=18, pretrained=None))
model = dict(
    backbone=dict(rgb=encoder, depth=encoder, ir=encoder),
    cls_head=dict(num_classes=12))
max_epochs = 15
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=3e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=1e-5,
         by_epoch=True, begin=1, end=max_epochs)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, save_best=None, max_keep_ckpts=1))
randomness = dict(seed=0)
