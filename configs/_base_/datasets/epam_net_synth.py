# EPAM-Net's pipeline (./epam_net_ntu120_xsub.py, the same steps) on the
# embedded synthetic NTU-format dataset (data_prep/synthetic_ntu.py, 12
# classes, keypoints from the NTU colour-space joints), at CPU size: 24 pose
# frames of 28x28 heatmaps and 8 RGB frames (every 3rd) of 112x112. Both
# streams still end at the same spatial size (RGB stride 32: 112 -> 4; pose
# stride 8: 28 -> 4), so the attention block sees aligned maps.
_base_ = './epam_net_ntu120_xsub.py'
data_root = 'data/synthetic_ntu/raw'
ann_file = 'data/synthetic_ntu/annotations.pkl'
num_classes = 12
clip_len = dict(pose=24, rgb=8)
rgb_size = 112  # heatmaps: 112 x 0.25 = 28
# the base's crop_size, for this rgb_size (RGB 112, heatmaps 28)
crop_size = dict(rgb=rgb_size, pose=int(rgb_size * _base_.heatmap_scaling))

train_sampler = dict(_base_.train_sampler, modality_clip_len=clip_len)
test_sampler = dict(_base_.test_sampler, modality_clip_len=clip_len)
resize = dict(_base_.resize, scale=(rgb_size, rgb_size))
rgb_train = dict(
    _base_.rgb_train, transforms=[resize, _base_.flip, _base_.format_rgb])
rgb_test = dict(_base_.rgb_test, transforms=[resize, _base_.format_rgb])
decode = dict(_base_.decode, lowres_min_box=rgb_size)
box_crop, flip = _base_.box_crop, _base_.flip
heatmaps, format_pose, pack = _base_.heatmaps, _base_.format_pose, _base_.pack

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

dataset = dict(ann_file=ann_file, data_root=data_root, num_classes=num_classes)
train_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True,
    dataset=dict(dataset, pipeline=both_train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True,
    dataset=dict(dataset, pipeline=both_test_pipeline))
test_dataloader = val_dataloader
