# Paper 001 §2 on the embedded synthetic dataset: uni-modal depth.
_base_ = ['./_base_/stfusion_synth.py']
modalities = ('depth',)
model = dict(modalities=modalities, cls_head=dict(type='SumFusionHead'))
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = dict(dataset=dict(modalities=modalities))
test_dataloader = dict(dataset=dict(modalities=modalities))
