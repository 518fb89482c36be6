# The 3D deformable transformer's NTU input (./deformable_transformer_ntu60_xsub.py)
# on NTU RGB+D 120 cross-subject.
_base_ = './deformable_transformer_ntu60_xsub.py'
ann_file, num_classes = 'data/ntu120_annotations.pkl', 120
train_dataloader = dict(dataset=dict(ann_file=ann_file,
                                     num_classes=num_classes))
val_dataloader = test_dataloader = dict(
    dataset=dict(ann_file=ann_file, num_classes=num_classes))
