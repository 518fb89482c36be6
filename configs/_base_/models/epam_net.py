# EPAM-Net (seed 002, §3, Table 2): an RGB X-ShiftNet on 16 skeleton-box
# cropped frames of 224x224 and a pose X-ShiftNet on 48 pseudo-heatmap frames
# of 56x56 (17 COCO joints), both ending at 7x7; the pose stream's maps guide
# the RGB stream's through the spatial-temporal attention block (107
# parameters, eqs. (2)-(4)); one GAP + FC classifier per stream; loss = sum of
# the two cross-entropies, test score = sum of the two streams' logits (§4.2).
# Stage-1 configs keep one stream (`modalities=('rgb', )` / `('pose', )`,
# no neck); the stage-2 config keeps both and starts them from the stage-1
# checkpoints.
rgb_stream = dict(type='XShiftNet', shift_div=8)      # 1/8 + 1/8 shifted
pose_stream = dict(
    type='XShiftNet', in_channels=17, stem_stride=1,   # no res2, stride 1
    stage_blocks=(5, 11, 7), shift_div=4)              # 1/4 + 1/4 shifted

model = dict(
    type='MultiModalRecognizer',
    backbone=dict(rgb=rgb_stream, pose=pose_stream),
    neck=dict(
        type='PoseDrivenAttention',
        attention=dict(type='NestingSTAttentionMap'),  # eqs. (2)-(4)
        temporal_offset=0),  # = stride_start of MultiModalSampleFrames
    cls_head=dict(
        type='SumFusionHead',
        num_classes=120,
        in_channels=dict(rgb=432, pose=216),
        dropout_ratio=0.5,
        loss_per_modality=True,
        average_clips='prob'),
    data_preprocessor=dict(
        type='MultiModalDataPreprocessor',
        preprocessors=dict(
            rgb_imgs=dict(
                type='ActionDataPreprocessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                format_shape='NCTHW'),
            pose_imgs=dict(
                type='ActionDataPreprocessor', format_shape='NCTHW'))))
