# PKU-MMD phase 1 cross-subject for TSMF (paper 003, "Datasets": 51
# classes, 21,545 clips; "6 invalid samples that has no skeleton frames are
# not used" -- missing_modality=dict(skeleton='skip') leaves out samples
# without keypoint_3d): the samples of ./tsmf_ntu60_xsub.py (Kinect v2, the
# NTU-25 joints) on the PKU-MMD annotation.
# The annotation pkl (one sample per label row, a frame range of its video;
# splits xsub_* / xview_* from the release's Split/cross-subject.txt and
# cross-view.txt):
#   python -m data_prep.pku_mmd.build_annotations --raw-root data/pku_mmd \
#       --out data/pku_mmd_annotations.pkl
# The student's ROI mosaic needs 2D keypoints (PKU-MMD ships 3D joints
# only): add HRNet's with data_prep.pose_extraction. The teacher needs none.
_base_ = './tsmf_ntu60_xsub.py'
data_root = None  # relative paths of the pkl joined to its meta['raw_root']
ann_file, num_classes = 'data/pku_mmd_annotations.pkl', 51
train_dataloader = val_dataloader = test_dataloader = dict(dataset=dict(
    ann_file=ann_file, data_root=data_root, num_classes=num_classes,
    missing_modality=dict(skeleton='skip')))
