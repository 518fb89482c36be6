# Paper 004, §4 "Settings": AdamW, 90 epochs, cosine schedule after a 5-epoch
# warm-up, 4 GPUs with APEX (here: --amp). Silent, ours (MMAction2's Swin
# recipe): lr 1e-3, weight decay 0.02, gradient clipping at 40, batch 8 per
# GPU x 4.
max_epochs, warmup_epochs = 90, 5
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999),
                   weight_decay=0.02),
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs,
         eta_min=0, by_epoch=True, begin=warmup_epochs, end=max_epochs,
         convert_to_iter_based=True)
]
auto_scale_lr = dict(enable=False, base_batch_size=32)
