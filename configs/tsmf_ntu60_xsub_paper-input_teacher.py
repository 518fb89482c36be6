# TSMF stage 1 on ntu60_xsub with the authors' teacher input (raw 3D
# coordinates, 300 frames per clip; see configs/tsmf_ntu60_xsub_paper-input.py).
_base_ = ['./tsmf_ntu60_xsub_teacher.py']
gcn_input = dict(type='GCNSkeletonInput', transforms=_base_.gcn_paper,
                 out_key='keypoint')
train_dataloader = dict(dataset=dict(
    pipeline=[gcn_input] + _base_.teacher_train_pipeline[1:]))
val_dataloader = dict(dataset=dict(
    pipeline=[gcn_input] + _base_.teacher_test_pipeline[1:]))
test_dataloader = val_dataloader
clip_len = dict(skeleton=300)  # complexity.py
