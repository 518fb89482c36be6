# TSMF stage 2 on ntu60_xsub with the authors' teacher input ("paper_input";
# the paper is silent): raw 3D coordinates, 300 frames per clip
# (FixedLengthSkeleton: zero-padded; longer clips sampled evenly), in train
# and test alike, instead of PreNormalize3D + 100 sampled frames. Its teacher:
# configs/tsmf_ntu60_xsub_paper-input_teacher.py. Other datasets: the same
# four lines on their config.
_base_ = ['./tsmf_ntu60_xsub.py']
gcn_input = dict(type='GCNSkeletonInput', transforms=_base_.gcn_paper)
train_dataloader = dict(dataset=dict(
    pipeline=[gcn_input] + _base_.train_pipeline[1:]))
val_dataloader = dict(dataset=dict(
    pipeline=[gcn_input] + _base_.test_pipeline[1:]))
test_dataloader = val_dataloader
clip_len = dict(skeleton=300)  # complexity.py
model = dict(teacher_checkpoint='work_dirs/'
             'tsmf_ntu60_xsub_paper-input_teacher/epoch_80.pth')
