# Paper 001 §4.1: AdamW, lr 1e-4, weight decay 1e-4, batch size 32, the
# learning rate "decayed by a factor of 10 every 30 epochs". The total number
# of epochs is not stated; 60 is our choice (one decay).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60, val_begin=1,
                 val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    clip_grad=None)
param_scheduler = [
    dict(type='StepLR', step_size=30, gamma=0.1, by_epoch=True, begin=0,
         end=60)
]
# 8 GPUs x 4 clips = the paper's batch of 32; scale lr with --auto-scale-lr.
auto_scale_lr = dict(enable=False, base_batch_size=32)
