# EPAM-Net on Toyota Smarthome cross-subject (CS): ./epam_net_ntu120_xsub.py
# (pipelines) on the Toyota Smarthome annotation, 31 classes, the mean class
# accuracy as the headline metric.
# The annotation pkl is written by
#   python -m data_prep.toyota_smarthome.build_annotations \
#       --raw-root data/toyota_smarthome --splits-dir SPLITS
# (data/toyota_smarthome_cs.pkl and _cv.pkl: CS and CV label the clips
# differently, 31 vs 19 classes). Its 'keypoint' are LCR-Net's 2D joints
# mapped to COCO-17 (meta['keypoint_source'] = 'lcrnet'); the paper used
# HRNet-w32 poses: python -m data_prep.pose_extraction --ann-file
# data/toyota_smarthome_cs.pkl ... replaces them ('hrnet'). Report which one
# a result used.
# Splits: trained on cs_train (subjects 3, 4, 6, 7, 9, 12, 13, 15, 17),
# validated (best checkpoint) on cs_val (subjects 19, 25), tested on cs_test
# (subjects 2, 10, 11, 14, 16, 18, 20), the lists of the dataset's I3D
# baseline.
_base_ = './epam_net_ntu120_xsub.py'
# raw files: relative paths of the pkl joined to its meta['raw_root']
data_root = None
ann_file, num_classes = 'data/toyota_smarthome_cs.pkl', 31
train_dataloader = dict(dataset=dict(
    ann_file=ann_file, data_root=data_root, split='cs_train',
    num_classes=num_classes))
val_dataloader = dict(dataset=dict(
    ann_file=ann_file, data_root=data_root, split='cs_val',
    num_classes=num_classes))
test_dataloader = dict(dataset=dict(
    ann_file=ann_file, data_root=data_root, split='cs_test',
    num_classes=num_classes))
# Toyota Smarthome reports mean class accuracy (§4): acc/mean1 of
# AccMetric is the headline number (acc/top1 is logged too), and the
# best checkpoint is chosen by it.
test_evaluator = val_evaluator = dict(
    type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'))
default_hooks = dict(checkpoint=dict(save_best='acc/mean1'))
