# EPAM-Net stage 2 on the embedded synthetic dataset (CPU size, see
# configs/_base_/epam_net_synth.py): both streams and their classifiers
# start from the synthetic stage-1 models, the attention block fresh; a short
# joint fine-tune (5 epochs, one of warm-up, lr 3e-4: a tenth of stage 1's).
#
#   python tools/train.py configs/epam_net_synth_rgb.py
#   python tools/train.py configs/epam_net_synth_pose.py
#   python tools/train.py configs/epam_net_synth.py
# With other stage-1 checkpoints:
#   --cfg-options model.stream_checkpoints.rgb=RGB.pth \
#       model.stream_checkpoints.pose=POSE.pth
_base_ = ['./_base_/epam_net_synth.py']
rgb_checkpoint = 'work_dirs/epam_net_synth_rgb/epoch_15.pth'
pose_checkpoint = 'work_dirs/epam_net_synth_pose/epoch_15.pth'
model = dict(
    stream_checkpoints=dict(rgb=rgb_checkpoint, pose=pose_checkpoint))

max_epochs = 5
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=3e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=1e-6,
         by_epoch=True, begin=1, end=max_epochs, convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(interval=max_epochs))
