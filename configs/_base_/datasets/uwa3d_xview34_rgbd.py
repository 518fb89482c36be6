# UWA3D Multiview Activity II, the cross-view setting of paper 001 §4.2
# (train views V3 + V4, test V1 + V2), RGB + depth, 30 classes: the NTU
# pipeline (./ntu60_xsub_rgbdi.py) on the UWA3D II annotation pkl.
# The pkl is written by
#   python -m data_prep.uwa3d.build_annotations --raw-root data/uwa3d_raw \
#       --out data/uwa3d_annotations.pkl --modalities rgb depth
# (splits 'xview34_train' = V3 + V4 and 'xview34_val' = V1 + V2; the other
# view pairs are 'xview12_*' ... 'xview24_*'); the five sequences lacking
# RGB or depth are left out, as in ActionMAE.
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
