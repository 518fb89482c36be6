"""Pose-driven spatial-temporal attention of EPAM-Net (seed 002, §3.3).

The pose stream's final feature maps ``F_s`` ``[N, C_s, T_N, S, S]`` decide
which regions of which frames of the RGB stream's maps ``F_r``
``[N, C_r, T_M, S, S]`` matter. Both streams end at the same ``S x S``
(7 x 7) on the same skeleton-box crop, so they are aligned in space; in time
the pose maps are strided to the RGB frames ("time-strided sampling",
``T_N = 48 -> T_M = 16``): pose frame ``temporal_offset + k * stride`` is the
RGB clip's frame ``k`` -- the same indices ``MultiModalSampleFrames`` gives
the RGB stream (``stride_start``).

Nesting attention (eqs. (2)-(4), Fig. 3), :class:`NestingSTAttentionMap`::

    A_S = sigmoid(BN(Conv_1x7x7([mean_c F_s ; max_c F_s])))       (2)
    Z_t = mean_HW(A_S)                                             (3)
    A_T = sigmoid(Conv1D_k7(Z_t))                                  (4)
    A_ST = A_S * A_T

98 + 2 + 7 = 107 parameters (a bias-free 2->1 ``1x7x7`` convolution, a
one-channel BatchNorm, a bias-free ``k=7`` Conv1d, as in the authors' code).

The alternative of §4.4.2 (eqs. (5)-(6), from NSTANet [38]),
:class:`NSTAttentionMap`::

    A_S = sigmoid(Conv_1x7x7(relu(Conv_1x3x3(F_s))))              (5)
    A_T = sigmoid(W_2 relu(W_1 GAP_HW(A_S)))                       (6)

The paper counts 2.87k parameters for it but does not give the width of
``W_1``; with ``C_s = 216``, ``T = 16`` and ``W_1: 16 -> 8`` (our default,
``temporal_reduction=2``) it has 2,275.

:class:`PoseDrivenAttention` modulates the RGB maps with a residual,
``F'_r = F_r + F_r * A_ST``, and leaves the pose maps as they are (the pose
head sees the unmodulated pose features). With only one of the two streams
present (missing-modality inference) it passes the features through: RGB
alone is classified without attention, pose alone by the pose head.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS


def stride_to(pose: torch.Tensor, num_frames: int, offset: int) -> torch.Tensor:
    """Pose maps ``[N, C, T_N, H, W]`` at the ``num_frames`` RGB frames:
    frames ``offset, offset + s, ...`` with ``s = T_N // num_frames``."""
    total = pose.size(2)
    if total % num_frames or offset >= total // num_frames:
        raise ValueError(
            f'cannot align {total} pose frames with {num_frames} RGB frames '
            f'(offset {offset}): the pose clip length must be a multiple of '
            'the RGB clip length (EPAM-Net: 48 and 16), and the offset '
            'smaller than their ratio')
    return pose[:, :, offset::total // num_frames]


@MODELS.register_module()
class NestingSTAttentionMap(BaseModule):
    """``A_ST`` of eqs. (2)-(4): 107 parameters.

    Args:
        spatial_kernel (int): Kernel of the spatial convolution. Defaults
            to 7.
        temporal_kernel (int): Kernel of the temporal Conv1d. Defaults to 7.
    """

    def __init__(self, spatial_kernel: int = 7, temporal_kernel: int = 7,
                 init_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(init_cfg=init_cfg)
        self.spatial_conv = nn.Conv3d(
            2, 1, (1, spatial_kernel, spatial_kernel),
            padding=(0, spatial_kernel // 2, spatial_kernel // 2), bias=False)
        self.spatial_bn = nn.BatchNorm3d(1)
        self.temporal_conv = nn.Conv1d(
            1, 1, temporal_kernel, padding=temporal_kernel // 2, bias=False)

    def spatial(self, pose: torch.Tensor) -> torch.Tensor:
        """``A_S`` ``[N, 1, T, H, W]`` (eq. (2))."""
        pooled = torch.cat([pose.mean(1, keepdim=True),
                            pose.amax(1, keepdim=True)], 1)
        return torch.sigmoid(self.spatial_bn(self.spatial_conv(pooled)))

    def temporal(self, spatial: torch.Tensor) -> torch.Tensor:
        """``A_T`` ``[N, 1, T]`` from ``A_S`` (eqs. (3)-(4))."""
        return torch.sigmoid(self.temporal_conv(spatial.mean((3, 4))))

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        spatial = self.spatial(pose)
        return spatial * self.temporal(spatial)[..., None, None]


@MODELS.register_module()
class NSTAttentionMap(BaseModule):
    """``A_ST`` of the alternative block, eqs. (5)-(6) (§4.4.2).

    Args:
        in_channels (int): Channels of the pose maps (216).
        num_frames (int): Frames of the aligned maps (16): ``W_1`` and
            ``W_2`` act on the time axis.
        temporal_reduction (int): ``W_1`` maps ``T`` to
            ``T // temporal_reduction``. Defaults to 2.
    """

    def __init__(self, in_channels: int, num_frames: int,
                 temporal_reduction: int = 2,
                 init_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(init_cfg=init_cfg)
        self.squeeze_conv = nn.Conv3d(in_channels, 1, (1, 3, 3),
                                      padding=(0, 1, 1))
        self.spatial_conv = nn.Conv3d(1, 1, (1, 7, 7), padding=(0, 3, 3))
        hidden = max(1, num_frames // temporal_reduction)
        self.fc1 = nn.Linear(num_frames, hidden)
        self.fc2 = nn.Linear(hidden, num_frames)

    def forward(self, pose: torch.Tensor) -> torch.Tensor:
        spatial = torch.sigmoid(
            self.spatial_conv(F.relu(self.squeeze_conv(pose))))
        squeezed = spatial.mean((3, 4))  # [N, 1, T]
        temporal = torch.sigmoid(self.fc2(F.relu(self.fc1(squeezed))))
        return spatial * temporal[..., None, None]


@MODELS.register_module()
class PoseDrivenAttention(BaseModule):
    """Neck of EPAM-Net: ``F'_r = F_r + F_r * A_ST(F_s)`` (§3.3).

    Called by :class:`MultiModalRecognizer` as
    ``feats, loss_aux = neck(feats)`` on the dict of the streams' maps.

    Args:
        attention (dict): Config of the map, :class:`NestingSTAttentionMap`
            (default, eqs. (2)-(4)) or :class:`NSTAttentionMap`
            (eqs. (5)-(6)).
        rgb (str): Modality key of the modulated stream. Defaults to
            ``'rgb'``.
        pose (str): Modality key of the guiding stream. Defaults to
            ``'pose'``.
        temporal_offset (int): Pose frame of the first RGB frame inside
            each stride; must equal ``stride_start`` of
            ``MultiModalSampleFrames``. Defaults to 0.
    """

    #: What a missing modality means (the robustness report names it).
    missing_modality_policy = ('RGB alone: RGB head without the pose-driven '
                               'attention; pose alone: pose head')

    def __init__(self,
                 attention: dict = dict(type='NestingSTAttentionMap'),
                 rgb: str = 'rgb',
                 pose: str = 'pose',
                 temporal_offset: int = 0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.attention = MODELS.build(attention)
        self.rgb, self.pose = rgb, pose
        self.temporal_offset = temporal_offset

    def attention_map(self, rgb: torch.Tensor,
                      pose: torch.Tensor) -> torch.Tensor:
        """``A_ST`` ``[N, 1, T_M, S, S]`` of the pose maps strided to the
        RGB maps' frames."""
        if rgb.shape[-2:] != pose.shape[-2:]:
            raise ValueError(
                f'RGB maps {tuple(rgb.shape)} and pose maps '
                f'{tuple(pose.shape)} must have the same spatial size')
        return self.attention(
            stride_to(pose, rgb.size(2), self.temporal_offset))

    def forward(self, feats: Dict[str, torch.Tensor],
                data_samples=None) -> Tuple[Dict[str, torch.Tensor], dict]:
        if self.rgb not in feats or self.pose not in feats:
            return feats, {}
        rgb = feats[self.rgb]
        out = dict(feats)
        out[self.rgb] = rgb + rgb * self.attention_map(rgb, feats[self.pose])
        return out, {}
