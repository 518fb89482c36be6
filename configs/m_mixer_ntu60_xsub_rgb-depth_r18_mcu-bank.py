# Table IV "MCU + multi-modal feature bank" (paper 000: 91.31%), NTU60 xsub
# R+D, ResNet-18: the pooled cross-modal content of eq. 21 instead of CFEM.
_base_ = ['./m_mixer_ntu60_xsub_rgb-depth_r18.py']
model = dict(neck=dict(content='pool'))
