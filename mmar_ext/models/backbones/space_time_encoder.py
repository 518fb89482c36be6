"""Modality-specific space-time encoder (paper 001, §2.1, eqs. (1)-(4)).

A 2D space encoder ``E^m`` runs on every frame, its feature map is average
pooled to ``x_i^m in R^C`` (eq. (1), ``C = 512`` for ResNet18/34), and the
frame sequence goes through the time encoder -- a transformer with a class
token and a fixed absolute position embedding (eqs. (2)-(4)).  The final
class token ``cls_L^m`` is the clip representation handed to the fusion
unit.

The paper's best setting (Table 2) is ImageNet-initialised ResNet34 + a
2-layer transformer, which is the default here.  The space encoder is any
MMAction2 2D backbone config; for MMAction2's ``ResNet``, ``pretrained``
takes ``'torchvision://resnet18'`` / ``'torchvision://resnet34'`` or the
path of a torchvision-format state dict, and ``norm_eval`` /
``frozen_stages`` / ``with_cp`` are honoured by ``ResNet`` itself.

Other architectures reuse the pieces:

* ``time_encoder=None`` returns the per-frame features ``[N, T, C]`` (for
  models that bring their own temporal module), and with
  ``spatial_pool=False`` the per-frame maps ``[N, C, T, h, w]`` (M-Mixer's
  feature extractor, paper 000 §III-A);
* ``return_tokens=True`` returns ``(cls_L [N, C], frame tokens [N, T, C])``.
"""
import copy
from typing import Optional, Tuple, Union

import torch
from mmengine.model import BaseModule

from mmaction.registry import MODELS

DEFAULT_SPACE_ENCODER = dict(
    type='ResNet',
    depth=34,
    pretrained='torchvision://resnet34',
    norm_eval=False,
    frozen_stages=-1)

DEFAULT_TIME_ENCODER = dict(
    type='TokenTransformer',
    num_layers=2,
    num_heads=8,
    feedforward_channels=2048,
    drop_rate=0.,
    with_cls_token=True,
    pos_embed='sinusoidal',
    final_norm=False)


@MODELS.register_module()
class SpaceTimeEncoder(BaseModule):
    """Per-frame 2D encoder + avgpool (eq. (1)) + transformer (eqs. (2)-(4)).

    Args:
        space_encoder (dict): Config of the 2D backbone ``E^m`` applied to
            each frame; its (last) output is a ``[N*T, C, h, w]`` map (or an
            already pooled ``[N*T, C]`` vector). Defaults to ImageNet
            (torchvision) initialised ``ResNet`` depth 34.
        time_encoder (dict, optional): Config of the time encoder; its
            ``embed_dims`` defaults to ``feat_dim``. Defaults to a 2-layer,
            8-head, 2048-FFN :class:`TokenTransformer` with class token and
            sinusoidal positions, dropout 0. None skips temporal modelling
            and returns per-frame features.
        feat_dim (int, optional): Channels ``C`` of the pooled frame
            feature. Defaults to the space encoder's ``feat_dim`` attribute
            (512 for ResNet18/34).
        return_tokens (bool): Also return the time encoder's frame tokens.
            Defaults to False.
        spatial_pool (bool): Average-pool each frame's map (eq. (1)).
            False (only with ``time_encoder=None``) returns the maps
            ``[N, C, T, h, w]``. Defaults to True.
        init_cfg (dict, optional): MMEngine init config.

    Shape:
        input ``[N, C0, T, H, W]`` (MMAction2 ``NCTHW``); output
        ``cls_L [N, C]``, or ``(cls_L, tokens [N, T, C])`` with
        ``return_tokens``, or ``[N, T, C]`` when ``time_encoder=None``.
        When the time encoder has no class token, the mean of its output
        tokens replaces ``cls_L``.
    """

    def __init__(self,
                 space_encoder: dict = DEFAULT_SPACE_ENCODER,
                 time_encoder: Optional[dict] = DEFAULT_TIME_ENCODER,
                 feat_dim: Optional[int] = None,
                 return_tokens: bool = False,
                 spatial_pool: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if not spatial_pool and time_encoder is not None:
            raise ValueError('spatial_pool=False needs time_encoder=None: '
                             'the time encoder takes pooled frame features')
        self.spatial_pool = spatial_pool
        self.space_encoder = MODELS.build(copy.deepcopy(space_encoder))
        if feat_dim is None:
            feat_dim = getattr(self.space_encoder, 'feat_dim', None)
            if feat_dim is None:
                raise ValueError('feat_dim is required: the space encoder '
                                 f'{type(self.space_encoder).__name__} has '
                                 'no feat_dim attribute')
        self.feat_dim = feat_dim
        self.return_tokens = return_tokens
        if time_encoder is None:
            self.time_encoder = None
        else:
            time_encoder = copy.deepcopy(dict(time_encoder))
            time_encoder.setdefault('embed_dims', feat_dim)
            self.time_encoder = MODELS.build(time_encoder)

    def encode_frames(self, x: torch.Tensor) -> torch.Tensor:
        """Eq. (1): clips ``[N, C0, T, H, W]`` -> frame features
        ``[N, T, C]`` (maps ``[N, C, T, h, w]`` without ``spatial_pool``)."""
        if x.ndim != 5:
            raise ValueError(f'expected [N, C, T, H, W], got {tuple(x.shape)}')
        n, c0, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(n * t, c0, h, w)
        feats = self.space_encoder(frames)
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        if not self.spatial_pool:
            if feats.ndim != 4:
                raise ValueError('spatial_pool=False needs a [N*T, C, h, w] '
                                 f'map, got {tuple(feats.shape)}')
            return feats.view(n, t, *feats.shape[1:]).transpose(1, 2)
        if feats.ndim == 4:
            feats = feats.mean(dim=(2, 3))  # avgpool
        elif feats.ndim != 2:
            raise ValueError('space encoder output must be [N*T, C, h, w] or '
                             f'[N*T, C], got {tuple(feats.shape)}')
        return feats.view(n, t, -1)

    def forward(self, x: torch.Tensor
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Encode a clip batch ``[N, C0, T, H, W]`` (eqs. (1)-(4))."""
        frames = self.encode_frames(x)
        if self.time_encoder is None:
            return frames
        tokens = self.time_encoder(frames)
        if getattr(self.time_encoder, 'with_cls_token', True):
            cls, frame_tokens = tokens[:, 0], tokens[:, 1:]
        else:
            cls, frame_tokens = tokens.mean(dim=1), tokens
        if self.return_tokens:
            return cls, frame_tokens
        return cls
