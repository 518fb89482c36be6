# Cross-modal 3D deformable transformer (paper 004, §3, Fig. 2) on RGB + 2D
# pose: R(2+1)D-18 from scratch gives F_a (64 x T x H/2 x W/2) and F_b
# (256 x T x H/8 x W/8); the neck tokenizes the joints on F_a (eq. 1-2),
# adds the position embedding to F_b and runs L = 4 blocks of 3D deformable
# (k = 7), joint stride and temporal stride (w_t = 4, s_t = 2) attention with
# the cross-modal tokens; the head averages the last [M_RGB || M_pose ||
# M_CLS] (12C = 768 channels) over T and classifies (MMAction2's I3DHead,
# one cross-entropy). The pose "encoder" passes the joint coordinates
# (JointCoordinates -> pose_imgs, [clips, T, J, 3]) to the neck.
model = dict(
    type='MultiModalRecognizer',
    backbone=dict(
        rgb=dict(type='ResNet2Plus1dMaps', depth=18),
        pose=dict(type='PassThroughEncoder')),
    neck=dict(
        type='CrossModalDeformableTransformer',
        in_channels=(64, 256),
        token_shape=(12, 28, 28),   # 12 frames of 224 x 224
        num_layers=4, num_heads=8, ffn_ratio=4., drop_rate=0.,
        kernel_size=7, temporal_window=4, temporal_stride=2,
        joint_window=None, joint_stride=None,  # all R joints, ceil(R/2)
        sigma=1., modal_tokens='cross_modal',
        deformable='on', joint_attention='on', temporal_attention='on'),
    cls_head=dict(
        type='I3DHead', num_classes=60, in_channels=768, dropout_ratio=0.,
        average_clips='prob'),
    data_preprocessor=dict(
        type='MultiModalDataPreprocessor',
        preprocessors=dict(
            rgb_imgs=dict(
                type='ActionDataPreprocessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                format_shape='NCTHW'),
            # joint coordinates (x, y, valid) in F_a cells, stacked as is
            pose_imgs=dict(type='ActionDataPreprocessor',
                           format_shape='NCTHW'))))
