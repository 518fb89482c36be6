# TSMF stage 1 on pku_mmd_xsub (paper 003, Table 2 row 1: 91.5 % CS): the ST-
# GCN teacher alone (MMAction2's RecognizerGCN on the 3D joints). Stage 2:
# configs/tsmf_pku_mmd_xsub.py.
_base_ = ['./_base_/tsmf_pku_mmd_xsub.py']
model = dict(_delete_=True, **_base_.tsmf_teacher)
modalities = ('skeleton', )
train_dataloader = dict(dataset=dict(
    modalities=modalities, pipeline=_base_.teacher_train_pipeline))
val_dataloader = dict(dataset=dict(
    modalities=modalities, pipeline=_base_.teacher_test_pipeline))
test_dataloader = val_dataloader
