"""The cross-modal 3D deformable transformer (paper 004: Kim, Ahn, Ko, ICCV
2023, §3, Fig. 2): RGB tokens ``Z`` (``F_b`` + position embedding), pose
tokens ``P`` (the joint tokenizer on ``F_a``, eq. 1-2), cross-modal tokens
``M = (M_RGB, M_pose, M_CLS)`` and ``L`` blocks of

1. 3D deformable attention (eq. 3-7) on ``[Z || M_RGB || M_CLS]``
   (:class:`DeformableAttention3D`), giving ``Z, M_RGB, M'_CLS``;
2. joint stride attention on ``P`` with ``[M_pose || M'_CLS]``
   (:class:`JointStrideAttention`), giving ``P, M_pose, M''_CLS``;
3. the CLS merge ``M_CLS = Linear_{8C -> 4C}([M'_CLS || M''_CLS])``;
4. temporal stride attention over ``[Z || P || M]`` of each window of
   frames (:class:`TemporalStrideAttention`; one module, into which the one
   merged ``M_CLS`` enters -- ``temporal_modules='per_modality'``: a pair,
   one over ``[Z || M_RGB || M_CLS]`` and one over
   ``[P || M_pose || M_CLS]``, whose two ``M_CLS`` are averaged).

The output is the last ``[M_RGB || M_pose || M_CLS]`` concatenated on
channels, ``[N, 12C, T, 1, 1]``, for a head that averages over ``T`` and
classifies (MMAction2's ``I3DHead``; one cross-entropy, no per-modality
heads).

Choices where the paper is silent (README, "our choices"), each a switch:

* ``L = 4`` blocks, 8 heads, FFN ``x4``, dropout 0; learnable position
  embedding of ``Z`` (``[4C, T, H/8, W/8]``, trilinearly resized when the
  clip differs) and learnable modal tokens, one per frame each
  (truncated normal, std 0.02); no position or joint embedding of ``P``.
* Table 4's modules: ``deformable`` / ``joint_attention`` /
  ``temporal_attention`` = ``'on'`` (the module), ``'full'`` (full
  attention in its place: keys and values from all of ``Z``, one window
  of all joints / all frames) or ``'off'`` (eliminated, §4.3).
* Table 5's tokens: ``modal_tokens='cross_modal'`` (three per frame),
  ``'single'`` (one shared token per frame, the only one the modules and the
  head see) or ``'none'`` (the head gets the means of the last ``Z`` and
  ``P``, ``8C`` channels).

Missing modalities (:attr:`missing_modality_policy`): without the pose
input (test modalities ``('rgb', )`` or a sample lacking it) the joint
tokens are masked out of every attention -- the pose modal token stays; RGB
cannot be missing: the joint tokens pool the RGB features ``F_a`` (eq. 1),
so pose alone is not applicable (:meth:`check_modalities` raises
:class:`ModalitySubsetNotApplicable`).
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from mmaction.registry import MODELS
from ...evaluation.missing_modality import ModalitySubsetNotApplicable
from .deformable_attention_3d import DeformableAttention3D
from .joint_tokenizer import JointTokenizer
from .stride_attention import JointStrideAttention, TemporalStrideAttention

MODULE_MODES = ('on', 'full', 'off')
TOKEN_MODES = ('cross_modal', 'single', 'none')
TEMPORAL_MODES = ('merged', 'per_modality')


class DeformableTransformerBlock(BaseModule):
    """One block of Fig. 2a: 3D deformable, joint stride, CLS merge,
    temporal stride attention. Absent modal tokens are zero-length."""

    def __init__(self, embed_dims: int, num_heads: int, ffn_ratio: float,
                 drop_rate: float, kernel_size: int, dense_offsets: bool,
                 pre_norm: bool, joint_window: Optional[int],
                 joint_stride: Optional[int], temporal_window: int,
                 temporal_stride: int, deformable: str, joint_attention: str,
                 temporal_attention: str, with_cls: bool = True,
                 temporal_modules: str = 'merged') -> None:
        super().__init__()
        common = dict(num_heads=num_heads, ffn_ratio=ffn_ratio,
                      drop_rate=drop_rate)
        self.deformable = None if deformable == 'off' else \
            DeformableAttention3D(
                embed_dims, kernel_size=kernel_size, dense=dense_offsets,
                pre_norm=pre_norm, token_search=deformable == 'on',
                **common)
        self.joint = None if joint_attention == 'off' else \
            JointStrideAttention(
                embed_dims,
                window=joint_window if joint_attention == 'on' else None,
                stride=joint_stride if joint_attention == 'on' else None,
                **common)
        self.merge_cls = None if not with_cls else \
            nn.Linear(2 * embed_dims, embed_dims)
        full = temporal_attention == 'full'
        temporal = dict(embed_dims=embed_dims,
                        window=None if full else temporal_window,
                        stride=None if full else temporal_stride, **common)
        self.temporal = None if temporal_attention == 'off' else \
            TemporalStrideAttention(**temporal)
        # the per-modality pair: self.temporal takes the RGB side
        self.temporal_pose = TemporalStrideAttention(**temporal) if (
            self.temporal is not None
            and temporal_modules == 'per_modality') else None

    @staticmethod
    def _temporal(module: nn.Module, z: torch.Tensor, p: torch.Tensor,
                  tokens: Sequence[torch.Tensor],
                  missing: Optional[torch.Tensor]) -> Tuple:
        """``module`` over ``[z || p || tokens]`` (zero-length tokens left
        out); returns ``z, p`` and the tokens (zero-length ones as given)."""
        b, t, _, c = z.shape
        present = [x for x in tokens if x.shape[1]]
        m = torch.stack(present, 2) if present else z.new_zeros(b, t, 0, c)
        z, p, m = module(z, p, m, missing)
        out = list(m.unbind(2))
        return z, p, [out.pop(0) if x.shape[1] else x for x in tokens]

    def forward(self, z: torch.Tensor, p: torch.Tensor, m_rgb: torch.Tensor,
                m_pose: torch.Tensor, m_cls: torch.Tensor,
                missing: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """``z [B, C, T, h, w]``, ``p [B, T, R, C]``, modal tokens
        ``[B, T or 0, C]``, ``missing [B, T, R]`` (masked joint tokens)."""
        cls_rgb = cls_pose = m_cls
        if self.deformable is not None:
            z, m_rgb, cls_rgb = self.deformable(z, m_rgb, m_cls)
        if self.joint is not None:
            p, m_pose, cls_pose = self.joint(p, m_pose, cls_rgb, missing)
        if self.merge_cls is not None:
            m_cls = self.merge_cls(torch.cat([cls_rgb, cls_pose], dim=-1))
        if self.temporal is not None:
            b, c, t, h, w = z.shape
            zt = z.flatten(3).permute(0, 2, 3, 1)  # [B, T, hw, C]
            if self.temporal_pose is None:
                zt, p, (m_rgb, m_pose, m_cls) = self._temporal(
                    self.temporal, zt, p, (m_rgb, m_pose, m_cls), missing)
            else:
                zt, _, (m_rgb, cls_rgb) = self._temporal(
                    self.temporal, zt, p[:, :, :0], (m_rgb, m_cls), None)
                _, p, (m_pose, cls_pose) = self._temporal(
                    self.temporal_pose, zt[:, :, :0], p, (m_pose, m_cls),
                    missing)
                m_cls = (cls_rgb + cls_pose) / 2
            z = zt.permute(0, 3, 1, 2).reshape(b, c, t, h, w)
        return z, p, m_rgb, m_pose, m_cls


@MODELS.register_module()
class CrossModalDeformableTransformer(BaseModule):
    """Joint tokenizer + cross-modal tokens + ``L`` deformable blocks.

    Args:
        in_channels (tuple[int]): Channels ``(C, 4C)`` of ``F_a``, ``F_b``.
            Defaults to ``(64, 256)`` (R(2+1)D-18).
        embed_dims (int, optional): Token width; None = ``4C``.
        token_shape (tuple[int]): ``(T, H/8, W/8)`` of ``Z`` the position
            embedding and modal tokens are made for (12 frames of 224²:
            ``(12, 28, 28)``).
        num_layers (int): ``L``. Defaults to 4.
        num_heads (int): Defaults to 8.
        ffn_ratio (float): Defaults to 4.
        drop_rate (float): Defaults to 0.
        kernel_size (int): ``k`` of the 3D token search. Defaults to 7.
        dense_offsets (bool): Dense first 3DTS conv (default depthwise).
        pre_norm (bool): LayerNorm before the deformable MSA (eq. 6 has
            none). Defaults to False.
        joint_window, joint_stride (int, optional): ``w_j``, ``s_j``; None =
            all ``R`` joint tokens, ``ceil(R / 2)``.
        temporal_window, temporal_stride (int): ``w_t``, ``s_t``. Defaults
            to 4, 2.
        sigma (float): Gaussian of eq. 2, in ``F_a`` cells. Defaults to 1.
        modal_tokens (str): ``'cross_modal'``, ``'single'`` or ``'none'``.
        deformable, joint_attention, temporal_attention (str): ``'on'``,
            ``'full'`` or ``'off'``.
        temporal_modules (str): ``'merged'`` (one temporal stride module
            over ``[Z || P || M]``, §3.2) or ``'per_modality'`` (a pair, one
            per modality with its modal token and ``M_CLS``; the two
            ``M_CLS`` averaged). Needs modal tokens.
        modalities (tuple[str]): Input keys of the RGB feature maps and the
            joint coordinates. Defaults to ``('rgb', 'pose')``.

    Shape:
        ``forward({'rgb': (F_a, F_b), 'pose': coords [N, T, J, 3]},
        present=None)`` -> ``([N, out_channels, T, 1, 1], {})``; ``coords``
        as :class:`JointCoordinates` writes them (cell ``x, y`` on ``F_a``,
        valid); ``present`` ``[N, 2]`` bool in :attr:`modalities` order.
    """

    missing_modality_policy = (
        'RGB alone: the joint tokens are masked out of every attention (the '
        'pose modal token stays); pose alone: not applicable (the joint '
        'tokens pool RGB features, eq. 1)')

    def __init__(self,
                 in_channels: Sequence[int] = (64, 256),
                 embed_dims: Optional[int] = None,
                 token_shape: Sequence[int] = (12, 28, 28),
                 num_layers: int = 4,
                 num_heads: int = 8,
                 ffn_ratio: float = 4.,
                 drop_rate: float = 0.,
                 kernel_size: int = 7,
                 dense_offsets: bool = False,
                 pre_norm: bool = False,
                 joint_window: Optional[int] = None,
                 joint_stride: Optional[int] = None,
                 temporal_window: int = 4,
                 temporal_stride: int = 2,
                 sigma: float = 1.,
                 modal_tokens: str = 'cross_modal',
                 deformable: str = 'on',
                 joint_attention: str = 'on',
                 temporal_attention: str = 'on',
                 temporal_modules: str = 'merged',
                 modalities: Sequence[str] = ('rgb', 'pose'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value, choices in (
                ('modal_tokens', modal_tokens, TOKEN_MODES),
                ('deformable', deformable, MODULE_MODES),
                ('joint_attention', joint_attention, MODULE_MODES),
                ('temporal_attention', temporal_attention, MODULE_MODES),
                ('temporal_modules', temporal_modules, TEMPORAL_MODES)):
            if value not in choices:
                raise ValueError(f'{name} must be one of {choices}, got '
                                 f'{value!r}')
        if temporal_modules == 'per_modality' and modal_tokens == 'none':
            raise ValueError(
                "temporal_modules='per_modality' needs modal tokens: without "
                'them the pose module of a sample without joints would '
                "attend to nothing (use modal_tokens='cross_modal' or "
                "'single')")
        token_shape = tuple(int(v) for v in token_shape)
        if deformable == 'on' and min(token_shape) < kernel_size:
            raise ValueError(
                f'the 3D token search (k={kernel_size}, unpadded) needs T, '
                f'H/8 and W/8 >= {kernel_size}; the RGB tokens are '
                f'{token_shape} (T x H/8 x W/8): use a longer or larger clip '
                'or a smaller kernel_size')
        c_a, c_b = in_channels
        embed_dims = embed_dims or c_b
        self.embed_dims = embed_dims
        self.token_shape = token_shape
        self.modalities = tuple(modalities)
        self.modal_tokens = modal_tokens
        self.project_rgb = nn.Identity() if c_b == embed_dims else \
            nn.Conv3d(c_b, embed_dims, 1)
        self.tokenizer = JointTokenizer(c_a, embed_dims, sigma=sigma)
        self.pos_embed = nn.Parameter(torch.zeros(1, embed_dims,
                                                  *token_shape))
        num_tokens = dict(cross_modal=3, single=1, none=0)[modal_tokens]
        self.tokens = nn.Parameter(torch.zeros(
            num_tokens, token_shape[0], embed_dims)) if num_tokens else None
        self.blocks = nn.ModuleList([
            DeformableTransformerBlock(
                embed_dims, num_heads, ffn_ratio, drop_rate, kernel_size,
                dense_offsets, pre_norm, joint_window, joint_stride,
                temporal_window, temporal_stride, deformable,
                joint_attention, temporal_attention,
                with_cls=num_tokens > 0, temporal_modules=temporal_modules)
            for _ in range(num_layers)
        ])
        # [M_RGB || M_pose || M_CLS], [M_CLS] or [mean Z || mean P]
        self.out_channels = embed_dims * (num_tokens or 2)

    def init_weights(self) -> None:
        super().init_weights()
        trunc_normal_(self.pos_embed, std=.02)
        if self.tokens is not None:
            trunc_normal_(self.tokens, std=.02)

    # ------------------------------------------------------------------
    def check_modalities(self, modalities: Sequence[str]) -> None:
        """Raise :class:`ModalitySubsetNotApplicable` for a subset this
        model cannot classify (pose without RGB)."""
        if self.modalities[0] not in modalities:
            raise ModalitySubsetNotApplicable(
                f'{tuple(modalities)}: the joint tokens pool the RGB '
                'features F_a (eq. 1); without RGB there is nothing to '
                'classify')

    def _resized(self, param: torch.Tensor, size: Tuple[int, ...]
                 ) -> torch.Tensor:
        if tuple(param.shape[2:]) == tuple(size):
            return param
        return F.interpolate(param, size=size, mode='trilinear',
                             align_corners=False)

    def _modal_tokens(self, batch: int, frames: int
                      ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        empty = self.pos_embed.new_zeros(batch, 0, self.embed_dims)
        if self.tokens is None:
            return empty, empty, empty
        tokens = self.tokens
        if tokens.shape[1] != frames:  # [K, T, C] resized along T
            tokens = F.interpolate(tokens.transpose(1, 2), size=frames,
                                   mode='linear', align_corners=False
                                   ).transpose(1, 2)
        tokens = tokens[:, None].expand(-1, batch, -1, -1)
        if self.modal_tokens == 'cross_modal':
            return tokens[0], tokens[1], tokens[2]
        return empty, empty, tokens[0]  # 'single'

    def forward(self, feats: Dict, data_samples=None,
                present: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, Dict]:
        rgb, pose = self.modalities
        if rgb not in feats:
            self.check_modalities(tuple(feats))
        f_a, f_b = feats[rgb]
        z = self.project_rgb(f_b)
        b, c, t, h, w = z.shape
        z = z + self._resized(self.pos_embed, (t, h, w))
        if pose in feats:
            p, missing = self.tokenizer(f_a, feats[pose])
        else:  # RGB alone: no joint tokens, all masked
            p = z.new_zeros(b, t, 1, c)
            missing = torch.ones(b, t, 1, dtype=torch.bool, device=z.device)
        if present is not None:
            missing = missing | ~present[:, self.modalities.index(pose),
                                         None, None]
        m_rgb, m_pose, m_cls = self._modal_tokens(b, t)
        for block in self.blocks:
            z, p, m_rgb, m_pose, m_cls = block(z, p, m_rgb, m_pose, m_cls,
                                               missing)
        if self.modal_tokens == 'none':
            keep = (~missing).unsqueeze(-1).to(p.dtype)
            pooled = (p * keep).sum(2) / keep.sum(2).clamp(min=1)
            out = torch.cat([z.flatten(3).mean(-1).transpose(1, 2), pooled],
                            dim=-1)
        else:
            out = torch.cat([x for x in (m_rgb, m_pose, m_cls)
                             if x.shape[1]], dim=-1)
        return out.transpose(1, 2)[..., None, None], dict()  # [B,C',T,1,1]
