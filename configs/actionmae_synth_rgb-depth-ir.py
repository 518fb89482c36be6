# ActionMAE (paper 001 §3) on the embedded synthetic dataset, R+D+I.
_base_ = ['./_base_/actionmae_synth.py']
