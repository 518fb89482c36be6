# M-Mixer's clip pipelines (paper 000 §IV-B), for any RGB / depth / IR
# dataset base: "a video clip uniformly sampled with temporal stride 8",
# "random cropping and resize each frame to 224x224", random horizontal
# flip, colour jitter on RGB only, depth and IR as jet-coloured images.
# A config lists this file next to its dataset base and sets
#   train_dataloader = dict(dataset=dict(pipeline=_base_.m_mixer_train_pipeline))
#   val_dataloader = dict(dataset=dict(pipeline=_base_.m_mixer_test_pipeline))
#   clip_len = 12
# (names are prefixed: bases may not share a key).
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
m_mixer_sampling = dict(
    type='SampleFrames', clip_len=12, frame_interval=8, num_clips=1,
    out_of_bound_opt='repeat_last')
m_mixer_train_spatial = [
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
]
m_mixer_train_pipeline = [
    m_mixer_sampling,
    dict(type='MultiModalDecode'),
    dict(type='DepthToJet', modalities=('depth', 'ir')),
    dict(type='ModalityTransforms', share_random_state=True, transforms=dict(
        rgb=m_mixer_train_spatial[:3] + [
            dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                 saturation=0.4, hue=0.1), m_mixer_train_spatial[3]],
        depth=m_mixer_train_spatial,
        ir=m_mixer_train_spatial)),
    dict(type='PackMultiModalInputs'),
]
m_mixer_test_pipeline = [
    dict(m_mixer_sampling, test_mode=True),
    dict(type='MultiModalDecode'),
    dict(type='DepthToJet', modalities=('depth', 'ir')),
    dict(type='ModalityTransforms', transforms=[
        dict(type='Resize', scale=(-1, 256)),
        dict(type='CenterCrop', crop_size=224),
        dict(type='FormatShape', input_format='NCTHW'),
    ]),
    dict(type='PackMultiModalInputs'),
]
