# M-Mixer (paper 000) on NTU RGB+D 120 cross-subject (Table VIII) at the
# recipe of ./m_mixer_ntu60_xsub.py.
_base_ = [
    './models/m_mixer.py', './datasets/m_mixer_ntu120_xsub_rgbdi.py',
    './schedules/adam_step30.py', './default_runtime.py'
]
model = dict(cls_head=dict(num_classes=120))
