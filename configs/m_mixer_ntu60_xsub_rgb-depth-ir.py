# M-Mixer (paper 000, Table VII: 93.16%) trained on RGB + depth + IR, NTU
# RGB+D 60 cross-subject: ResNet34 per modality, d_h = 588 for three
# modalities (§IV-B; CFEM with 4 heads, see ./_base_/models/m_mixer.py).
_base_ = ['./_base_/m_mixer_ntu60_xsub.py']
modalities = ('rgb', 'depth', 'ir')
model = dict(modalities=modalities, **_base_.m_mixer_three_modalities)
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = test_dataloader = dict(dataset=dict(modalities=modalities))
