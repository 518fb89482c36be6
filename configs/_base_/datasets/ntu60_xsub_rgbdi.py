# NTU RGB+D 60 cross-subject, RGB / depth / IR clips (paper 001 §2.2, §4.1):
# 16 frames sampled at random and sorted (train) or uniformly (test), one
# draw shared by all modalities; depth and IR to jet colour; "shifted center
# crop" (centre crop 1.2x the crop size, random 224 crop inside), horizontal
# flip, colour jitter on RGB only. Test: centre crop, no augmentation.
dataset_type = 'MultiModalActionDataset'
data_root = 'data/ntu_raw'
ann_file = 'data/ntu60_annotations.pkl'
train_split, val_split = 'xsub_train', 'xsub_val'
num_classes = 60
modalities = ('rgb', 'depth', 'ir')
clip_len = 16
crop_size = 224
shifted_crop = int(crop_size * 1.2)  # 268

train_spatial = [
    dict(type='Resize', scale=(-1, shifted_crop)),
    dict(type='CenterCrop', crop_size=shifted_crop),
    dict(type='RandomCrop', size=crop_size),
    dict(type='Flip', flip_ratio=0.5),
]
test_spatial = [
    dict(type='Resize', scale=(-1, shifted_crop)),
    dict(type='CenterCrop', crop_size=crop_size),
]
color_jitter = dict(
    type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
format_shape = dict(type='FormatShape', input_format='NCTHW')

train_pipeline = [
    dict(type='MultiModalSampleFrames', clip_len=clip_len, num_clips=1,
         train_sampling='random'),
    dict(type='MultiModalDecode'),
    dict(type='DepthToJet', modalities=('depth', 'ir')),
    dict(type='ModalityTransforms', share_random_state=True, transforms=dict(
        rgb=train_spatial + [color_jitter, format_shape],
        depth=train_spatial + [format_shape],
        ir=train_spatial + [format_shape])),
    dict(type='PackMultiModalInputs'),
]
test_pipeline = [
    dict(type='MultiModalSampleFrames', clip_len=clip_len, num_clips=1,
         test_mode=True),
    dict(type='MultiModalDecode'),
    dict(type='DepthToJet', modalities=('depth', 'ir')),
    dict(type='ModalityTransforms', transforms=test_spatial + [format_shape]),
    dict(type='PackMultiModalInputs'),
]

dataset = dict(
    type=dataset_type, ann_file=ann_file, data_root=data_root,
    modalities=modalities, num_classes=num_classes)
train_dataloader = dict(
    batch_size=4,  # x 8 GPUs = the paper's batch of 32
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**dataset, split=train_split, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**dataset, split=val_split, pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
