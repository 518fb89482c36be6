# NTU RGB+D 120 cross-subject for TSMF (an extension: the paper evaluates
# NTU60 and PKU-MMD): the samples of ./tsmf_ntu60_xsub.py on the NTU120
# annotation, 120 classes.
_base_ = './tsmf_ntu60_xsub.py'
ann_file, num_classes = 'data/ntu120_annotations.pkl', 120
train_dataloader = val_dataloader = test_dataloader = dict(dataset=dict(
    ann_file=ann_file, num_classes=num_classes))
