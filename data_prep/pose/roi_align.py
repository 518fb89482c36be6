"""RoIAlign as weighted row sums of a channels-last feature map (CPU).

MMCV's CPU ``RoIAlign`` kernel loops over the RoIs on one thread (its
OpenMP pragma is commented out) and reads NCHW memory, so in Faster R-CNN's
RoI head -- 1000 RoIs per image -- it costs about as much as the box head's
fully connected layers and leaves the other cores idle.

RoIAlign's output bin is a weighted sum of feature vectors: for bin
``(ph, pw)`` of a RoI, every sampling point ``(y, x)`` of the bin
(``ceil(roi_h / PH) x ceil(roi_w / PW)`` of them when ``sampling_ratio`` is
0) contributes its four bilinear neighbours with weights
``w_y * w_x / count``.  Over a channels-last map flattened to a table of
``[B * H * W, C]`` rows that is exactly ``F.embedding_bag(mode='sum',
per_sample_weights=...)``: one multi-threaded call, no NCHW copy of the
features.  :class:`EmbeddingBagRoIAlign` computes it with MMCV's sampling
and boundary rules (``aligned``, adaptive or fixed ``sampling_ratio``,
average pooling), so its output equals MMCV's up to float summation order
(``tests/test_pose_extraction.py`` compares them).
"""
from __future__ import annotations

from typing import Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F


def _axis_samples(start: torch.Tensor, bin_size: torch.Tensor, grid: int,
                  pooled: int, size: int):
    """Neighbour rows and weights of the sampling points along one axis.

    For ``n`` RoIs with ``start`` / ``bin_size`` ``[n]`` and ``grid`` points
    per bin, returns ``index`` (int64) and ``weight`` (float) of shape
    ``[n, pooled, 2 * grid]``: the low and high neighbour of each point and
    their linear weights (zero for points outside ``[-1, size]``).
    """
    steps = torch.arange(grid, dtype=start.dtype, device=start.device)
    bins = torch.arange(pooled, dtype=start.dtype, device=start.device)
    # MMCV: start + p * bin + (i + .5) * bin / grid, in this order
    pos = (start[:, None, None] + bins[None, :, None] * bin_size[:, None, None]
           + (steps + 0.5)[None, None, :] * bin_size[:, None, None] / grid)
    inside = (pos >= -1.0) & (pos <= size)
    pos = pos.clamp(min=0)
    low = pos.to(torch.int64)
    at_edge = low >= size - 1
    low = torch.where(at_edge, torch.full_like(low, size - 1), low)
    high = torch.where(at_edge, low, low + 1)
    frac = torch.where(at_edge, torch.zeros_like(pos), pos - low.to(pos.dtype))
    w_high = frac * inside
    w_low = (1 - frac) * inside
    index = torch.cat([low, high], dim=-1)
    weight = torch.cat([w_low, w_high], dim=-1)
    return index, weight


