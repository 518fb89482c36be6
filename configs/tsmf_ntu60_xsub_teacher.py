# TSMF stage 1 (paper 003, Table 2 row 1: 81.6 % CS): the ST-GCN teacher
# alone, MMAction2's stock RecognizerGCN on the 3D joints of NTU60 xsub
# (./_base_/datasets/tsmf_ntu60_xsub.py, teacher pipelines), SGD lr 0.1 /
# 80 epochs (./_base_/schedules/tsmf_sgd_80e.py). Stage 2:
# configs/tsmf_ntu60_xsub.py.
_base_ = [
    './_base_/models/tsmf.py', './_base_/datasets/tsmf_ntu60_xsub.py',
    './_base_/schedules/tsmf_sgd_80e.py', './_base_/default_runtime.py'
]
model = dict(_delete_=True, **_base_.tsmf_teacher)
modalities = ('skeleton', )
train_dataloader = dict(dataset=dict(
    modalities=modalities, pipeline=_base_.teacher_train_pipeline))
val_dataloader = dict(dataset=dict(
    modalities=modalities, pipeline=_base_.teacher_test_pipeline))
test_dataloader = val_dataloader
