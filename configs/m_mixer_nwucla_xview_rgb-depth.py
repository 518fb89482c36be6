# M-Mixer (paper 000, Table IX: 94.86%) trained on RGB + depth, NW-UCLA
# cross-view (V1 + V2 -> V3; ./_base_/datasets/nwucla_xview_rgbd.py, the pkl
# of data_prep.nwucla.build_annotations): ResNet-18 per modality, d_h = 512,
# Adam lr 1e-4, "a single GPU with batch size 8" (§IV-B), the clip pipelines
# of the NTU configs (./_base_/datasets/m_mixer_pipelines.py).
_base_ = [
    './_base_/models/m_mixer.py', './_base_/datasets/nwucla_xview_rgbd.py',
    './_base_/datasets/m_mixer_pipelines.py',
    './_base_/schedules/adam_step30.py', './_base_/default_runtime.py'
]
clip_len = 12
modalities = _base_.modalities
model = dict(modalities=modalities, cls_head=dict(num_classes=10),
             **_base_.m_mixer_resnet18)
train_dataloader = dict(
    batch_size=8, dataset=dict(pipeline=_base_.m_mixer_train_pipeline))
val_dataloader = dict(
    batch_size=8, dataset=dict(pipeline=_base_.m_mixer_test_pipeline))
test_dataloader = val_dataloader
auto_scale_lr = dict(base_batch_size=8)  # tools/train.py CONFIG (one GPU)
