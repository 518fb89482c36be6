# TSMF stage 1 on ntu60_xsub (paper 003, Table 2 row 1: 81.6 % CS): the ST-GCN
# teacher alone (MMAction2's RecognizerGCN on the 3D joints). Stage 2:
# configs/tsmf_ntu60_xsub.py.
_base_ = ['./_base_/tsmf_ntu60_xsub.py']
model = dict(_delete_=True, **_base_.tsmf_teacher)
modalities = ('skeleton', )
train_dataloader = dict(dataset=dict(
    modalities=modalities, pipeline=_base_.teacher_train_pipeline))
val_dataloader = dict(dataset=dict(
    modalities=modalities, pipeline=_base_.teacher_test_pipeline))
test_dataloader = val_dataloader
