# Paper 001 §2: rgb-depth with sum fusion, ResNet34 + Transformer, NTU60 cross-subject.
_base_ = ['./_base_/stfusion_ntu60_xsub.py']
modalities = ('rgb', 'depth',)
model = dict(modalities=modalities, cls_head=dict(type='SumFusionHead'))
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = dict(dataset=dict(modalities=modalities))
test_dataloader = dict(dataset=dict(modalities=modalities))
