# ActionMAE (paper 001 §3, appendix B) on top of the space-time encoders of
# the fusion baselines (ResNet34 + Transformer, ./stfusion_r34.py): the
# missing-modality predictive-coding neck (2 + 2 pre-LN layers, 512-d, 8
# heads, FFN 2048, memory token, sinusoidal slot positions) and the
# transformer fusion unit. Loss = cross-entropy with label smoothing 0.1 +
# lambda_rec * MSE of the dropped tokens' reconstructions (eqs. (5)-(6)).
# Table 7 switches: model.neck.memory_token (7a), model.neck.loss_weight
# (7b, lambda_rec; lambda_cls is the head's loss_weight), model.neck.pos_embed
# (7c); 7d pre-training: ImageNet space encoders by default (PT (S)),
# model.stream_checkpoints.<m>=UNIMODAL.pth for space + time (PT (S+T)),
# model.backbone.<m>.space_encoder.pretrained=None for none.
actionmae_model = dict(
    neck=dict(type='ActionMAE', embed_dims=512, drop_sampling='subset',
              loss_weight=1., detach_target=True),
    cls_head=dict(type='TransformerFusionHead'))
