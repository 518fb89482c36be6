# TSMF (paper 003, Implementation Details), both stages: SGD, lr 0.1, x0.1
# at epochs 10 and 50, 80 epochs, batch 64 (4 GPUs). Not stated, from the
# authors' code: momentum 0.9, Nesterov, weight decay 1e-4. Here 8 GPUs x 8
# clips = 64; --auto-scale-lr for another total batch.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=80, val_begin=1,
                 val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, nesterov=True,
                   weight_decay=1e-4))
param_scheduler = [
    dict(type='MultiStepLR', milestones=[10, 50], gamma=0.1, by_epoch=True,
         begin=0, end=80)
]
auto_scale_lr = dict(enable=False, base_batch_size=64)
