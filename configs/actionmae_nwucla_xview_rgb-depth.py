# ActionMAE (paper 001 §3, Table 6) trained on RGB + depth, NW-UCLA cross-view (V1 + V2 -> V3),
# at the NTU recipe (./_base_/actionmae_ntu60_xsub.py).
_base_ = [
    './_base_/models/stfusion_r34.py', './_base_/models/actionmae.py',
    './_base_/datasets/nwucla_xview_rgbd.py', './_base_/schedules/adamw_step30.py',
    './_base_/default_runtime.py'
]
model = dict(
    modalities=_base_.modalities, neck=_base_.actionmae_model['neck'],
    cls_head=dict(type='TransformerFusionHead', num_classes=10))
