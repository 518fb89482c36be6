# The 3D deformable transformer (paper 004, Table 2) on FineGYM Gym99: 99
# element classes, mean class accuracy (AccMetric's acc/mean1), 2D poses from
# HRNet (COCO-17 'keypoint', data_prep.pose_extraction), the NTU pipeline of
# ./deformable_transformer_ntu60_xsub.py otherwise (2 persons kept).
# The annotation pkl (splits gym99_train / gym99_val, each sub-action a frame
# range of its YouTube video) comes from
#   python -m data_prep.finegym.build_annotations --videos-dir VIDEOS \
#       --ann-dir ANNOTATIONS --out data/finegym_annotations.pkl
# and its HRNet poses from
#   python -m data_prep.pose_extraction \
#       --ann-file data/finegym_annotations.pkl --out-dir data/finegym_hrnet
# (or --poses gym_hrnet.pkl of the converter: PYSKL's released poses).
_base_ = './deformable_transformer_ntu60_xsub.py'
data_root = None  # relative paths of the pkl joined to its meta['raw_root']
ann_file, num_classes = 'data/finegym_annotations.pkl', 99
keypoint_key = 'keypoint'
input_shape = dict(pose=(_base_.clip_len, 34, 3))  # 2 x 17 joints
layout = 'coco17'
rgb_train = dict(_base_.rgb_train, keypoint_key=keypoint_key, transforms=[
    t if t['type'] != 'Flip' else dict(t, layout=layout)
    for t in _base_.rgb_train['transforms']])
rgb_test = dict(_base_.rgb_test, keypoint_key=keypoint_key)
joints = dict(_base_.joints, keypoint_key=keypoint_key)
train_pipeline = [_base_.train_sampler, _base_.decode, rgb_train, joints,
                  _base_.pack]
test_pipeline = [_base_.test_sampler, _base_.decode, rgb_test, joints,
                 _base_.pack]
dataset = dict(ann_file=ann_file, data_root=data_root,
               num_classes=num_classes)
train_dataloader = dict(dataset=dict(dataset, split='gym99_train',
                                     pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(dataset=dict(
    dataset, split='gym99_val', pipeline=test_pipeline))
