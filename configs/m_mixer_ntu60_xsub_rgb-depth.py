# M-Mixer (paper 000, Table VII: 92.54%) trained on RGB + depth, NTU RGB+D 60
# cross-subject: ResNet34 per modality, d_h = 512 (§IV-B).
_base_ = ['./_base_/m_mixer_ntu60_xsub.py']
modalities = ('rgb', 'depth')
model = dict(modalities=modalities)
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = test_dataloader = dict(dataset=dict(modalities=modalities))
