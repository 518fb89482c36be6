"""TSMF's spatial attention weights (paper 003, "Spatial Attention Weights",
eq. 4): one weight per body-part joint from the teacher's last graph
feature map.

From the last ST-GCN block's output ``P^`` [N, M, C, T', V] (non-negative
after its ReLU), per sample:

1. activation per body, frame and joint: the mean over channels of
   ``sqrt(P^_ctj^2) = |P^_ctj|`` (eq. 4; ``channel_reduce='abs'``), or the
   L2 norm over channels (``'l2'``, the authors' code); the min-max
   normalisation below removes the difference in scale;
2. min-max normalisation over the sample's whole ``[M, T', V]`` map, times
   ``scale`` = 255 / 127 (the authors' code: the map becomes an 8-bit image
   and is divided by 127; the paper is silent), so weights lie in
   ``[0, 2.01]``. The authors' code normalises over the whole BATCH, which
   makes a sample's weights depend on its batch-mates; we normalise each
   sample alone (seeds/README);
3. the body with the larger mean activation;
4. per joint, the mean over its ``ceil(T' / 5)`` strongest frames
   (``frame_pool='topk'``, the code: 15 of 75 frames, which mostly skips the
   zero padding of short clips), or over all frames (``'mean'``, eq. 4
   literally);
5. the joints of the mosaic's rows (default NTU-25 head, right hand, left
   hand, right ankle, left ankle = ``PART_NAMES``).

A sample whose map is constant (e.g. all-zero input) gets weights 1 (the
mosaic unchanged) and is reported in :attr:`JointSpatialWeights.
constant` of the last call. No parameters, no gradient.
"""
import math
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from ...datasets.skeleton_layouts import roi_joints


@MODELS.register_module()
class JointSpatialWeights(BaseModule):
    """``p_j`` (eq. 4) of the mosaic's joints from ``P^`` [N, M, C, T', V].

    Args:
        joints (Sequence[int], optional): Joint (0-based) of each mosaic
            row. None = the ROI joints of ``layout``. Defaults to None.
        channel_reduce (str): ``'abs'`` (eq. 4) or ``'l2'``.
        frame_pool (str): ``'topk'`` or ``'mean'`` (eq. 4).
        topk_ratio (float): Fraction of frames kept by ``'topk'``
            (``ceil(T' * ratio)``). Defaults to 0.2.
        scale (float): Factor after the min-max normalisation. Defaults to
            255 / 127.
        eps (float): A map whose range is below ``eps`` is constant.
        layout (str): Skeleton layout of the teacher's joints
            (:mod:`mmar_ext.datasets.skeleton_layouts`); its ROI parts (head,
            right / left hand, right / left foot) are the default
            ``joints``. Defaults to ``'ntu25'`` (head, hands, ankles).
    """

    def __init__(self,
                 joints: Optional[Sequence[int]] = None,
                 channel_reduce: str = 'abs',
                 frame_pool: str = 'topk',
                 topk_ratio: float = 0.2,
                 scale: float = 255. / 127.,
                 eps: float = 1e-6,
                 init_cfg: Optional[dict] = None,
                 layout: str = 'ntu25') -> None:
        super().__init__(init_cfg=init_cfg)
        if joints is None:
            joints = roi_joints(layout)
        if channel_reduce not in ('abs', 'l2'):
            raise ValueError(f"channel_reduce must be 'abs' or 'l2', got "
                             f'{channel_reduce!r}')
        if frame_pool not in ('topk', 'mean'):
            raise ValueError(f"frame_pool must be 'topk' or 'mean', got "
                             f'{frame_pool!r}')
        if not 0 < topk_ratio <= 1:
            raise ValueError(f'topk_ratio must be in (0, 1], got '
                             f'{topk_ratio}')
        self.joints = tuple(int(j) for j in joints)
        self.channel_reduce = channel_reduce
        self.frame_pool = frame_pool
        self.topk_ratio = topk_ratio
        self.scale = scale
        self.eps = eps
        self.constant = torch.zeros(0, dtype=torch.bool)

    @torch.no_grad()
    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        """``[N, M, C, T', V]`` -> ``p`` [N, len(joints)]."""
        if feat.dim() != 5:
            raise ValueError(f'expected the ST-GCN map [N, M, C, T, V], got '
                             f'{tuple(feat.shape)}')
        if max(self.joints) >= feat.shape[-1]:
            raise ValueError(f'joints {self.joints} need {max(self.joints) + 1}'
                             f' graph nodes, the map has {feat.shape[-1]}')
        feat = feat.float()
        if self.channel_reduce == 'abs':
            act = feat.abs().mean(2)  # [N, M, T, V]
        else:
            act = feat.pow(2).sum(2).sqrt()
        flat = act.flatten(1)
        lo, hi = flat.amin(1), flat.amax(1)
        self.constant = (hi - lo) < self.eps
        span = torch.where(self.constant, torch.ones_like(hi), hi - lo)
        act = (act - lo[:, None, None, None]) / span[:, None, None, None]
        act = act * self.scale
        body = act.mean((2, 3)).argmax(1)  # the stronger body
        act = act[torch.arange(act.shape[0], device=act.device), body]
        if self.frame_pool == 'mean':
            per_joint = act.mean(1)  # [N, V]
        else:
            k = math.ceil(act.shape[1] * self.topk_ratio)
            per_joint = act.topk(k, dim=1).values.mean(1)
        p = per_joint[:, list(self.joints)]
        return torch.where(self.constant[:, None], torch.ones_like(p), p)
