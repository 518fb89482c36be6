# EPAM-Net input pipeline (seed 002, §3.3 and §4.2) on NTU RGB+D 120
# cross-subject. Every other EPAM-Net dataset config (NTU120 xset, NTU60,
# PKU-MMD, Toyota Smarthome) inherits these pipelines and overrides only the
# annotation file, the split names and the class count.
#
# 1. 48 pose frames sampled uniformly (training: one random frame in each of
#    48 equal segments, as PoseC3D's UniformSampleFrames; test: the segment
#    centres, 1 clip per video); the RGB clip is every 3rd of those 48
#    indices (16 frames, ``stride_start=0`` = the neck's ``temporal_offset``).
#    A video shorter than 48 frames repeats frames (indices are floored).
# 2. Decoding (`decode` below): the 16 RGB frames, at a reduced size when
#    the skeleton box allows it; the keypoints of the 48 pose frames.
#    RGB frames and keypoints cropped with one box around every person's
#    joints over the 48 pose frames (SkeletonBoxCrop: padding 0.25, square,
#    shifted inside the frame; no joint at all -> the whole frame + warning).
# 3. RGB resized to 224x224 (keypoints move with it); training: horizontal
#    flip with p=0.5 drawn once for RGB and keypoints, left/right COCO joints
#    swapped.
# 4. Pose: 17 joint pseudo-heatmaps per frame (eq. (1)) at a quarter of the
#    RGB size, 56x56 -- the same region as the RGB crop; sigma 0.6 (PoseC3D's
#    default: the paper does not state it), maps scaled by the joint score.
# 5. Packed as ``rgb_imgs`` [1, 3, 16, 224, 224] and ``pose_imgs``
#    [1, 17, 48, 56, 56] per sample (only the modalities in the dataset's
#    ``modalities`` and, for pose, only if rendered).
#
# Keypoints: the annotation's ``meta['keypoint_source']`` says where they come
# from -- 'hrnet' (data_prep.pose_extraction: top-down HRNet-w32, as the
# paper) or 'ntu_color' (the Kinect colour-space joints mapped to COCO-17,
# the fallback of data_prep.ntu.build_annotations). Both work with these
# configs; report which one a result used.
#
# Three variants of each pipeline, for the two stage-1 streams and stage 2:
#   both_train_pipeline / both_test_pipeline  -- stage 2 (the default here)
#   rgb_train_pipeline  / rgb_test_pipeline   -- stage 1, RGB stream: the
#       keypoints are still read (the dataset keeps 'pose' in ``modalities``)
#       so that the crop box is the one of stage 2, but no heatmap is made
#   pose_train_pipeline / pose_test_pipeline  -- stage 1, pose stream: no
#       video is decoded (dataset ``modalities=('pose',)``); the keypoints
#       are cropped, resized to the 224x224 frame and flipped on their own.
dataset_type = 'MultiModalActionDataset'
data_root = 'data/ntu_raw'
ann_file = 'data/ntu120_annotations.pkl'
train_split, val_split = 'xsub_train', 'xsub_val'
num_classes = 120
modalities = ('rgb', 'pose')

clip_len = dict(pose=48, rgb=16)
rgb_size = 224
heatmap_scaling = 0.25  # 224 -> 56
# the frame size of each modality's clip (RGB crop, heatmaps), as clip_len:
# tools/analysis/complexity.py and leaderboard.py count FLOPs on these
crop_size = dict(rgb=rgb_size, pose=int(rgb_size * heatmap_scaling))
left_kp = [1, 3, 5, 7, 9, 11, 13, 15]
right_kp = [2, 4, 6, 8, 10, 12, 14, 16]

train_sampler = dict(
    type='MultiModalSampleFrames', modality_clip_len=clip_len, num_clips=1,
    train_sampling='segment', stride_start=0)
test_sampler = dict(
    type='MultiModalSampleFrames', modality_clip_len=clip_len, num_clips=1,
    test_mode=True, stride_start=0)
# PyAV decodes only the packets the 16 frames need and, for DCT codecs
# (MJPEG, MPEG-4 Part 2 / XviD), at 1/2, 1/4 or 1/8 size as long as the
# skeleton box keeps >= rgb_size pixels (it is resized to rgb_size anyway);
# video_backend='decord' without lowres_min_box decodes every frame at full
# size (MMAction2's MMDecode does the same).
decode = dict(
    type='MultiModalDecode', video_backend='pyav', lowres_min_box=rgb_size)
box_crop = dict(type='SkeletonBoxCrop', modalities=('rgb', ))
resize = dict(type='Resize', scale=(rgb_size, rgb_size), keep_ratio=False)
flip = dict(type='Flip', flip_ratio=0.5, left_kp=left_kp, right_kp=right_kp)
heatmaps = dict(
    type='PoseHeatmapVolume', sigma=0.6, use_score=True, with_kp=True,
    with_limb=False, scaling=heatmap_scaling, out_key='pose_imgs')
format_rgb = dict(type='FormatShape', input_format='NCTHW')
format_pose = dict(
    type='ModalityTransforms', modalities=('pose', ),
    transforms=[dict(type='FormatShape', input_format='NCTHW_Heatmap')])
pack = dict(type='PackMultiModalInputs')
# RGB frames and keypoints go through the same Resize / Flip (one draw)
rgb_train = dict(
    type='ModalityTransforms', keypoint_modality='rgb', modalities=('rgb', ),
    transforms=[resize, flip, format_rgb])
rgb_test = dict(
    type='ModalityTransforms', keypoint_modality='rgb', modalities=('rgb', ),
    transforms=[resize, format_rgb])

both_train_pipeline = [
    train_sampler, decode, box_crop, rgb_train, heatmaps, format_pose, pack
]
both_test_pipeline = [
    test_sampler, decode, box_crop, rgb_test, heatmaps, format_pose, pack
]
rgb_train_pipeline = [train_sampler, decode, box_crop, rgb_train, pack]
rgb_test_pipeline = [test_sampler, decode, box_crop, rgb_test, pack]
pose_train_pipeline = [
    train_sampler, decode, box_crop, resize, flip, heatmaps, format_pose, pack
]
pose_test_pipeline = [
    test_sampler, decode, box_crop, resize, heatmaps, format_pose, pack
]

dataset = dict(
    type=dataset_type, ann_file=ann_file, data_root=data_root,
    modalities=modalities, num_classes=num_classes)
train_dataloader = dict(
    batch_size=3,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**dataset, split=train_split, pipeline=both_train_pipeline))
val_dataloader = dict(
    batch_size=3,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**dataset, split=val_split, pipeline=both_test_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader

# top-1 (and top-5, mean class accuracy) of 1 clip per video
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
