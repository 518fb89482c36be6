# ActionMAE (paper 001 §3) trained on RGB + depth, NTU RGB+D 120 cross-subject.
_base_ = ['./_base_/actionmae_ntu120_xsub.py']
modalities = ('rgb', 'depth')
model = dict(modalities=modalities)
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = test_dataloader = dict(dataset=dict(modalities=modalities))
