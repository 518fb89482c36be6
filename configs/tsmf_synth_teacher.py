# TSMF stage 1 on the synthetic dataset: the ST-GCN teacher alone (Table 2 row
# 1 in miniature). Stage 2: configs/tsmf_synth.py.
_base_ = ['./_base_/tsmf_synth.py']
model = dict(_delete_=True, **_base_.tsmf_teacher)
modalities = ('skeleton', )
train_dataloader = dict(dataset=dict(
    modalities=modalities, pipeline=_base_.teacher_train_pipeline))
val_dataloader = dict(dataset=dict(
    modalities=modalities, pipeline=_base_.teacher_test_pipeline))
test_dataloader = val_dataloader
