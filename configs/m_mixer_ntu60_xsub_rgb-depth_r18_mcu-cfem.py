# Table IV "CFEM + MCU" (paper 000: 91.41%), NTU60 xsub R+D, ResNet-18: the
# concatenation of the streams' last hidden states instead of the bank
# (Table VI "Concatenation": 91.07%).
_base_ = ['./m_mixer_ntu60_xsub_rgb-depth_r18.py']
model = dict(
    neck=dict(fusion='concat'), cls_head=dict(modalities=_base_.modalities))
