# NTU RGB+D 120 cross-subject at M-Mixer's recipe (paper 000 §IV-A2, §IV-B):
# the NTU60 pipeline of ./m_mixer_ntu60_xsub_rgbdi.py on the NTU120
# annotations.
_base_ = './m_mixer_ntu60_xsub_rgbdi.py'
ann_file = 'data/ntu120_annotations.pkl'
num_classes = 120
dataset = dict(ann_file=ann_file, num_classes=num_classes)
train_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = val_dataloader
