# NW-UCLA Multiview Action3D, cross-view (paper 000 §IV-A3: train views 1 +
# 2, test view 3), RGB + depth, 10 classes, at M-Mixer's recipe: the
# pipeline of ./m_mixer_ntu60_xsub_rgbdi.py on the NW-UCLA annotation pkl
# (splits 'xview_train' / 'xview_val', as ./nwucla_xview_rgbd.py; no
# converter yet, issue 13).
_base_ = './m_mixer_ntu60_xsub_rgbdi.py'
ann_file = 'data/nwucla_annotations.pkl'
data_root = None  # relative paths of the pkl joined to its meta['raw_root']
num_classes = 10
modalities = ('rgb', 'depth')
dataset = dict(ann_file=ann_file, data_root=data_root,
               num_classes=num_classes, modalities=modalities)
train_dataloader = dict(dataset=dict(dataset, split='xview_train'))
val_dataloader = dict(dataset=dict(dataset, split='xview_val'))
test_dataloader = val_dataloader
