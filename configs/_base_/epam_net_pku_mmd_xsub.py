# EPAM-Net on PKU-MMD cross-subject (57 training subjects, 9 test):
# ./epam_net_ntu120_xsub.py (pipelines, split names xsub_*) on the PKU-MMD
# annotation, 51 classes.
# There is no converter for this dataset yet: the annotation pkl must follow
# docs/data_format.md (keypoint / keypoint_score in RGB pixels, rgb_path,
# total_frames, the split names); the tests run its configs on synthetic
# data of that layout.
_base_ = './epam_net_ntu120_xsub.py'
# raw files: relative paths of the pkl joined to its meta['raw_root']
data_root = None
ann_file, num_classes = 'data/pku_mmd_annotations.pkl', 51
# merged into each of the three dataloaders (their splits, pipelines stay)
train_dataloader = val_dataloader = test_dataloader = dict(dataset=dict(
    ann_file=ann_file, data_root=data_root, num_classes=num_classes))
