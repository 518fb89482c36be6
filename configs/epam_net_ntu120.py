# EPAM-Net (seed 002) stage 2 on NTU RGB+D 120 cross-subject: RGB and pose
# X-ShiftNets, the pose-driven spatial-temporal attention block (107
# parameters) and the two classifiers, trained together (sum of the two
# cross-entropies; test score = sum of the logits, 1 clip per video).
#
# Initialisation: each stream -- backbone and FC -- from its stage-1 model
# (configs/epam_net_ntu120_rgb.py, configs/epam_net_ntu120_pose.py; train
# those first); the attention block starts fresh. The checkpoints are the
# variables below; to use others:
#   python tools/train.py configs/epam_net_ntu120.py --cfg-options \
#       model.stream_checkpoints.rgb=RGB.pth \
#       model.stream_checkpoints.pose=POSE.pth
# The log says "stream_checkpoints: rgb stream: loaded ... tensors from ..."
# for each of them; a checkpoint of the other stream is an error. load_from
# and --resume load after it (they override it).
#
# Schedule: SGD lr 0.001, momentum 0.9, cosine, 10 epochs, total batch 24.
# On 8 GPUs the paper's total batch and lr are kept by 3 clips per GPU
# (8 x 3 = 24; the paper used 2 GPUs x 12):
#   bash tools/dist_train.sh configs/epam_net_ntu120.py 8
# On another number of GPUs add --auto-scale-lr (base_batch_size=24) or set
# train_dataloader.batch_size so that GPUs x batch_size = 24.
_base_ = ['./_base_/epam_net_ntu120_xsub.py', './_base_/epam_net_stage2.py']
rgb_checkpoint = 'work_dirs/epam_net_ntu120_rgb/epoch_200.pth'
pose_checkpoint = 'work_dirs/epam_net_ntu120_pose/epoch_240.pth'
model = dict(
    stream_checkpoints=dict(rgb=rgb_checkpoint, pose=pose_checkpoint))
train_dataloader = dict(batch_size=3)  # x 8 GPUs = 24
val_dataloader = dict(batch_size=3)
test_dataloader = val_dataloader
