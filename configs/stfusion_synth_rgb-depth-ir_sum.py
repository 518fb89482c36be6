# Paper 001 §2 on the embedded synthetic dataset: rgb-depth-ir with sum fusion.
_base_ = ['./_base_/stfusion_synth.py']
modalities = ('rgb', 'depth', 'ir',)
model = dict(modalities=modalities, cls_head=dict(type='SumFusionHead'))
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = dict(dataset=dict(modalities=modalities))
test_dataloader = dict(dataset=dict(modalities=modalities))
