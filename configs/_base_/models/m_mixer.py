# Modality Mixer (M-Mixer, paper 000 §III, Fig. 2; settings of §IV-B): per
# modality an ImageNet-initialised ResNet34 applied to every frame that keeps
# its 7x7 maps (SpaceTimeEncoder(time_encoder=None, spatial_pool=False):
# [N, 512, T, 7, 7]), then the MMixer neck -- frame-wise 1x1 conv d_f=512 ->
# d_h, CFEM (4x1x1 stride-2 encoding convs, eq. 19-20), one MCU per modality
# and the K=8 multi-modal feature bank (eq. 4-8) -- and one FC on the bank's
# read h_T (eq. 9, SumFusionHead over the single 'mixed' token).
# Inherits the space encoders (ResNet34, torchvision ImageNet weights,
# norm_eval=False) and the ImageNet-normalising data preprocessor of rgb /
# depth / ir (depth and IR are jet-coloured, DepthToJet) from the fusion
# baselines (./stfusion_r34.py); their Transformer time encoder is removed.
# The paper does not mention label smoothing: plain cross-entropy here.
# Children pick `model.modalities` (the recognizer keeps only those
# encoders; the neck and head follow) and merge the switches below.
_base_ = './stfusion_r34.py'

frame_maps = dict(time_encoder=None, spatial_pool=False)
d_h = 512  # hidden size of the MCUs, two modalities (§IV-B)
model = dict(
    backbone=dict(rgb=frame_maps, depth=frame_maps, ir=frame_maps),
    neck=dict(
        type='MMixer', embed_dims=d_h, in_channels=512, content='cfem',
        fusion='bank', num_slots=8),
    cls_head=dict(
        type='SumFusionHead', modalities=('mixed', ), in_channels=d_h,
        num_classes=60, loss_cls=dict(type='CrossEntropyLoss'),
        label_smooth_eps=0., average_clips='prob'))

# Switches a child merges into its `model` (old-style configs cannot
# re-evaluate this file with another variable), e.g.
#   model = dict(modalities=('rgb', 'depth'), **_base_.m_mixer_resnet18)
# ResNet-18 feature extractors (NTU R18 rows of Tables VII-VIII, NW-UCLA):
resnet18 = dict(
    space_encoder=dict(depth=18, pretrained='torchvision://resnet18'))
m_mixer_resnet18 = dict(
    backbone=dict(rgb=resnet18, depth=resnet18, ir=resnet18))
# three modalities: d_h = 588 (§IV-B); 588 is not divisible by CFEM's 8
# heads, hence 4 heads (147 channels each) -- our choice, the paper does
# not give the number of heads.
d_h_3 = 588
m_mixer_three_modalities = dict(
    neck=dict(embed_dims=d_h_3, cfem=dict(num_heads=4)),
    cls_head=dict(in_channels=d_h_3))
