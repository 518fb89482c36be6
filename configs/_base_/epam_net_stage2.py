# EPAM-Net stage 2 (seed 002 §4.2): both X-ShiftNets, the pose-driven
# attention block and the two classifiers, and the stage-2 schedule (SGD lr
# 0.001, momentum 0.9, cosine, 10 epochs, batch 24). The stage-2 configs add
# a dataset base (./epam_net_<dataset>.py) and start each stream from its
# stage-1 model: model.stream_checkpoints.
_base_ = ['./models/epam_net.py', './schedules/epam_net_stage2.py']
