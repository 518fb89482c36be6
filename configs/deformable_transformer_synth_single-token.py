# Table 5 (paper 004) "single" in miniature: one shared modal token per frame
# in place of the three cross-modal ones; the head classifies it (4C).
_base_ = ['./deformable_transformer_synth.py']
model = dict(neck=dict(modal_tokens='single'), cls_head=dict(in_channels=64))
