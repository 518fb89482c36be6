# EPAM-Net on Toyota Smarthome cross-view 2 (CV2): ./epam_net_toyota_cs.py
# on the cross-view annotation (data/toyota_smarthome_cv.pkl, the 19 CV
# classes; same command), trained on cv2_train (cameras 1, 3, 4, 6, 7),
# validated on cv2_val (camera 5), tested on cv2_test (camera 2).
_base_ = './epam_net_toyota_cs.py'
ann_file, num_classes = 'data/toyota_smarthome_cv.pkl', 19
train_dataloader = dict(dataset=dict(
    ann_file=ann_file, split='cv2_train', num_classes=num_classes))
val_dataloader = dict(dataset=dict(
    ann_file=ann_file, split='cv2_val', num_classes=num_classes))
test_dataloader = dict(dataset=dict(
    ann_file=ann_file, split='cv2_test', num_classes=num_classes))
