"""Joint stride and temporal stride attention (paper 004, §3.2, Figs. 2a, 4).

Kim et al., "Cross-Modal Learning with 3D Deformable Attention for Action
Recognition", ICCV 2023.  Both modules slide a window along one axis of the
token grid, attend within each window (Fig. 4) and merge the windows back:

* :class:`JointStrideAttention` (Fig. 4a) -- windows of ``w_j`` consecutive
  joint tokens x all ``T`` frames, each flattened and concatenated with the
  modal tokens ``[M_pose || M'_CLS]`` (``2T`` tokens) before the MSA.
* :class:`TemporalStrideAttention` (Fig. 4b) -- windows of ``w_t``
  consecutive frames, each holding every RGB token ``Z``, pose token ``P``
  and cross-modal token ``M = (M_RGB, M_pose, M_CLS)`` of those frames.

Choices the paper leaves unstated (the project's reading):

* The block is one pre-LN transformer layer, ``X + MSA(LN X)`` then
  ``+ FFN(LN X)`` as eq. (7), with FFN width ``ffn_ratio * C``, GELU
  (switches ``num_layers=1``, ``ffn_ratio=4``, ``act='gelu'``,
  ``drop_rate=0``, ``init_std=0.02``).
* Window starts are ``0, s, 2s, ...``; if they miss the end, one more window
  ending exactly at the last token is added, so every token is covered and
  all windows are equally long (no padding); a window longer than the axis
  is clipped to the whole axis (:func:`window_starts`).  ``stride > window``
  would leave gaps and is rejected.
* Overlaps are merged by averaging: a token's output is the mean of its
  outputs over the windows containing it; tokens shared by every window
  (the modal tokens of the joint module) are averaged over all windows.
* Joint windows: ``window=None`` (default) means all ``R`` joint tokens, i.e.
  one window = full attention over every joint token of the clip;
  ``stride=None`` means ``ceil(window / 2)`` (the Fig. 7a rule, which the
  paper only measures for time).  Temporal defaults ``w_t = 4, s_t = 2``
  (Fig. 7a: stride about half the window is best).
* No position embedding is added here (attention is permutation-equivariant,
  so the flattening order inside a window is immaterial).
* ``key_padding_mask`` (True = missing token, e.g. an absent person) masks
  keys only; masked tokens are still updated as queries (finite outputs that
  nothing else depends on).  The modal tokens keep every softmax row
  non-empty.
"""
import math
from typing import List, Optional, Tuple

import torch
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from ..common.transformer import PreNormTransformerEncoder


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f'{name} must be an int >= 1, got {value!r}')


def window_starts(length: int, window: int, stride: int) -> List[int]:
    """Starts of the windows covering ``[0, length)``.

    ``0, stride, 2 * stride, ...`` while the window fits, plus
    ``length - window`` if those do not reach the end; ``window >= length``
    gives the single window ``[0]``.  E.g. ``(13, 4, 2) -> [0, 2, 4, 6, 8,
    9]``.
    """
    if isinstance(length, torch.Tensor):  # a shape while tracing
        length = int(length)
    for name, value in (('length', length), ('window', window),
                        ('stride', stride)):
        _check_positive(name, value)
    if window >= length:
        return [0]
    if stride > window:
        raise ValueError(f'stride ({stride}) > window ({window}) leaves '
                         'tokens outside every window')
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] + window < length:
        starts.append(length - window)
    return starts


