# ActionMAE on NTU RGB+D 120 cross-subject (as ./actionmae_ntu60_xsub.py).
_base_ = ['./stfusion_ntu120_xsub.py', './models/actionmae.py']
model = _base_.actionmae_model
