# Per-stream classifiers of M-Mixer (paper 000, eq. 22-23, Table III) on the
# synthetic R+D setting: one bias-free FC per stream on its final hidden
# state h^i_T, trained with L = L^1 + L^2 "while the whole weights of M-Mixer
# network are fixed" (frozen_modules: no gradients, BatchNorm statistics
# kept). Starts from the trained M-Mixer of ./m_mixer_synth_rgb-depth.py
# (model.init_cfg; another one with --cfg-options
# model.init_cfg.checkpoint=...; not load_from, which --resume would take as
# the checkpoint to resume). Schedule: ours (the paper gives none): 5 epochs
# at the base optimiser and lr.
# Test one stream: --cfg-options "model.neck.stream_outputs=['rgb']".
_base_ = ['./m_mixer_synth_rgb-depth.py']
m_mixer_checkpoint = 'work_dirs/m_mixer_synth_rgb-depth/epoch_15.pth'
model = dict(
    init_cfg=dict(type='Pretrained', checkpoint=m_mixer_checkpoint),
    frozen_modules=('backbone', 'neck'),
    neck=dict(stream_outputs=_base_.modalities),
    cls_head=dict(modalities=_base_.modalities, bias=False,
                  loss_per_modality=True))
max_epochs = 5
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5,
         by_epoch=True, begin=0, end=max_epochs)
]
default_hooks = dict(checkpoint=dict(interval=max_epochs))
