# NW-UCLA Multiview Action3D, cross-view protocol of paper 001 §4.2 (train
# views 1 + 2, test view 3), RGB + depth, 10 classes: the NTU pipeline
# (./ntu60_xsub_rgbdi.py) on the NW-UCLA annotation pkl.
# The pkl (splits 'xview_train' = V1 + V2, 'xview_val' = V3) is written by
#   python -m data_prep.nwucla.build_annotations \
#       --raw-root data/nwucla_raw/multiview_action \
#       --out data/nwucla_annotations.pkl
# (RGB frames + raw depth.png; --depth-source vis for depth_vis.jpg).
_base_ = './ntu60_xsub_rgbdi.py'
ann_file = 'data/nwucla_annotations.pkl'
data_root = None  # relative paths of the pkl joined to its meta['raw_root']
num_classes = 10
modalities = ('rgb', 'depth')
dataset = dict(ann_file=ann_file, data_root=data_root,
               num_classes=num_classes, modalities=modalities)
train_dataloader = dict(dataset=dict(dataset, split='xview_train'))
val_dataloader = dict(dataset=dict(dataset, split='xview_val'))
test_dataloader = val_dataloader
