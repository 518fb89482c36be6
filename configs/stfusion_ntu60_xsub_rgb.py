# Paper 001 §2, Table 6: uni-modal rgb baseline ("w/ Transformer-fusion"), ResNet34 + Transformer, NTU60 cross-subject.
_base_ = ['./_base_/stfusion_ntu60_xsub.py']
modalities = ('rgb',)
model = dict(modalities=modalities, cls_head=dict(type='TransformerFusionHead'))
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = dict(dataset=dict(modalities=modalities))
test_dataloader = dict(dataset=dict(modalities=modalities))
