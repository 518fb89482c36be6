# Table 4 (paper 004) row 4 in miniature: 3D deformable + joint stride
# attention (temporal stride attention eliminated).
_base_ = ['./deformable_transformer_synth.py']
model = dict(neck=dict(temporal_attention='off'))
