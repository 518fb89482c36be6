# Per-stream classifiers of M-Mixer (paper 000, eq. 22-23, Table III), NTU60
# xsub R+D, ResNet-18: one bias-free FC per stream on its final hidden state
# h^i_T, trained with L = L^1 + L^2 "while the whole weights of M-Mixer
# network are fixed" (frozen_modules: no gradients, BatchNorm statistics
# kept). Starts from a trained M-Mixer (model.init_cfg.checkpoint; not
# load_from, which --resume would resume from; Table III uses the
# conference model: pass the checkpoint of
# ./m_mixer_ntu60_xsub_rgb-depth_r18_mcu-only.py together with
# "model.neck.content=pool"). Schedule: ours (the paper gives none), 10
# epochs of the base optimiser, lr x0.1 after 5.
# Test one stream: --cfg-options "model.neck.stream_outputs=['rgb']".
_base_ = ['./m_mixer_ntu60_xsub_rgb-depth_r18.py']
m_mixer_checkpoint = 'work_dirs/m_mixer_ntu60_xsub_rgb-depth_r18/epoch_60.pth'
model = dict(
    init_cfg=dict(type='Pretrained', checkpoint=m_mixer_checkpoint),
    frozen_modules=('backbone', 'neck'),
    neck=dict(stream_outputs=_base_.modalities),
    cls_head=dict(modalities=_base_.modalities, bias=False,
                  loss_per_modality=True))
max_epochs = 10
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='StepLR', step_size=5, gamma=0.1, by_epoch=True, begin=0,
         end=max_epochs)
]
