# ActionMAE (paper 001 §3) on the embedded synthetic dataset, R+D: against
# configs/stfusion_synth_rgb-depth_transformer.py (the same model without
# the ActionMAE neck) in tools/run_actionmae_robustness.sh.
_base_ = ['./_base_/actionmae_synth.py']
modalities = ('rgb', 'depth')
model = dict(modalities=modalities)
train_dataloader = dict(dataset=dict(modalities=modalities))
val_dataloader = test_dataloader = dict(dataset=dict(modalities=modalities))
