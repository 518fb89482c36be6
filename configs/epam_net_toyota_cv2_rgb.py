# EPAM-Net stage 1, RGB stream, on Toyota Smarthome cross-view 2 (CV2):
# configs/epam_net_ntu120_rgb.py (pipeline, schedule, batch) on other data
# (configs/_base_/epam_net_toyota_cv2.py), the backbone started from the NTU120
# stage-1 RGB model, the 19-class FC new, as in the paper
# (configs/_base_/epam_net_rgb_ntu120.py). Other checkpoint:
#   --cfg-options model.backbone.rgb.init_cfg.checkpoint=NTU120_RGB.pth
# Annotation: data/toyota_smarthome_cv.pkl from
# python -m data_prep.toyota_smarthome.build_annotations (see
# configs/_base_/epam_net_toyota_cs.py).
_base_ = ['./_base_/epam_net_toyota_cv2.py', './_base_/epam_net_rgb_ntu120.py']
model = dict(cls_head=dict(num_classes=_base_.num_classes))
train_dataloader = _base_.rgb_train_loader
test_dataloader = val_dataloader = _base_.rgb_test_loader
