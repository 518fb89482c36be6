# EPAM-Net on PKU-MMD cross-subject (57 training subjects, 9 test):
# ./epam_net_ntu120_xsub.py (pipelines, split names xsub_*) on the PKU-MMD
# annotation, 51 classes.
# The annotation pkl (one sample per label row, a frame range of its video;
# splits from the release's Split/cross-subject.txt and cross-view.txt):
#   python -m data_prep.pku_mmd.build_annotations --raw-root data/pku_mmd \
#       --out data/pku_mmd_annotations.pkl
# then the HRNet 2D keypoints (keypoint / keypoint_score in RGB pixels; the
# release has 3D joints only) with data_prep.pose_extraction, as the paper.
_base_ = './epam_net_ntu120_xsub.py'
# raw files: relative paths of the pkl joined to its meta['raw_root']
data_root = None
ann_file, num_classes = 'data/pku_mmd_annotations.pkl', 51
# merged into each of the three dataloaders (their splits, pipelines stay)
train_dataloader = val_dataloader = test_dataloader = dict(dataset=dict(
    ann_file=ann_file, data_root=data_root, num_classes=num_classes))
