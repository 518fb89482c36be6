# TSMF stage 2 (paper 003, Table 2 row 4 "○" and row 7, NTU60 CS: student
# 76.8 %, ensemble 89.7 %): the ResNet18 student on the weighted ROI mosaics
# with the stage-1 teacher fixed (./_base_/models/tsmf.py), NTU60 xsub
# (./_base_/datasets/tsmf_ntu60_xsub.py), SGD lr 0.1 / 80 epochs.
# The teacher comes from configs/tsmf_ntu60_xsub_teacher.py's last
# checkpoint (model.teacher_checkpoint=... for another). Test scores:
# ensemble (default), model.test_cfg.score=teacher or =student; every dumped
# sample carries all three.
_base_ = [
    './_base_/models/tsmf.py', './_base_/datasets/tsmf_ntu60_xsub.py',
    './_base_/schedules/tsmf_sgd_80e.py', './_base_/default_runtime.py'
]
model = dict(
    teacher_checkpoint='work_dirs/tsmf_ntu60_xsub_teacher/epoch_80.pth')
