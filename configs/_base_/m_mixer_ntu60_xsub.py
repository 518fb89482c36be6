# M-Mixer (paper 000) on NTU RGB+D 60 cross-subject at §IV-B's recipe:
# ResNet34 per frame + MMixer neck (./models/m_mixer.py), T = 12 frames with
# temporal stride 8, 224x224 (./datasets/m_mixer_pipelines.py on the NTU60
# dataset of ./datasets/ntu60_xsub_rgbdi.py), Adam lr 1e-4, batch 8 GPUs x 4
# = 32 (./schedules/adam_step30.py).
_base_ = [
    './models/m_mixer.py', './datasets/ntu60_xsub_rgbdi.py',
    './datasets/m_mixer_pipelines.py', './schedules/adam_step30.py',
    './default_runtime.py'
]
clip_len = 12
model = dict(cls_head=dict(num_classes=60))
train_dataloader = dict(dataset=dict(pipeline=_base_.m_mixer_train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=_base_.m_mixer_test_pipeline))
test_dataloader = val_dataloader