def strided_window_attention(
        encoder: torch.nn.Module,
        tokens: torch.Tensor,
        window: int,
        stride: int,
        shared: Optional[torch.Tensor] = None,
        key_padding_mask: Optional[torch.Tensor] = None
) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Attention within overlapping windows along axis 1, overlaps averaged.

    Args:
        encoder: ``encoder(x [N, L, C], key_padding_mask [N, L])``.
        tokens: ``[B, L, G, C]`` -- ``L`` positions along the window axis,
            ``G`` tokens at each (all of them join the window).
        window, stride: Window length and stride along ``L``.
        shared: ``[B, S, C]`` tokens appended to every window, or None.
        key_padding_mask: ``[B, L, G]`` bool, True = ignored key, or None.

    Returns:
        ``tokens_out [B, L, G, C]`` (mean over the windows holding each
        position) and ``shared_out [B, S, C]`` (mean over all windows) or
        None.
    """
    b, length, g, c = tokens.shape
    starts = window_starts(length, window, stride)
    w = min(window, length)
    nw = len(starts)
    index = (torch.tensor(starts, device=tokens.device)[:, None] +
             torch.arange(w, device=tokens.device)).flatten()  # [nW * w]
    x = tokens[:, index].reshape(b * nw, w * g, c)
    mask = None
    if key_padding_mask is not None:
        mask = key_padding_mask.bool()[:, index].reshape(b * nw, w * g)
    s = 0
    if shared is not None:
        s = shared.shape[1]
        x = torch.cat([x, shared.repeat_interleave(nw, dim=0)], dim=1)
        if mask is not None:
            mask = torch.cat([mask, mask.new_zeros(b * nw, s)], dim=1)
    y = encoder(x, key_padding_mask=mask)
    windows = y[:, :w * g].reshape(b, nw * w, g, c)
    # in the encoder's output dtype: under autocast it can differ from the
    # tokens' (float32 out of a LayerNorm / residual, half-precision in)
    summed = windows.new_zeros(b, length, g, c).index_add(1, index, windows)
    count = torch.bincount(index, minlength=length).to(windows.dtype)
    out = summed / count[None, :, None, None]
    shared_out = None
    if shared is not None:
        shared_out = y[:, w * g:].reshape(b, nw, s, c).mean(dim=1)
    return out, shared_out


class _StrideAttention(BaseModule):
    """Shared constructor: one pre-LN encoder applied to every window."""

    def __init__(self, embed_dims: int, num_heads: int, ffn_ratio: float,
                 drop_rate: float, window: Optional[int],
                 stride: Optional[int], num_layers: int, act: str,
                 init_std: Optional[float],
                 init_cfg: Optional[dict]) -> None:
        super().__init__(init_cfg=init_cfg)
        if window is not None:
            _check_positive('window', window)
        if stride is not None:
            _check_positive('stride', stride)
        if window is not None and stride is not None and stride > window:
            raise ValueError(f'stride ({stride}) > window ({window}) leaves '
                             'tokens outside every window')
        self.window = window
        self.stride = stride
        self.encoder = PreNormTransformerEncoder(
            embed_dims=embed_dims,
            num_layers=num_layers,
            num_heads=num_heads,
            feedforward_channels=int(round(embed_dims * ffn_ratio)),
            drop_rate=drop_rate,
            act=act,
            final_norm=False,
            init_std=init_std)

    def _window_stride(self, length: int) -> Tuple[int, int]:
        length = int(length)  # a tensor while tracing
        window = length if self.window is None else self.window
        stride = (math.ceil(min(window, length) / 2)
                  if self.stride is None else self.stride)
        return window, stride


@MODELS.register_module()
class JointStrideAttention(_StrideAttention):
    """Local joint stride attention (Fig. 4a).

    Args:
        embed_dims (int): Token width ``C``.
        num_heads (int): Attention heads. Defaults to 8.
        ffn_ratio (float): FFN width / ``C``. Defaults to 4.
        drop_rate (float): Dropout inside the layer. Defaults to 0.
        window (int, optional): ``w_j`` joints per window; None = all ``R``.
        stride (int, optional): ``s_j``; None = ``ceil(w_j / 2)``.
        num_layers (int): Layers per window. Defaults to 1.
        act (str): FFN activation. Defaults to ``'gelu'``.
        init_std (float, optional): Truncated-normal std. Defaults to 0.02.

    Shape:
        ``forward(p [B, T, R, C], m_pose [B, T, C], m_cls [B, T, C],
        key_padding_mask [B, T, R] or None)`` -> ``(p, m_pose, m_cls)``.
    """

    def __init__(self, embed_dims: int, num_heads: int = 8,
                 ffn_ratio: float = 4., drop_rate: float = 0.,
                 window: Optional[int] = None, stride: Optional[int] = None,
                 num_layers: int = 1, act: str = 'gelu',
                 init_std: Optional[float] = 0.02,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(embed_dims, num_heads, ffn_ratio, drop_rate, window,
                         stride, num_layers, act, init_std, init_cfg)

    def forward(self, p: torch.Tensor, m_pose: torch.Tensor,
                m_cls: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n = m_pose.shape[1]  # T, or 0 without a pose modal token
        window, stride = self._window_stride(p.shape[2])
        mask = None if key_padding_mask is None else \
            key_padding_mask.transpose(1, 2)
        out, shared = strided_window_attention(
            self.encoder, p.transpose(1, 2), window, stride,
            shared=torch.cat([m_pose, m_cls], dim=1),
            key_padding_mask=mask)
        return out.transpose(1, 2), shared[:, :n], shared[:, n:]


@MODELS.register_module()
class TemporalStrideAttention(_StrideAttention):
    """Temporal stride attention (Fig. 4b).

    Args: as :class:`JointStrideAttention`, with ``window`` (``w_t``)
    defaulting to 4 frames and ``stride`` (``s_t``) to 2 (``window=None``:
    one window of all frames, full attention).

    Shape:
        ``forward(z [B, T, N_z, C], p [B, T, R, C], m [B, T, 3, C],
        key_padding_mask [B, T, R] or None)`` -> ``(z, p, m)``; the mask
        marks missing pose tokens.
    """

    def __init__(self, embed_dims: int, num_heads: int = 8,
                 ffn_ratio: float = 4., drop_rate: float = 0.,
                 window: int = 4, stride: int = 2,
                 num_layers: int = 1,
                 act: str = 'gelu', init_std: Optional[float] = 0.02,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(embed_dims, num_heads, ffn_ratio, drop_rate, window,
                         stride, num_layers, act, init_std, init_cfg)

    def forward(self, z: torch.Tensor, p: torch.Tensor, m: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        sizes = [z.shape[2], p.shape[2], m.shape[2]]
        mask = None
        if key_padding_mask is not None:
            mask = torch.cat([
                key_padding_mask.new_zeros(z.shape[:3], dtype=torch.bool),
                key_padding_mask.bool(),
                key_padding_mask.new_zeros(m.shape[:3], dtype=torch.bool)
            ], dim=2)
        window, stride = self._window_stride(z.shape[1])
        out, _ = strided_window_attention(
            self.encoder, torch.cat([z, p, m], dim=2), window, stride,
            key_padding_mask=mask)
        z, p, m = out.split(sizes, dim=2)
        return z, p, m
