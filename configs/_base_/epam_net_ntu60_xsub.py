# EPAM-Net on NTU RGB+D 60 cross-subject (20 training performers, 20 test):
# ./epam_net_ntu120_xsub.py (same raw tree, pipelines and split names) on the
# NTU60 annotation, 60 classes.
_base_ = './epam_net_ntu120_xsub.py'
ann_file, num_classes = 'data/ntu60_annotations.pkl', 60
# merged into each of the three dataloaders (their splits, pipelines stay)
train_dataloader = val_dataloader = test_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes))
