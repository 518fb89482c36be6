# Table 4 (paper 004) row 1 in miniature: joint + temporal stride attention,
# the 3D deformable attention eliminated (§4.3). Base: ./deformable_transformer_synth.py.
_base_ = ['./deformable_transformer_synth.py']
model = dict(neck=dict(deformable='off'))
