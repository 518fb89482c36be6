# EPAM-Net stage 1, RGB stream, on
# Toyota Smarthome cross-subject (CS):
# configs/epam_net_ntu120_rgb.py (pipeline, schedule, batch) on other
# data.
# The paper pretrains both X-ShiftNets on NTU RGB+D 120 for Toyota Smarthome
# (§4.2, 8.7k / 7.7k training clips): the backbone starts from the NTU120
# stage-1 RGB stream below, the 31-class FC is new. The paper gives no other
# schedule, so the stage-1 one is kept. Other checkpoint:
#   --cfg-options model.backbone.rgb.init_cfg.checkpoint=NTU120_RGB.pth
# There is no converter for this dataset yet: the annotation pkl must follow
# docs/data_format.md (keypoint / keypoint_score in RGB pixels, rgb_path,
# total_frames, the split names below); the tests run this config on
# synthetic data of that layout.
_base_ = ['./epam_net_ntu120_rgb.py']
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
ntu120_checkpoint = 'work_dirs/epam_net_ntu120_rgb/epoch_200.pth'
model = dict(
    backbone=dict(rgb=dict(init_cfg=dict(
        type='Pretrained', checkpoint=ntu120_checkpoint,
        prefix='backbone.rgb.'))),
    cls_head=dict(num_classes=num_classes))
