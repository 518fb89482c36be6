# EPAM-Net stage 1, pose stream, on
# PKU-MMD cross-subject (57 training subjects, 9 test):
# configs/epam_net_ntu120_pose.py (pipeline, schedule, batch) on other
# data.
# There is no converter for this dataset yet: the annotation pkl must follow
# docs/data_format.md (keypoint / keypoint_score in RGB pixels, rgb_path,
# total_frames, the split names below); the tests run this config on
# synthetic data of that layout.
_base_ = ['./epam_net_ntu120_pose.py']
# raw files: relative paths of the pkl joined to its meta['raw_root']
data_root = None
ann_file, num_classes = 'data/pku_mmd_annotations.pkl', 51
train_dataloader = dict(dataset=dict(
    ann_file=ann_file, data_root=data_root,
    split='xsub_train', num_classes=num_classes))
val_dataloader = dict(dataset=dict(
    ann_file=ann_file, data_root=data_root,
    split='xsub_val', num_classes=num_classes))
test_dataloader = val_dataloader
model = dict(cls_head=dict(num_classes=num_classes))
