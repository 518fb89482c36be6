# Table 4 (paper 004) row 3 in miniature: 3D deformable + temporal stride
# attention (joint stride attention eliminated).
_base_ = ['./deformable_transformer_synth.py']
model = dict(neck=dict(joint_attention='off'))
