# M-Mixer (paper 000, Table VII: 91.94%; the setting of the ablations,
# §IV-C/D) trained on RGB + depth, NTU RGB+D 60 cross-subject: ResNet-18
# per modality, d_h = 512 (§IV-B).
_base_ = ['./_base_/m_mixer_ntu60_xsub.py']
modalities = ('rgb', 'depth')
model = dict(modalities=modalities, **_base_.m_mixer_resnet18)
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = test_dataloader = dict(dataset=dict(modalities=modalities))
