# M-Mixer's conference model (paper 000, §IV-C, Tables I-III: 90.77%;
# Table IV first row), NTU60 xsub R+D, ResNet-18: MCU with the pooled
# content of the other modalities (eq. 21) instead of CFEM and the
# concatenation of the streams' last hidden states instead of the feature
# bank (one FC on ||_m h^m_T = a SumFusionHead over the streams).
# Table I / II variants on top of it: see the README (M-Mixer ablations).
_base_ = ['./m_mixer_ntu60_xsub_rgb-depth_r18.py']
model = dict(
    neck=dict(content='pool', fusion='concat'),
    cls_head=dict(modalities=_base_.modalities))
