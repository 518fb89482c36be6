# Cross-modal 3D deformable transformer (paper 004) on NTU RGB+D 60
# cross-subject: 12 RGB frames (Fig. 7b) and the dataset's own 2D Kinect
# joints -- all 25 of each of 2 persons, 50 joint tokens per frame
# (keypoint_ntu25: python -m data_prep.ntu.build_annotations --ntu25-2d).
# Training: one random frame per segment, Resize(-1, 256), a random 224 crop,
# a horizontal flip with p = 0.5 (left / right joints swapped); test: the
# segment centres, the centre 224 crop, 1 clip. The keypoints move with the
# frames (ModalityTransforms(keypoint_modality='rgb')) and become cell
# coordinates on F_a (H/2 x W/2 = 112 x 112; JointCoordinates), packed as
# pose_imgs [1, 12, 50, 3]. No skeleton-box crop (the paper crops nothing).
dataset_type = 'MultiModalActionDataset'
data_root = 'data/ntu_raw'
ann_file = 'data/ntu60_annotations.pkl'
train_split, val_split = 'xsub_train', 'xsub_val'
num_classes = 60
modalities = ('rgb', 'pose')
clip_len, rgb_size = 12, 224
# one test clip for tools/analysis/complexity.py: RGB 12 x 224², 50 joints
crop_size = dict(rgb=rgb_size)
input_shape = dict(pose=(clip_len, 50, 3))
keypoint_key = 'keypoint_ntu25'
# the flip swaps the left / right joints of this skeleton layout
# (mmar_ext.datasets.skeleton_layouts)
layout = 'ntu25'

train_sampler = dict(type='MultiModalSampleFrames', clip_len=clip_len,
                     num_clips=1, train_sampling='segment')
test_sampler = dict(type='MultiModalSampleFrames', clip_len=clip_len,
                    num_clips=1, test_mode=True)
decode = dict(type='MultiModalDecode')
format_rgb = dict(type='FormatShape', input_format='NCTHW')
joints = dict(type='JointCoordinates', feat_stride=2, max_persons=2,
              keypoint_key=keypoint_key, out_key='pose_imgs')
pack = dict(type='PackMultiModalInputs')
rgb_train = dict(
    type='ModalityTransforms', modalities=('rgb', ), keypoint_modality='rgb',
    keypoint_key=keypoint_key,
    transforms=[
        dict(type='Resize', scale=(-1, 256)),
        dict(type='RandomCrop', size=rgb_size),
        dict(type='Flip', flip_ratio=0.5, layout=layout), format_rgb
    ])
rgb_test = dict(
    type='ModalityTransforms', modalities=('rgb', ), keypoint_modality='rgb',
    keypoint_key=keypoint_key,
    transforms=[
        dict(type='Resize', scale=(-1, 256)),
        dict(type='CenterCrop', crop_size=rgb_size), format_rgb
    ])
train_pipeline = [train_sampler, decode, rgb_train, joints, pack]
test_pipeline = [test_sampler, decode, rgb_test, joints, pack]

dataset = dict(
    type=dataset_type, ann_file=ann_file, data_root=data_root,
    modalities=modalities, num_classes=num_classes)
train_dataloader = dict(
    batch_size=8,  # x 4 GPUs, the paper's machine
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**dataset, split=train_split, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**dataset, split=val_split, pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
