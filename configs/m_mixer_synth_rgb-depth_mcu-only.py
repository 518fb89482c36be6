# M-Mixer's conference model (paper 000, Tables I-IV first row "MCU"): MCU
# with the spatio-temporally pooled content of the other modalities (eq. 21)
# instead of CFEM, and the concatenation of the streams' last hidden states
# instead of the feature bank (one FC on ||_m h^m_T = a SumFusionHead over
# the streams), on the synthetic R+D setting of ./m_mixer_synth_rgb-depth.py.
_base_ = ['./m_mixer_synth_rgb-depth.py']
model = dict(
    neck=dict(content='pool', fusion='concat'),
    cls_head=dict(modalities=_base_.modalities))
