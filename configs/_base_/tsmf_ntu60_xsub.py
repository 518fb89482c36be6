# TSMF (paper 003) on ntu60_xsub: ./models/tsmf.py with 60-class teacher and
# student, the data of ./datasets/tsmf_ntu60_xsub.py, SGD lr 0.1 / 80 epochs.
_base_ = [
    './models/tsmf.py', './datasets/tsmf_ntu60_xsub.py',
    './schedules/tsmf_sgd_80e.py', './default_runtime.py'
]
tsmf_teacher = dict(_base_.tsmf_teacher, cls_head=dict(
    _base_.tsmf_teacher['cls_head'], num_classes=60))
model = dict(
    teacher=tsmf_teacher, cls_head=dict(num_classes=60),
    teacher_checkpoint='work_dirs/tsmf_ntu60_xsub_teacher/epoch_80.pth')
