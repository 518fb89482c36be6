# The 3D deformable transformer (paper 004, Table 3) on PennAction: 15
# classes, top-1, the dataset's 13 annotated joints of its one person
# (head, then left / right shoulder, elbow, wrist, hip, knee, ankle; stored
# as 'keypoint' [1, T, 13, 2]), the pipeline of ./deformable_transformer_finegym.py.
# The annotation pkl (splits train / test from the label files' train flag,
# the frames read from Penn_Action/frames/NNNN through rgb_frames, joints
# not visible with keypoint_score 0) is written by
#   python -m data_prep.pennaction.build_annotations \
#       --raw-root data/Penn_Action --out data/pennaction_annotations.pkl
_base_ = './deformable_transformer_finegym.py'
ann_file, num_classes = 'data/pennaction_annotations.pkl', 15
layout = 'pennaction13'
rgb_train = dict(_base_.rgb_train, transforms=[
    t if t['type'] != 'Flip' else dict(t, layout=layout)
    for t in _base_.rgb_train['transforms']])
joints = dict(_base_.joints, max_persons=1)
input_shape = dict(pose=(_base_.clip_len, 13, 3))  # 1 x 13 joints
train_pipeline = [_base_.train_sampler, _base_.decode, rgb_train, joints,
                  _base_.pack]
test_pipeline = [_base_.test_sampler, _base_.decode, _base_.rgb_test, joints,
                 _base_.pack]
dataset = dict(ann_file=ann_file, num_classes=num_classes)
train_dataloader = dict(dataset=dict(dataset, split='train',
                                     pipeline=train_pipeline))
val_dataloader = test_dataloader = dict(dataset=dict(
    dataset, split='test', pipeline=test_pipeline))
