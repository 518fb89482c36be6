# ActionMAE on NTU RGB+D 60 cross-subject at the paper's recipe (§4.1): the
# fusion baselines' data and schedule (./stfusion_ntu60_xsub.py: T = 16,
# 224x224 shifted centre crop, colour jitter on RGB only, depth and IR as
# jet, AdamW lr 1e-4 / wd 1e-4, batch 32, lr /10 every 30 epochs -- 60
# epochs: our choice, the paper gives no total) + ./models/actionmae.py.
_base_ = ['./stfusion_ntu60_xsub.py', './models/actionmae.py']
model = _base_.actionmae_model
