# Space-time fusion baselines (paper 001 §2) on NTU120 cross-subject at the
# paper's settings: T=16, 224x224, AdamW lr 1e-4 / wd 1e-4, label smoothing 0.1.
_base_ = [
    './models/stfusion_r34.py', './datasets/ntu120_xsub_rgbdi.py',
    './schedules/adamw_step30.py', './default_runtime.py'
]
model = dict(cls_head=dict(num_classes=120))
