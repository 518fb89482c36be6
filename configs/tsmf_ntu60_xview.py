# TSMF stage 2 on NTU60 cross-view (paper 003, Table 2 rows 4 / 7: 86.2 /
# 95.4 % CV), the teacher of configs/tsmf_ntu60_xview_teacher.py.
_base_ = [
    './_base_/models/tsmf.py', './_base_/datasets/tsmf_ntu60_xview.py',
    './_base_/schedules/tsmf_sgd_80e.py', './_base_/default_runtime.py'
]
model = dict(
    teacher_checkpoint='work_dirs/tsmf_ntu60_xview_teacher/epoch_80.pth')
