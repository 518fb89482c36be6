# Cross-modal 3D deformable transformer (paper 004) on ntu120_xset, from scratch
# (paper, Table 1: 91.4 top-1): R(2+1)D-18, L = 4 blocks, 12 frames of 224 x 224,
# AdamW 90 epochs. ./_base_/models/deformable_transformer.py has the model,
# ./_base_/datasets/deformable_transformer_ntu120_xset.py the data.
_base_ = [
    './_base_/models/deformable_transformer.py',
    './_base_/datasets/deformable_transformer_ntu120_xset.py',
    './_base_/schedules/adamw_cosine_90e.py', './_base_/default_runtime.py'
]
model = dict(cls_head=dict(num_classes=120))
