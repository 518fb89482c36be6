# UWA3D Multiview Activity II, the cross-view setting of paper 001 §4.2
# (train views V3 + V4, test V1 + V2), RGB + depth, 30 classes: the NTU
# pipeline (./ntu60_xsub_rgbdi.py) on the UWA3D II annotation pkl.
# No converter yet (issue 13): the pkl must follow docs/data_format.md with
# the splits 'xview34_train' (V3 + V4) and 'xview34_val' (V1 + V2); the tests
# run the configs on synthetic data of that layout.
_base_ = './ntu60_xsub_rgbdi.py'
ann_file = 'data/uwa3d_annotations.pkl'
data_root = None  # relative paths of the pkl joined to its meta['raw_root']
num_classes = 30
modalities = ('rgb', 'depth')
dataset = dict(ann_file=ann_file, data_root=data_root,
               num_classes=num_classes, modalities=modalities)
train_dataloader = dict(dataset=dict(dataset, split='xview34_train'))
val_dataloader = dict(dataset=dict(dataset, split='xview34_val'))
test_dataloader = val_dataloader
