# EPAM-Net stage 1, RGB stream, on
# NTU RGB+D 60 cross-subject (20 training performers, 20 test):
# configs/epam_net_ntu120_rgb.py (pipeline, schedule, batch) on other
# data.
_base_ = ['./epam_net_ntu120_rgb.py']
ann_file, num_classes = 'data/ntu60_annotations.pkl', 60
train_dataloader = dict(dataset=dict(
    ann_file=ann_file, split='xsub_train', num_classes=num_classes))
val_dataloader = dict(dataset=dict(
    ann_file=ann_file, split='xsub_val', num_classes=num_classes))
test_dataloader = val_dataloader
model = dict(cls_head=dict(num_classes=num_classes))
