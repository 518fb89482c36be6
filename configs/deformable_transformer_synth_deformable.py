# Table 4 (paper 004) row 2 in miniature: the 3D deformable attention alone
# (joint and temporal stride attention eliminated). The pose tokens then
# reach no output: the joint tokenizer is unused (DDP must be told).
_base_ = ['./deformable_transformer_synth.py']
model = dict(neck=dict(joint_attention='off', temporal_attention='off'))
model_wrapper_cfg = dict(type='MMDistributedDataParallel',
                         find_unused_parameters=True)
