# ActionMAE (paper 001 §3) trained on RGB + depth + IR, NTU RGB+D 60 cross-subject;
# tested with any non-empty subset (tools/analysis/missing_modality_eval.py).
_base_ = ['./_base_/actionmae_ntu60_xsub.py']
