# EPAM-Net stage 1, RGB stream (RGB-X-ShiftNet alone, seed 002 §4.2) on NTU
# RGB+D 120 cross-subject: 16 skeleton-box cropped frames of 224x224 (every
# 3rd of the 48 pose frames), GAP + FC, from scratch; SGD lr 0.05, momentum
# 0.9, cosine, 200 epochs, batch 64 = 8 GPUs x 8 clips (other GPU counts:
# --auto-scale-lr, base_batch_size=64).
#
#   bash tools/dist_train.sh configs/epam_net_ntu120_rgb.py 8
#
# The keypoints are still read (dataset modalities ('rgb', 'pose')) for the
# crop box, so the crop equals that of stage 2; a sample without keypoints
# is an error (see configs/_base_/datasets/epam_net_ntu120_xsub.py).
# Its last checkpoint, work_dirs/epam_net_ntu120_rgb/epoch_200.pth, starts
# the RGB stream of configs/epam_net_ntu120.py.
_base_ = ['./_base_/epam_net_ntu120_xsub.py', './_base_/epam_net_rgb.py']
train_dataloader = _base_.rgb_train_loader
test_dataloader = val_dataloader = _base_.rgb_test_loader
