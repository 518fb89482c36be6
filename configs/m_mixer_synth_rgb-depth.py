# M-Mixer (paper 000) on the embedded synthetic dataset, R+D, CPU size: the
# fusion baselines' synthetic setting (./_base_/stfusion_synth.py: ResNet18
# from scratch on 8 frames of 64x64, AdamW, 15 epochs) with each encoder
# keeping its per-frame 2x2 maps (SpaceTimeEncoder(time_encoder=None,
# spatial_pool=False)), the MMixer neck (1x1 conv to d_h = 512, CFEM, one
# MCU per modality, the 8-slot feature bank) and one FC on the bank's read
# (eq. 9). CFEM's encoding convolutions use the Table V caption's 2x1x1
# kernel here: the paper's 4x1x1 (stride 2, unpadded) needs >= 10 frames.
_base_ = ['./_base_/stfusion_synth.py']
modalities = ('rgb', 'depth')
d_h = 512
frame_maps = dict(time_encoder=None, spatial_pool=False)
model = dict(
    modalities=modalities,
    backbone=dict(rgb=frame_maps, depth=frame_maps),
    neck=dict(
        type='MMixer', embed_dims=d_h, in_channels=512,
        cfem=dict(kernel_size=(2, 1, 1), num_tokens=4)),
    cls_head=dict(type='SumFusionHead', modalities=('mixed', ),
                  in_channels=d_h))
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = test_dataloader = dict(dataset=dict(modalities=modalities))
