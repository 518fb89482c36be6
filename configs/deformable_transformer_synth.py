# The cross-modal 3D deformable transformer (paper 004) on the embedded
# synthetic dataset, CPU size: widths / 4 (C = 16, 4C = 64), 8 frames of
# 64 x 64 (tokens 8 x 8 x 8), k = 3, L = 2 blocks of 4 heads, the paper's
# optimiser with 15 epochs (1 of warm-up). Table 4 / 5 variants:
# configs/deformable_transformer_synth_*.py.
_base_ = [
    './_base_/models/deformable_transformer.py',
    './_base_/datasets/deformable_transformer_synth.py',
    './_base_/schedules/adamw_cosine_90e.py', './_base_/default_runtime.py'
]
model = dict(
    backbone=dict(rgb=dict(base_channels=16)),
    neck=dict(in_channels=(16, 64), token_shape=(8, 8, 8), num_layers=2,
              num_heads=4, kernel_size=3),
    cls_head=dict(num_classes=12, in_channels=3 * 64))
max_epochs, warmup_epochs = 15, 1
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
warmup, cosine = _base_.param_scheduler
param_scheduler = [
    dict(warmup, end=warmup_epochs),
    dict(cosine, T_max=max_epochs - warmup_epochs, begin=warmup_epochs,
         end=max_epochs)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, save_best=None, max_keep_ckpts=1))
randomness = dict(seed=0)
