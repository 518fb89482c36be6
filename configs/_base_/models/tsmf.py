# TSMF (paper 003, Fig. 2): a frozen ST-GCN teacher on the 3D joints whose
# last graph features weight the rows of an RGB ROI mosaic, a ResNet18
# student on the weighted mosaic, and the ensemble of both scores (eq. 1).
# * teacher = the stage-1 model, MMAction2's stock RecognizerGCN: STGCN
#   (NTU-25 graph, spatial partitioning, edge importance, tcn_dropout 0.5 as
#   the authors' code) + GCNHead -- 3,098,832 parameters with 60 classes;
# * student: ResNet18 (ImageNet initialisation, the authors' code; the paper
#   is silent) + global average pooling + FC, no dropout -- 11,207,292;
# * joint weights (eq. 4): JointSpatialWeights (NTU-25 head, right hand,
#   left hand, right ankle, left ankle; per sample; top-20 % frames);
# * the mosaic rows are weighted in the normalised space (the authors'
#   code; model.weight_space='raw' for eq. 6 on pixels); lambda = 1.
# Stage 2 loads the stage-1 checkpoint: model.teacher_checkpoint (a config
# sets the default work_dirs path of its teacher config).
tsmf_teacher = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'),
        tcn_dropout=0.5),
    cls_head=dict(type='GCNHead', num_classes=60, in_channels=256))
model = dict(
    type='TSMFRecognizer',
    teacher=tsmf_teacher,
    backbone=dict(
        type='ResNet', depth=18, pretrained='torchvision://resnet18',
        norm_eval=False),
    cls_head=dict(
        type='TSNHead', num_classes=60, in_channels=512, dropout_ratio=0.,
        average_clips='prob'),
    joint_weights=dict(type='JointSpatialWeights'),
    ensemble_weight=1.,
    data_preprocessor=dict(
        type='MultiModalDataPreprocessor',
        preprocessors=dict(
            skeleton=dict(type='ActionDataPreprocessor'),
            roi_imgs=dict(
                type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375], format_shape='NCHW'))))
