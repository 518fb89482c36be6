# M-Mixer's optimisation (paper 000 §IV-B): Adam, initial learning rate
# 1e-4, 4 GPUs x 8 clips = batch 32 (NW-UCLA: one GPU, batch 8).
# Our choices (not stated in the paper): no weight decay; 60 epochs with
# the learning rate x0.1 at epoch 30 (the step schedule the same authors
# state in their ActionMAE paper, 001 §4.1: /10 every 30 epochs);
# validation every 5 epochs. The datasets load 4 clips per GPU, so the
# project's `tools/dist_train.sh CONFIG 8` gives the paper's 32; to scale
# the lr to another total batch use --auto-scale-lr.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60, val_begin=1,
                 val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=0.),
    clip_grad=None)
param_scheduler = [
    dict(type='StepLR', step_size=30, gamma=0.1, by_epoch=True, begin=0,
         end=60)
]
auto_scale_lr = dict(enable=False, base_batch_size=32)
