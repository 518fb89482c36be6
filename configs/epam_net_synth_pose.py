# EPAM-Net stage 1, pose stream, on the embedded synthetic dataset (CPU size,
# see configs/_base_/epam_net_synth.py): 15 epochs from scratch.
#   python tools/train.py configs/epam_net_synth_pose.py
# -> work_dirs/epam_net_synth_pose/epoch_15.pth, the pose stream of
# configs/epam_net_synth.py.
_base_ = ['./_base_/epam_net_synth.py']
modalities = ('pose', )
model = dict(modalities=modalities, neck=None)
train_dataloader = dict(
    dataset=dict(modalities=modalities, pipeline=_base_.pose_train_pipeline))
val_dataloader = dict(
    dataset=dict(modalities=modalities, pipeline=_base_.pose_test_pipeline))
test_dataloader = val_dataloader
