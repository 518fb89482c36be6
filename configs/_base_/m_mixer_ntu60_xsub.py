# M-Mixer (paper 000) on NTU RGB+D 60 cross-subject at §IV-B's recipe:
# ResNet34 per frame + MMixer neck (./models/m_mixer.py), T = 12 frames with
# temporal stride 8, 224x224 (./datasets/m_mixer_ntu60_xsub_rgbdi.py), Adam
# lr 1e-4, batch 8 GPUs x 4 = 32 (./schedules/adam_step30.py).
_base_ = [
    './models/m_mixer.py', './datasets/m_mixer_ntu60_xsub_rgbdi.py',
    './schedules/adam_step30.py', './default_runtime.py'
]
model = dict(cls_head=dict(num_classes=60))
