# TSMF on the embedded synthetic dataset, CPU size: the paper's models
# (./models/tsmf.py) with 12 classes and no ImageNet weights (no downloads
# here), the data of ./datasets/tsmf_synth.py, the paper's SGD with a shorter
# schedule (15 epochs, x0.1 at 10) and its lr 0.1 for a batch of 64 scaled to
# the batch of 8 (linear scaling rule: 0.0125) -- at lr 0.1 the teacher did
# not learn (train loss 2.1 ~ chance after 15 epochs, seed 0).
_base_ = [
    './models/tsmf.py', './datasets/tsmf_synth.py',
    './schedules/tsmf_sgd_80e.py', './default_runtime.py'
]
tsmf_teacher = dict(_base_.tsmf_teacher, cls_head=dict(
    _base_.tsmf_teacher['cls_head'], num_classes=12))
model = dict(
    teacher=tsmf_teacher,
    backbone=dict(pretrained=None),
    cls_head=dict(num_classes=12),
    teacher_checkpoint='work_dirs/tsmf_synth_teacher/epoch_15.pth')
optim_wrapper = dict(optimizer=dict(lr=0.1 * 8 / 64))
max_epochs = 15
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='MultiStepLR', milestones=[10], gamma=0.1, by_epoch=True,
         begin=0, end=max_epochs)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, save_best=None, max_keep_ckpts=1))
randomness = dict(seed=0)
