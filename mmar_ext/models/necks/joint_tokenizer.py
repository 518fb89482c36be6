"""Joint tokenizer of the 3D deformable transformer (seed 004, Kim et al.,
ICCV 2023, §3.1 "Pose modality", eqs. (1)-(2)).

Pose tokens pool a backbone feature map ``F_a`` (``C x T x H/2 x W/2``)
under a Gaussian at each joint:

``P_t = ||_r sum_j sum_i F_{a,t}(i, j) H_{t,r}(i, j)``  (eq. 1)

``H_{t,r}(i, j) = exp(-((i - x_{t,r})^2 + (j - y_{t,r})^2) / 2 sigma^2)``
(eq. 2)

giving ``P in R^{C x T x R}``, then a linear projection ``C -> 4C`` to the
width of the RGB tokens. Choices made here (the paper is silent or
ambiguous):

* **x = column, y = row.** Eq. (2) pairs the row index ``i`` with ``x`` in
  print; we read ``x`` as the column ``j`` and ``y`` as the row ``i``, the
  only reading under which the map peaks at the joint.
* **Cell coordinates.** The joints arrive in cells of ``F_a``'s grid from
  :class:`~mmar_ext.datasets.transforms.JointCoordinates`: a keypoint
  ``(x, y)`` of the ``H x W`` image is at ``(x w / W - 0.5, y h / H - 0.5)``
  (cell ``(i, j)`` covers pixels ``[j W/w, (j+1) W/w) x [i H/h, (i+1)
  H/h)``). ``sigma`` is in cells, default 1 (not stated in the paper).
* **Unnormalised**, as eq. (1): the Gaussian's peak is 1 and its sum over
  the grid (``~ 2 pi sigma^2`` inside the map) is not divided out;
  ``normalize=True`` divides by that sum instead (a weighted mean; not the
  paper's).
* **Persons concatenated**: ``R = max_persons * K`` tokens per frame,
  person-major (as ``JointCoordinates`` / ``JointHeatmaps(persons=
  'concat')`` order them).
* **Separable computation**: ``H_{t,r} = G_y(row) G_x(col)``, so eq. (1) is
  ``einsum('bcthw,btjh,btjw->btjc', F_a, G_y, G_x)``, contracted one axis
  at a time; the ``T x R x h x w`` heatmaps are never built. It equals the
  einsum of ``F_a`` with ``JointHeatmaps(persons='concat')``'s maps.
* **Missing joints** (``valid = 0``: missing, NaN, absent person) pool
  nothing (``P = 0``, so their token is the projection's bias) and are
  flagged in the returned ``missing_mask`` for the model to mask.
"""
from typing import Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmaction.registry import MODELS


