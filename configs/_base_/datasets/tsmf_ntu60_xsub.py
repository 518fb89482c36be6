# NTU RGB+D 60 cross-subject for TSMF (paper 003): per sample the 3D joints
# for the teacher and the RGB ROI mosaic for the student.
# * teacher input (the paper is silent for NTU): MMAction2's ST-GCN NTU-3D
#   pipeline -- PreNormalize3D, joints, 100 frames (UniformSampleFrames),
#   two persons -- run by GCNSkeletonInput on keypoint_3d alone;
# * student input ("Fused Representation", Implementation Details): tau = 5
#   frames (random in training, evenly spaced in testing; only those are
#   decoded), 96x96 crops around head, right/left wrist, right/left ankle of
#   the 2D skeleton (HRNet COCO-17; layout='ntu25' for Kinect's 2D joints),
#   two persons side by side in a cell, the 480x480 mosaic resized to
#   225x225; no flip (it would swap the hand rows), no other augmentation.
# The stage-1 teacher config switches to teacher_*_pipeline (3D joints only);
# the *_paper-input configs put gcn_paper in the place of gcn_train/gcn_test.
dataset_type = 'MultiModalActionDataset'
data_root = 'data/ntu_raw'
ann_file = 'data/ntu60_annotations.pkl'
train_split, val_split = 'xsub_train', 'xsub_val'
num_classes = 60
modalities = ('rgb', 'pose', 'skeleton')

gcn_train = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=100),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
]
gcn_test = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=100, num_clips=1,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
]
# The authors' teacher input (configs/*_paper-input*.py): raw coordinates,
# every clip 300 frames -- zero-padded, longer ones (PKU-MMD) sampled evenly.
gcn_paper = [
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(type='FixedLengthSkeleton', length=300),
    dict(type='FormatGCNInput', num_person=2),
]
# one test sample for tools/analysis/complexity.py: teacher frames, mosaic side
clip_len, crop_size = dict(skeleton=100), dict(rgb=225)
roi_mosaic = dict(type='SkeletonROIMosaic', layout='coco17', num_frames=5,
                  crop_size=96, out_size=225)
roi_format = dict(type='ModalityTransforms', modalities=('roi', ),
                  transforms=[dict(type='FormatShape', input_format='NCHW')])
pack = dict(type='PackActionInputs', collect_keys=('skeleton', 'roi_imgs'),
            meta_keys=('frame_dir', 'roi_cells'))
train_pipeline = [
    dict(type='GCNSkeletonInput', transforms=gcn_train),
    dict(type='MultiModalSampleFrames', clip_len=5),
    dict(type='MultiModalDecode'),
    roi_mosaic, roi_format, pack,
]
test_pipeline = [
    dict(type='GCNSkeletonInput', transforms=gcn_test),
    dict(type='MultiModalSampleFrames', clip_len=5, test_mode=True),
    dict(type='MultiModalDecode'),
    dict(roi_mosaic, test_mode=True), roi_format, pack,
]
teacher_train_pipeline = [
    dict(type='GCNSkeletonInput', transforms=gcn_train, out_key='keypoint'),
    dict(type='PackActionInputs'),
]
teacher_test_pipeline = [
    dict(type='GCNSkeletonInput', transforms=gcn_test, out_key='keypoint'),
    dict(type='PackActionInputs'),
]

dataset = dict(
    type=dataset_type, ann_file=ann_file, data_root=data_root,
    modalities=modalities, num_classes=num_classes)
train_dataloader = dict(
    batch_size=8,  # x 8 GPUs = the paper's 64
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
