# EPAM-Net stage 1, RGB stream, on the embedded synthetic dataset (CPU size,
# see configs/_base_/epam_net_synth.py): 15 epochs from scratch.
#   python tools/train.py configs/epam_net_synth_rgb.py
# -> work_dirs/epam_net_synth_rgb/epoch_15.pth, the RGB stream of
# configs/epam_net_synth.py.
_base_ = ['./_base_/epam_net_synth.py']
model = dict(modalities=('rgb', ), neck=None)
train_dataloader = dict(dataset=dict(pipeline=_base_.rgb_train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=_base_.rgb_test_pipeline))
test_dataloader = val_dataloader
