# EPAM-Net stage 2 on
# Toyota Smarthome cross-subject (CS):
# configs/epam_net_ntu120.py (pipeline, schedule, 3 clips x 8 GPUs = 24) on
# other data, each stream (backbone and FC) started from its stage-1 model
# (configs/epam_net_toyota_cs_rgb.py,
# configs/epam_net_toyota_cs_pose.py). Other checkpoints:
#   --cfg-options model.backbone.rgb.init_cfg.checkpoint=RGB.pth \
#       model.cls_head.init_cfg.0.checkpoint=RGB.pth \
#       model.backbone.pose.init_cfg.checkpoint=POSE.pth \
#       model.cls_head.init_cfg.1.checkpoint=POSE.pth
# There is no converter for this dataset yet: the annotation pkl must follow
# docs/data_format.md (keypoint / keypoint_score in RGB pixels, rgb_path,
# total_frames, the split names below); the tests run this config on
# synthetic data of that layout.
_base_ = ['./epam_net_ntu120.py']
rgb_checkpoint = 'work_dirs/epam_net_toyota_cs_rgb/epoch_200.pth'
pose_checkpoint = 'work_dirs/epam_net_toyota_cs_pose/epoch_240.pth'
# raw files: relative paths of the pkl joined to its meta['raw_root']
data_root = None
ann_file, num_classes = 'data/toyota_smarthome_annotations.pkl', 31
train_dataloader = dict(dataset=dict(
    ann_file=ann_file, data_root=data_root,
    split='cs_train', num_classes=num_classes))
val_dataloader = dict(dataset=dict(
    ann_file=ann_file, data_root=data_root,
    split='cs_val', num_classes=num_classes))
test_dataloader = val_dataloader
# Toyota Smarthome reports mean class accuracy (§4): acc/mean1 of
# AccMetric is the headline number (acc/top1 is logged too), and the
# best checkpoint is chosen by it.
val_evaluator = dict(
    type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'))
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='acc/mean1'))
model = dict(
    backbone=dict(
        rgb=dict(init_cfg=dict(checkpoint=rgb_checkpoint)),
        pose=dict(init_cfg=dict(checkpoint=pose_checkpoint))),
    cls_head=dict(
        num_classes=num_classes,
        init_cfg=[
            dict(type='Pretrained', checkpoint=rgb_checkpoint,
                 prefix='cls_head.'),
            dict(type='Pretrained', checkpoint=pose_checkpoint,
                 prefix='cls_head.')
        ]))
