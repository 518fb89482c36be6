# ActionMAE on the embedded synthetic dataset: the fusion baselines' CPU
# setting (./stfusion_synth.py: ResNet18 from scratch, 8 x 64x64, 15 epochs)
# + ./models/actionmae.py.
_base_ = ['./stfusion_synth.py', './models/actionmae.py']
model = _base_.actionmae_model
