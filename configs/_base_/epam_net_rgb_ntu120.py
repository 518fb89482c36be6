# EPAM-Net stage 1, RGB stream (./epam_net_rgb.py) with the backbone started
# from the NTU RGB+D 120 stage-1 RGB model (configs/epam_net_ntu120_rgb.py),
# the FC new: the paper pretrains both X-ShiftNets on NTU RGB+D 120 for
# Toyota Smarthome (§4.2, 8.7k / 7.7k training clips) and gives no other
# schedule, so the stage-1 one is kept. Other checkpoint:
#   --cfg-options model.backbone.rgb.init_cfg.checkpoint=NTU120_RGB.pth
_base_ = './epam_net_rgb.py'
ntu120_checkpoint = 'work_dirs/epam_net_ntu120_rgb/epoch_200.pth'
model = dict(backbone=dict(rgb=dict(init_cfg=dict(
    type='Pretrained', checkpoint=ntu120_checkpoint,
    prefix='backbone.rgb.'))))