def roi_align_embedding_bag(features: torch.Tensor, rois: torch.Tensor,
                            output_size: Tuple[int, int],
                            spatial_scale: float = 1.0,
                            sampling_ratio: int = 0,
                            aligned: bool = True) -> torch.Tensor:
    """MMCV ``roi_align`` (``pool_mode='avg'``) by ``F.embedding_bag``.

    Args:
        features: ``[B, C, H, W]``; channels-last memory avoids a copy.
        rois: ``[N, 5]`` ``(batch index, x1, y1, x2, y2)`` in input pixels.
        output_size: ``(PH, PW)``.
        spatial_scale: feature pixels per input pixel.
        sampling_ratio: points per bin side; 0 is adaptive
            (``ceil(roi size / output size)``).
        aligned: shift by half a pixel (Detectron2's ``aligned=True``).

    Returns:
        ``[N, C, PH, PW]``.
    """
    num_images, channels, height, width = features.shape
    ph_out, pw_out = output_size
    num_rois = rois.shape[0]
    out = features.new_zeros((num_rois, ph_out, pw_out, channels))
    if num_rois == 0:
        return out.permute(0, 3, 1, 2)
    table = features.permute(0, 2, 3, 1).reshape(-1, channels)
    rois = rois.float()  # sampling positions in float32 whatever the table
    offset = 0.5 if aligned else 0.0
    x1 = rois[:, 1] * spatial_scale - offset
    y1 = rois[:, 2] * spatial_scale - offset
    roi_w = rois[:, 3] * spatial_scale - offset - x1
    roi_h = rois[:, 4] * spatial_scale - offset - y1
    if not aligned:  # legacy mode: RoIs at least 1x1
        roi_w, roi_h = roi_w.clamp(min=1.0), roi_h.clamp(min=1.0)
    bin_w, bin_h = roi_w / pw_out, roi_h / ph_out
    if sampling_ratio > 0:
        grid_h = torch.full((num_rois, ), sampling_ratio, dtype=torch.int64)
        grid_w = grid_h
    else:
        grid_h = torch.ceil(roi_h / ph_out).to(torch.int64)
        grid_w = torch.ceil(roi_w / pw_out).to(torch.int64)
    base = rois[:, 0].to(torch.int64) * (height * width)
    # RoIs with the same number of points per bin are done together
    pairs = torch.stack([grid_h, grid_w], dim=1)
    for gh, gw in torch.unique(pairs, dim=0).tolist():
        if gh <= 0 or gw <= 0:  # empty RoI: MMCV averages nothing -> 0
            continue
        sel = torch.nonzero((pairs[:, 0] == gh) & (pairs[:, 1] == gw)
                            ).squeeze(1)
        count = gh * gw
        y_idx, y_w = _axis_samples(y1[sel], bin_h[sel], gh, ph_out, height)
        x_idx, x_w = _axis_samples(x1[sel], bin_w[sel], gw, pw_out, width)
        # [n, PH, PW, 2gh, 2gw] rows of the table and their weights
        index = (base[sel, None, None, None, None]
                 + y_idx[:, :, None, :, None] * width
                 + x_idx[:, None, :, None, :])
        weight = (y_w[:, :, None, :, None] * x_w[:, None, :, None, :]
                  ) / count
        bags = 4 * gh * gw
        pooled = F.embedding_bag(
            index.reshape(-1, bags), table, mode='sum',
            per_sample_weights=weight.reshape(-1, bags).to(table.dtype))
        out[sel] = pooled.view(-1, ph_out, pw_out, channels)
    return out.permute(0, 3, 1, 2)


class EmbeddingBagRoIAlign(nn.Module):
    """Drop-in for ``mmcv.ops.RoIAlign`` (``pool_mode='avg'``, inference).

    Args:
        output_size: ``(PH, PW)`` or an int.
        spatial_scale, sampling_ratio, aligned: as ``mmcv.ops.RoIAlign``.
    """

    def __init__(self, output_size: Union[int, Tuple[int, int]],
                 spatial_scale: float = 1.0, sampling_ratio: int = 0,
                 aligned: bool = True) -> None:
        super().__init__()
        if isinstance(output_size, int):
            output_size = (output_size, output_size)
        self.output_size = tuple(int(s) for s in output_size)
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = int(sampling_ratio)
        self.aligned = bool(aligned)

    @classmethod
    def from_mmcv(cls, module) -> 'EmbeddingBagRoIAlign':
        """The equivalent of an ``mmcv.ops.RoIAlign`` module."""
        if getattr(module, 'pool_mode', 'avg') != 'avg':
            raise ValueError('only average-pooling RoIAlign is supported, '
                             f'got pool_mode={module.pool_mode!r}')
        return cls(module.output_size, module.spatial_scale,
                   module.sampling_ratio, module.aligned)

    def forward(self, features: torch.Tensor,
                rois: torch.Tensor) -> torch.Tensor:
        return roi_align_embedding_bag(features, rois, self.output_size,
                                       self.spatial_scale,
                                       self.sampling_ratio, self.aligned)

    def extra_repr(self) -> str:
        return (f'output_size={self.output_size}, spatial_scale='
                f'{self.spatial_scale}, sampling_ratio={self.sampling_ratio}'
                f', aligned={self.aligned}')


def replace_roi_align(model: nn.Module) -> int:
    """Replaces every ``mmcv.ops.RoIAlign`` of ``model`` (in place) by
    :class:`EmbeddingBagRoIAlign`; returns how many."""
    from mmcv.ops import RoIAlign
    replaced = 0
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if isinstance(child, RoIAlign) and child.pool_mode == 'avg':
                setattr(parent, name, EmbeddingBagRoIAlign.from_mmcv(child))
                replaced += 1
    return replaced
