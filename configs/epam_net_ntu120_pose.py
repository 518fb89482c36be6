# EPAM-Net stage 1, pose stream (Pose-X-ShiftNet alone, seed 002 §4.2) on NTU
# RGB+D 120 cross-subject: 48 frames of 17 joint pseudo-heatmaps, 56x56, on
# the skeleton box; GAP + FC, from scratch; SGD lr 0.0375, momentum 0.9,
# cosine, 240 epochs, batch 96 = 8 GPUs x 12 clips (other GPU counts:
# --auto-scale-lr, base_batch_size=96). No video is decoded.
#
#   bash tools/dist_train.sh configs/epam_net_ntu120_pose.py 8
#
# Its last checkpoint, work_dirs/epam_net_ntu120_pose/epoch_240.pth, starts
# the pose stream of configs/epam_net_ntu120.py.
_base_ = ['./_base_/epam_net_ntu120_xsub.py', './_base_/epam_net_pose.py']
modalities = ('pose', )
train_dataloader = _base_.pose_train_loader
test_dataloader = val_dataloader = _base_.pose_test_loader
