# EPAM-Net on NTU RGB+D 120 cross-subject: what its three configs share --
# the input pipelines and data (./datasets/epam_net_ntu120_xsub.py) and the
# runtime. The other EPAM-Net datasets inherit this file and change only the
# annotation file, the split names and the class count (Toyota Smarthome
# also the evaluator): ./epam_net_<dataset>.py. A config is such a dataset
# base plus a stage base -- model and schedule: ./epam_net_rgb.py,
# ./epam_net_pose.py (stage 1), ./epam_net_stage2.py.
#
# The dataloaders are stage 2's (both streams, 3 clips per GPU). The stage-1
# configs merge one stream's settings into them, e.g.
# ``train_dataloader = _base_.rgb_train_loader``: the stream's pipeline
# and 8 GPUs x 8 RGB clips = 64, x 12 pose clips = 96 (seed 002 §4.2); the
# pose stream decodes no video (dataset modalities ('pose', )).
_base_ = ['./datasets/epam_net_ntu120_xsub.py', './default_runtime.py']
rgb_train_loader = dict(
    batch_size=8, dataset=dict(pipeline=_base_.rgb_train_pipeline))
rgb_test_loader = dict(
    batch_size=8, dataset=dict(pipeline=_base_.rgb_test_pipeline))
pose_train_loader = dict(
    batch_size=12,
    dataset=dict(modalities=('pose', ), pipeline=_base_.pose_train_pipeline))
pose_test_loader = dict(
    batch_size=12,
    dataset=dict(modalities=('pose', ), pipeline=_base_.pose_test_pipeline))
