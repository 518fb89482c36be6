# Space-time encoder + fusion baseline (paper 001 §2): per modality, an
# ImageNet-initialised ResNet34 on every frame (eq. 1, 512-d after global
# average pooling) and a 2-layer Transformer time encoder with a class token
# and fixed sinusoidal positions (eqs. 2-4); the modality tokens are fused by
# the head (§2.3). Child configs choose `modalities` and the head type.
encoder = dict(
    type='SpaceTimeEncoder',
    space_encoder=dict(
        type='ResNet', depth=34, pretrained='torchvision://resnet34',
        norm_eval=False),
    time_encoder=dict(
        type='TokenTransformer', embed_dims=512, num_layers=2, num_heads=8,
        feedforward_channels=2048, with_cls_token=True))

imagenet_norm = dict(
    type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375], format_shape='NCTHW')

model = dict(
    type='MultiModalRecognizer',
    modalities=('rgb', 'depth', 'ir'),
    backbone=dict(rgb=encoder, depth=encoder, ir=encoder),
    cls_head=dict(
        type='SumFusionHead',
        num_classes=60,
        in_channels=512,
        loss_cls=dict(type='CrossEntropyLoss'),
        label_smooth_eps=0.1,  # label smoothing 0.1 (§2.2, Table 3)
        average_clips='prob'),
    # depth and IR arrive as jet-coloured uint8 images (DepthToJet), so the
    # ImageNet statistics of the initialisation apply to all three.
    data_preprocessor=dict(
        type='MultiModalDataPreprocessor',
        preprocessors=dict(
            rgb_imgs=imagenet_norm, depth_imgs=imagenet_norm,
            ir_imgs=imagenet_norm)))
