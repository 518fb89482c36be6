# Table IV "MCU + multi-modal feature bank" (paper 000): the pooled
# cross-modal content of eq. 21 instead of CFEM, the bank kept; synthetic
# R+D setting of ./m_mixer_synth_rgb-depth.py.
_base_ = ['./m_mixer_synth_rgb-depth.py']
model = dict(neck=dict(content='pool'))
