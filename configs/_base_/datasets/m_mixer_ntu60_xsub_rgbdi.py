# NTU RGB+D 60 cross-subject, RGB / depth / IR clips, at M-Mixer's recipe
# (paper 000 §IV-B): "a video clip uniformly sampled with temporal stride 8",
# "random cropping and resize each frame to 224x224", random horizontal flip,
# colour jitter on RGB only, depth and IR as jet-coloured images.
# Our choices (not stated in the paper):
# * T = 12 frames (CFEM's two unpadded 4x1x1 stride-2 convolutions need
#   T >= 10), MMAction2's stock SampleFrames (12 frames 8 apart, a random
#   start in training, the centred window in testing); a video shorter than
#   the 89-frame window repeats its last frame (out_of_bound_opt=
#   'repeat_last') rather than looping, which would break temporal order;
# * the crop: MMAction2's RandomResizedCrop defaults (area 0.08-1, aspect
#   3/4-4/3), then Resize to 224x224; colour jitter 0.4/0.4/0.4/0.1 (as the
#   fusion baselines, ./ntu60_xsub_rgbdi.py);
# * test: short side 256, centre crop 224;
# * one random state per clip shared by the modalities (same flip, same
#   crop area and aspect; offsets are drawn in each modality's own frame).
# Everything else (dataset, splits, loaders of 4 clips per GPU, metric) is
# ./ntu60_xsub_rgbdi.py's.
_base_ = './ntu60_xsub_rgbdi.py'
clip_len = 12
frame_interval = 8
crop_size = 224

train_spatial = [
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(crop_size, crop_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
]
test_spatial = [
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=crop_size),
]
color_jitter = _base_.color_jitter
format_shape = _base_.format_shape
sample_frames = dict(
    type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval,
    num_clips=1, out_of_bound_opt='repeat_last')

train_pipeline = [
    sample_frames,
    dict(type='MultiModalDecode'),
    dict(type='DepthToJet', modalities=('depth', 'ir')),
    dict(type='ModalityTransforms', share_random_state=True, transforms=dict(
        rgb=train_spatial + [color_jitter, format_shape],
        depth=train_spatial + [format_shape],
        ir=train_spatial + [format_shape])),
    dict(type='PackMultiModalInputs'),
]
test_pipeline = [
    dict(sample_frames, test_mode=True),
    dict(type='MultiModalDecode'),
    dict(type='DepthToJet', modalities=('depth', 'ir')),
    dict(type='ModalityTransforms', transforms=test_spatial + [format_shape]),
    dict(type='PackMultiModalInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
