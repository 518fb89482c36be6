# Table 5 (paper 004) "none" in miniature: no modal tokens; the head
# classifies the means of the last RGB and pose tokens (8C).
_base_ = ['./deformable_transformer_synth.py']
model = dict(neck=dict(modal_tokens='none'), cls_head=dict(in_channels=128))
