# EPAM-Net stage 1, pose stream, on
# NTU RGB+D 120 cross-setup (even setup IDs train, odd ones test):
# configs/epam_net_ntu120_pose.py (pipeline, schedule, batch) on other
# data.
_base_ = ['./epam_net_ntu120_pose.py']
ann_file, num_classes = 'data/ntu120_annotations.pkl', 120
train_dataloader = dict(dataset=dict(
    ann_file=ann_file, split='xset_train', num_classes=num_classes))
val_dataloader = dict(dataset=dict(
    ann_file=ann_file, split='xset_val', num_classes=num_classes))
test_dataloader = val_dataloader
model = dict(cls_head=dict(num_classes=num_classes))
