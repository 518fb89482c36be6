# EPAM-Net stage 1, RGB stream (seed 002 §4.2): the RGB X-ShiftNet alone
# (GAP + FC; no pose stream, no attention block), from scratch, and its
# schedule (SGD lr 0.05, momentum 0.9, cosine, 200 epochs, batch 64).
# The stage-1 RGB configs add a dataset base (./epam_net_<dataset>.py) and
# its rgb_*_loader settings.
_base_ = ['./models/epam_net.py', './schedules/epam_net_stage1_rgb.py']
model = dict(modalities=('rgb', ), neck=None)
