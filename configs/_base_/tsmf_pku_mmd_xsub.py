# TSMF (paper 003) on pku_mmd_xsub: ./models/tsmf.py with 51-class teacher and
# student, the data of ./datasets/tsmf_pku_mmd_xsub.py, SGD lr 0.1 / 80
# epochs.
_base_ = [
    './models/tsmf.py', './datasets/tsmf_pku_mmd_xsub.py',
    './schedules/tsmf_sgd_80e.py', './default_runtime.py'
]
tsmf_teacher = dict(_base_.tsmf_teacher, cls_head=dict(
    _base_.tsmf_teacher['cls_head'], num_classes=51))
model = dict(
    teacher=tsmf_teacher, cls_head=dict(num_classes=51),
    teacher_checkpoint='work_dirs/tsmf_pku_mmd_xsub_teacher/epoch_80.pth')