@MODELS.register_module()
class JointTokenizer(BaseModule):
    """Pose tokens from a feature map and joint cell coordinates (seed 004,
    eqs. (1)-(2); see the module docstring for the choices).

    Args:
        in_channels (int): ``C`` of the feature map ``F_a``.
        out_channels (int, optional): Token width after the projection (the
            paper's ``4C``). Defaults to None (``4 * in_channels``).
        sigma (float): Gaussian sigma in cells of ``F_a``. Defaults to 1.
        normalize (bool): Divide each joint's pooled feature by its
            Gaussian's sum over the grid (not the paper's). Defaults to
            False.
        init_cfg (dict, optional): MMEngine initialisation config.

    ``forward(feat, coords, grid_shape=None)``:

    * ``feat``: ``[B, C, T, h, w]``.
    * ``coords``: ``[B, T, J, 3]`` rows ``(x_cell, y_cell, valid)`` (the
      packed ``joint_coords``; ``[B, T, J, 2]`` means all valid).
    * ``grid_shape``: ``(h', w')`` of the grid the coordinates refer to
      (``joint_coords_shape``), if it may differ from ``feat``'s ``(h, w)``;
      the coordinates are then rescaled, ``x -> (x + 0.5) w / w' - 0.5``.

    Returns ``(tokens [B, T, J, out_channels], missing_mask [B, T, J]
    bool)``; ``missing_mask`` is True where ``valid <= 0.5``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: Optional[int] = None,
                 sigma: float = 1.,
                 normalize: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if sigma <= 0:
            raise ValueError(f'sigma must be > 0, got {sigma}')
        self.in_channels = in_channels
        self.out_channels = out_channels or 4 * in_channels
        self.sigma = float(sigma)
        self.normalize = normalize
        self.proj = nn.Linear(in_channels, self.out_channels)

    def gaussians(self, coords: Tensor, h: int,
                  w: int) -> Tuple[Tensor, Tensor]:
        """``G_y [B, T, J, h]`` (times ``valid``) and ``G_x [B, T, J, w]``
        of eq. (2), float32: ``exp(-(row - y)^2 / 2 sigma^2)`` and
        ``exp(-(col - x)^2 / 2 sigma^2)``."""
        coords = coords.float()
        x, y = coords[..., 0:1], coords[..., 1:2]
        den = 2 * self.sigma**2
        cols = torch.arange(w, device=coords.device, dtype=torch.float32)
        rows = torch.arange(h, device=coords.device, dtype=torch.float32)
        gx = torch.exp(-(cols - x)**2 / den)
        gy = torch.exp(-(rows - y)**2 / den)
        if coords.shape[-1] > 2:
            gy = gy * (coords[..., 2:3] > 0.5).float()
        return gy, gx

    def pool(self,
             feat: Tensor,
             coords: Tensor,
             grid_shape: Optional[Sequence[int]] = None) -> Tensor:
        """Eq. (1) before the projection: ``[B, T, J, C]``."""
        if feat.dim() != 5:
            raise ValueError(f'{type(self).__name__} expects feat [B, C, T, '
                             f'h, w], got {tuple(feat.shape)}')
        b, c, t, h, w = feat.shape
        if coords.dim() != 4 or coords.shape[-1] not in (2, 3) or \
                coords.shape[0] != b or coords.shape[1] != t:
            raise ValueError(
                f'{type(self).__name__} expects coords [B={b}, T={t}, J, 3], '
                f'got {tuple(coords.shape)}')
        if c != self.in_channels:
            raise ValueError(f'{type(self).__name__}: feat has {c} channels, '
                             f'expected in_channels={self.in_channels}')
        if grid_shape is not None and tuple(int(s)
                                            for s in grid_shape) != (h, w):
            gh, gw = (float(s) for s in grid_shape)
            scale = coords.new_tensor([w / gw, h / gh])
            xy = (coords[..., :2].float() + 0.5) * scale - 0.5
            coords = torch.cat([xy, coords[..., 2:].float()], -1)
        gy, gx = self.gaussians(coords, h, w)
        # separable: contract h with G_y, then w with G_x
        pooled = torch.einsum('bcthw,btjh,btjw->btjc', feat,
                              gy.to(feat.dtype), gx.to(feat.dtype))
        if self.normalize:
            total = gy.sum(-1) * gx.sum(-1)  # [B, T, J]; 0 when invalid
            pooled = pooled / total.clamp_min(1e-12).unsqueeze(-1).to(
                pooled.dtype)
        return pooled

    def forward(self,
                feat: Tensor,
                coords: Tensor,
                grid_shape: Optional[Sequence[int]] = None
                ) -> Tuple[Tensor, Tensor]:
        pooled = self.pool(feat, coords, grid_shape)
        if coords.shape[-1] > 2:
            missing = coords[..., 2] <= 0.5
        else:
            missing = torch.zeros(coords.shape[:-1], dtype=torch.bool,
                                  device=coords.device)
        return self.proj(pooled), missing

    def extra_repr(self) -> str:
        return f'sigma={self.sigma}, normalize={self.normalize}'
