"""3D deformable attention (Kim et al., ICCV 2023, §3.2, Fig. 2b, Fig. 3).

"Cross-Modal Learning with 3D Deformable Attention for Action Recognition".
The RGB tokens ``Z`` ``[B, C, T, H, W]`` (position embedding already added
by the caller) are attended to by themselves, but the keys and values come
from a small set of *deformed* tokens ``Z~`` found by a 3D token search::

    Z~ = 3DTS(Z; w)                                                   (3)
    X  = [Z || M_RGB || M_CLS]                                        (4)
    X~ = [Z~ || M_RGB || M_CLS]                                       (5)
    X  = X + MSA(X W_q, X~ W_k, X~ W_v)                               (6)
    [Z, M_RGB, M'_CLS] = X + FFN(LN(X))                               (7)

:class:`TokenSearch3D` (3DTS, eq. 3, Fig. 3) predicts an offset
``dp = (dt, dh, dw)`` (in token units) per reference point ``p`` and reads
``Z~ = Z(p + dp)`` by trilinear interpolation (:func:`sample_3d`).
:class:`DeformableAttention3D` is eqs. (4)-(7). Unlike mmcv's
``MultiScaleDeformableAttention`` (Deformable DETR), whose attention weights
are *predicted* from the query by a linear layer and which samples separate
points per query and head, the attention weights here are
``softmax(q k^T / sqrt(d))`` over all keys of ``X~`` (as in DAT [47]): the
sampled tokens are shared by every query and every head.

Choices where the paper is silent (Appendix B, "implementation details", is
not available), each a constructor switch where it is a choice of design:

* The paper's 3DTS is a "two-layered Conv3D with kernel k" (k = 7, no
  padding). Two unpadded k = 7 convolutions would leave ``T~ = 12 - 12 = 0``
  for T = 12, so as in DAT the first is ``Conv3d(C, C, k)`` (stride 1,
  padding 0) and the second, which produces the offsets, is ``1x1x1``
  ``Conv3d(C, 3)``. The first is depthwise (``groups=C``, as in DAT);
  ``dense=True`` makes it a full convolution. LN over channels and GELU sit
  between them (as the paper says).
* Reference points are the centres of the unpadded k-conv windows: output
  position ``(a, b, c)`` -> ``(a, b, c) + (k - 1) / 2`` in token index
  coordinates, so ``T~ = T - k + 1`` (etc.; 6 x 22 x 22 for 12 x 28 x 28 at
  k = 7). One sample per reference point, one offset group shared by all
  heads.
* Offsets are unbounded by default (``offset_range_factor=None``); a float
  ``r`` gives ``dp = r * tanh(raw)`` (DAT's bounded variant). The offset conv
  is zero-initialised (weight and bias) so that ``Z~`` starts as the centre
  crop ``Z[:, :, r:-r, r:-r, r:-r]``; at that point the first conv gets no
  gradient (it only acts through the zero weights) while the offset conv
  does, through the derivative of the sampling.
* Samples outside the volume read zeros (trilinear weights only on existing
  neighbours, ``grid_sample``'s zero padding). Locations are kept and
  normalised in float32 (or float64) even under autocast.
* ``token_search=False`` drops the 3DTS: keys and values come from all of
  ``Z`` (full attention; Table 4's "full" alternative).
* Eq. (6) has no LN before the MSA: ``pre_norm=False``. ``pre_norm=True``
  applies one LN (shared by X and X~) before the projections.
* Projections ``W_q, W_k, W_v`` and the output projection are ``Linear``
  with bias; the FFN is ``Linear(C, ffn_ratio * C) - GELU - Linear`` with
  ``ffn_ratio=4``; ``drop_rate`` (0) is applied after the output projection
  and in the FFN; no attention dropout, no drop path.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS


def sample_3d(value: torch.Tensor, locations: torch.Tensor) -> torch.Tensor:
    """Trilinearly sample ``value`` ``[B, C, T, H, W]`` at ``locations``
    ``[B, N, 3]`` given as ``(t, h, w)`` in token index coordinates (token
    ``i`` is centred at ``i``). Returns ``[B, N, C]``; samples outside the
    volume weight only existing neighbours (zeros outside)."""
    if value.dim() != 5 or locations.dim() != 3 or locations.size(-1) != 3:
        raise ValueError(
            f'expected value [B, C, T, H, W] and locations [B, N, 3], got '
            f'{tuple(value.shape)} and {tuple(locations.shape)}')
    dtype = torch.promote_types(
        torch.promote_types(value.dtype, locations.dtype), torch.float32)
    sizes = torch.tensor(value.shape[2:], dtype=dtype, device=value.device)
    with torch.autocast(device_type=value.device.type, enabled=False):
        # index i -> normalised (2i + 1) / size - 1 (align_corners=False);
        # grid_sample wants (x, y, z) = (w, h, t)
        grid = (2 * locations.to(dtype) + 1) / sizes - 1
        grid = grid.flip(-1)[:, None, None]  # [B, 1, 1, N, 3]
        out = F.grid_sample(value.to(dtype), grid, mode='bilinear',
                            padding_mode='zeros', align_corners=False)
    return out.flatten(2).transpose(1, 2).to(value.dtype)  # [B, N, C]


@MODELS.register_module()
class TokenSearch3D(BaseModule):
    """3D token search (3DTS, eq. 3): ``Z`` ``[B, C, T, H, W]`` -> deformed
    tokens ``Z~`` ``[B, T~ H~ W~, C]`` and their locations ``[B, T~ H~ W~, 3]``
    (``(t, h, w)`` token index coordinates, ``t`` slowest), with
    ``T~ = T - k + 1`` etc.

    Args:
        embed_dims (int): channels ``C`` of ``Z``.
        kernel_size (int): ``k`` of the first (unpadded) conv. Default 7.
        dense (bool): full instead of depthwise first conv. Default False.
        offset_range_factor (float, optional): bound ``r`` of
            ``dp = r * tanh(raw)``; None (default) leaves offsets unbounded.
    """

    def __init__(self,
                 embed_dims: int,
                 kernel_size: int = 7,
                 dense: bool = False,
                 offset_range_factor: Optional[float] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        self.kernel_size = kernel_size
        self.offset_range_factor = offset_range_factor
        self.conv = nn.Conv3d(embed_dims, embed_dims, kernel_size,
                              groups=1 if dense else embed_dims)
        self.norm = nn.LayerNorm(embed_dims)
        self.act = nn.GELU()
        self.conv_offset = nn.Conv3d(embed_dims, 3, 1)
        self._zero_offsets()

    def _zero_offsets(self) -> None:
        nn.init.zeros_(self.conv_offset.weight)
        nn.init.zeros_(self.conv_offset.bias)

    def init_weights(self) -> None:
        super().init_weights()
        self._zero_offsets()  # Z~ starts as the centre crop of Z

    def output_size(self, size: Sequence[int]) -> Tuple[int, int, int]:
        """``(T~, H~, W~)`` for an input of ``size = (T, H, W)``."""
        k = self.kernel_size
        if any(s < k for s in size):
            raise ValueError(
                f'3D token search needs at least kernel_size={k} tokens in '
                f'each of T, H, W, got (T, H, W) = {tuple(size)}')
        return tuple(s - k + 1 for s in size)

    def reference_points(self, size: Sequence[int],
                         device=None) -> torch.Tensor:
        """Window centres ``[T~ H~ W~, 3]`` (float32, ``(t, h, w)``)."""
        axes = [torch.arange(n, dtype=torch.float32, device=device)
                + (self.kernel_size - 1) / 2 for n in self.output_size(size)]
        grid = torch.meshgrid(*axes, indexing='ij')
        return torch.stack(grid, -1).view(-1, 3)

    def forward(self, z: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        ref = self.reference_points(z.shape[2:], z.device)
        hidden = self.conv(z)  # [B, C, T~, H~, W~]
        hidden = self.act(self.norm(hidden.movedim(1, -1))).movedim(-1, 1)
        offsets = self.conv_offset(hidden).flatten(2).transpose(1, 2)
        offsets = offsets.to(torch.promote_types(offsets.dtype, torch.float32))
        if self.offset_range_factor is not None:
            offsets = self.offset_range_factor * offsets.tanh()
        locations = ref + offsets  # [B, N, 3], float32 (or float64)
        return sample_3d(z, locations), locations


@MODELS.register_module()
class DeformableAttention3D(BaseModule):
    """3D deformable attention block (eqs. 4-7).

    ``forward(z, m_rgb, m_cls)`` with ``z`` ``[B, C, T, H, W]`` and modal
    tokens ``m_rgb``, ``m_cls`` ``[B, T, C]`` (one per frame) returns
    ``(z, m_rgb, m_cls)`` of the same shapes (eq. 7's ``[Z, M_RGB, M'_CLS]``).
    Queries are all tokens of ``X``; keys and values the ``T~ H~ W~ + 2T``
    tokens of ``X~``. See the module docstring for the switches.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int = 8,
                 kernel_size: int = 7,
                 ffn_ratio: float = 4.,
                 drop_rate: float = 0.,
                 dense: bool = False,
                 pre_norm: bool = False,
                 offset_range_factor: Optional[float] = None,
                 token_search: bool = True,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims={embed_dims} is not divisible by '
                             f'num_heads={num_heads}')
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        # token_search=False: keys and values from all of Z (full
        # attention, Table 4's "3D def" replaced)
        self.token_search = TokenSearch3D(
            embed_dims, kernel_size, dense,
            offset_range_factor) if token_search else None
        self.pre_norm = nn.LayerNorm(embed_dims) if pre_norm else None
        self.q_proj = nn.Linear(embed_dims, embed_dims)
        self.k_proj = nn.Linear(embed_dims, embed_dims)
        self.v_proj = nn.Linear(embed_dims, embed_dims)
        self.out_proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(drop_rate)
        self.ffn_norm = nn.LayerNorm(embed_dims)
        hidden = int(embed_dims * ffn_ratio)
        self.ffn = nn.Sequential(
            nn.Linear(embed_dims, hidden), nn.GELU(), nn.Dropout(drop_rate),
            nn.Linear(hidden, embed_dims), nn.Dropout(drop_rate))
        #: sampling locations of the last forward (for visualisation, Fig. 5)
        self.last_locations: Optional[torch.Tensor] = None

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape  # [B, N, C] -> [B, heads, N, C / heads]
        return x.view(b, n, self.num_heads, -1).transpose(1, 2)

    def forward(
        self, z: torch.Tensor, m_rgb: torch.Tensor, m_cls: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if z.dim() != 5 or z.size(1) != self.embed_dims:
            raise ValueError(f'expected z [B, {self.embed_dims}, T, H, W], '
                             f'got {tuple(z.shape)}')
        b, c, t, h, w = z.shape
        for name, m in (('m_rgb', m_rgb), ('m_cls', m_cls)):
            if m.dim() != 3 or tuple(m.shape[::2]) != (b, c) or \
                    m.shape[1] not in (0, t):
                raise ValueError(f'expected {name} [B, T, C] = {(b, t, c)} '
                                 f'(one token per frame; T = 0: no such '
                                 f'token), got {tuple(m.shape)}')
        if self.token_search is None:
            z_tilde = z.flatten(2).transpose(1, 2)
        else:
            z_tilde, locations = self.token_search(z)
            self.last_locations = locations.detach()
        x = torch.cat([z.flatten(2).transpose(1, 2), m_rgb, m_cls], 1)  # (4)
        x_tilde = torch.cat([z_tilde, m_rgb, m_cls], 1)  # (5)
        xq, xkv = x, x_tilde
        if self.pre_norm is not None:
            xq, xkv = self.pre_norm(x), self.pre_norm(x_tilde)
        q = self._heads(self.q_proj(xq))
        k = self._heads(self.k_proj(xkv))
        v = self._heads(self.v_proj(xkv))
        attn = F.scaled_dot_product_attention(q, k, v)  # softmax(qk^T/sqrt d)
        attn = attn.transpose(1, 2).reshape(b, -1, c)
        x = x + self.proj_drop(self.out_proj(attn))  # (6)
        x = x + self.ffn(self.ffn_norm(x))  # (7)
        n = t * h * w
        z_out = x[:, :n].transpose(1, 2).reshape(b, c, t, h, w)
        r = n + m_rgb.shape[1]
        return z_out, x[:, n:r], x[:, r:]
