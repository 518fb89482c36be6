# EPAM-Net stage 1, pose stream, on
# NTU RGB+D 60 cross-view (cameras 2 and 3 train, camera 1 tests):
# configs/epam_net_ntu120_pose.py (pipeline, schedule, batch) on other
# data.
_base_ = ['./epam_net_ntu120_pose.py']
ann_file, num_classes = 'data/ntu60_annotations.pkl', 60
train_dataloader = dict(dataset=dict(
    ann_file=ann_file, split='xview_train', num_classes=num_classes))
val_dataloader = dict(dataset=dict(
    ann_file=ann_file, split='xview_val', num_classes=num_classes))
test_dataloader = val_dataloader
model = dict(cls_head=dict(num_classes=num_classes))
