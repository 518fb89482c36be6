# M-Mixer (paper 000) on NTU RGB+D 120 cross-subject (Table VIII) at the
# recipe of ./m_mixer_ntu60_xsub.py.
_base_ = [
    './models/m_mixer.py', './datasets/ntu120_xsub_rgbdi.py',
    './datasets/m_mixer_pipelines.py', './schedules/adam_step30.py',
    './default_runtime.py'
]
clip_len = 12
model = dict(cls_head=dict(num_classes=120))
train_dataloader = dict(dataset=dict(pipeline=_base_.m_mixer_train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=_base_.m_mixer_test_pipeline))
test_dataloader = val_dataloader
