# NTU RGB+D 120 cross-subject: the NTU60 pipeline on the NTU120 annotations.
_base_ = './ntu60_xsub_rgbdi.py'
ann_file = 'data/ntu120_annotations.pkl'
num_classes = 120
dataset = dict(ann_file=ann_file, num_classes=num_classes)
train_dataloader = dict(dataset=dict(ann_file=ann_file, num_classes=num_classes))
val_dataloader = dict(dataset=dict(ann_file=ann_file, num_classes=num_classes))
test_dataloader = val_dataloader
