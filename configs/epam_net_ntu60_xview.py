# EPAM-Net stage 2 on
# NTU RGB+D 60 cross-view (cameras 2 and 3 train, camera 1 tests):
# configs/epam_net_ntu120.py (pipeline, schedule, 3 clips x 8 GPUs = 24) on
# other data, each stream (backbone and FC) started from its stage-1 model
# (configs/epam_net_ntu60_xview_rgb.py,
# configs/epam_net_ntu60_xview_pose.py). Other checkpoints:
#   --cfg-options model.backbone.rgb.init_cfg.checkpoint=RGB.pth \
#       model.cls_head.init_cfg.0.checkpoint=RGB.pth \
#       model.backbone.pose.init_cfg.checkpoint=POSE.pth \
#       model.cls_head.init_cfg.1.checkpoint=POSE.pth
_base_ = ['./epam_net_ntu120.py']
rgb_checkpoint = 'work_dirs/epam_net_ntu60_xview_rgb/epoch_200.pth'
pose_checkpoint = 'work_dirs/epam_net_ntu60_xview_pose/epoch_240.pth'
ann_file, num_classes = 'data/ntu60_annotations.pkl', 60
train_dataloader = dict(dataset=dict(
    ann_file=ann_file, split='xview_train', num_classes=num_classes))
val_dataloader = dict(dataset=dict(
    ann_file=ann_file, split='xview_val', num_classes=num_classes))
test_dataloader = val_dataloader
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
