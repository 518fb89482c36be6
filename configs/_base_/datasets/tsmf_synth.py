# The embedded synthetic dataset for TSMF, sized for a CPU: the samples of
# ./tsmf_ntu60_xsub.py with 32 skeleton frames for the teacher and 24-pixel
# ROI crops (a 120x120 mosaic, not resized) for the student (the synthetic
# frames are 480x270). The pipelines repeat the NTU ones with those sizes
# (old-style configs evaluate a base's lists in the base).
_base_ = './tsmf_ntu60_xsub.py'
data_root = 'data/synthetic_ntu/raw'
ann_file = 'data/synthetic_ntu/annotations.pkl'
num_classes = 12
gcn_train = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=32),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
]
gcn_test = gcn_train[:2] + [
    dict(type='UniformSampleFrames', clip_len=32, num_clips=1,
         test_mode=True)] + gcn_train[3:]
clip_len, crop_size = dict(skeleton=32), dict(rgb=120)  # complexity.py
roi_mosaic = dict(_base_.roi_mosaic, crop_size=24, out_size=None)
train_pipeline = [
    dict(type='GCNSkeletonInput', transforms=gcn_train),
    dict(type='MultiModalSampleFrames', clip_len=5),
    dict(type='MultiModalDecode'),
    roi_mosaic, _base_.roi_format, _base_.pack,
]
test_pipeline = [
    dict(type='GCNSkeletonInput', transforms=gcn_test),
    dict(type='MultiModalSampleFrames', clip_len=5, test_mode=True),
    dict(type='MultiModalDecode'),
    dict(roi_mosaic, test_mode=True), _base_.roi_format, _base_.pack,
]
teacher_train_pipeline = [
    dict(type='GCNSkeletonInput', transforms=gcn_train, out_key='keypoint'),
    dict(type='PackActionInputs'),
]
teacher_test_pipeline = [
    dict(type='GCNSkeletonInput', transforms=gcn_test, out_key='keypoint'),
    dict(type='PackActionInputs'),
]
dataset = dict(ann_file=ann_file, data_root=data_root,
               num_classes=num_classes)
train_dataloader = dict(
    batch_size=8, num_workers=2,
    dataset=dict(dataset, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=2,
    dataset=dict(dataset, pipeline=test_pipeline))
test_dataloader = val_dataloader
