# EPAM-Net on Toyota Smarthome cross-subject (CS): ./epam_net_ntu120_xsub.py
# (pipelines) on the Toyota Smarthome annotation, 31 classes, the mean class
# accuracy as the headline metric.
# There is no converter for this dataset yet: the annotation pkl must follow
# docs/data_format.md (keypoint / keypoint_score in RGB pixels, rgb_path,
# total_frames, the split names below); the tests run its configs on
# synthetic data of that layout.
_base_ = './epam_net_ntu120_xsub.py'
# raw files: relative paths of the pkl joined to its meta['raw_root']
data_root = None
ann_file, num_classes = 'data/toyota_smarthome_annotations.pkl', 31
train_dataloader = dict(dataset=dict(
    ann_file=ann_file, data_root=data_root, split='cs_train',
    num_classes=num_classes))
test_dataloader = val_dataloader = dict(dataset=dict(
    ann_file=ann_file, data_root=data_root, split='cs_val',
    num_classes=num_classes))
# Toyota Smarthome reports mean class accuracy (§4): acc/mean1 of
# AccMetric is the headline number (acc/top1 is logged too), and the
# best checkpoint is chosen by it.
test_evaluator = val_evaluator = dict(
    type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'))
default_hooks = dict(checkpoint=dict(save_best='acc/mean1'))
