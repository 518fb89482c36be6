# Table IV "CFEM + MCU" (paper 000): CFEM kept, the concatenation of the
# streams' last hidden states instead of the feature bank; synthetic R+D
# setting of ./m_mixer_synth_rgb-depth.py.
_base_ = ['./m_mixer_synth_rgb-depth.py']
model = dict(
    neck=dict(fusion='concat'), cls_head=dict(modalities=_base_.modalities))
