# EPAM-Net stage 1, pose stream (seed 002 §4.2): the pose X-ShiftNet alone
# (GAP + FC), from scratch, and its schedule (SGD lr 0.0375, momentum 0.9,
# cosine, 240 epochs, batch 96). The stage-1 pose configs add a dataset base
# (./epam_net_<dataset>.py) and its pose_*_loader settings.
_base_ = ['./models/epam_net.py', './schedules/epam_net_stage1_pose.py']
model = dict(modalities=('pose', ), neck=None)
