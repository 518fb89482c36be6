"""Multi-modal Contextualization Unit (MCU) of M-Mixer (paper 000, §III-B).

A recurrent unit -- *not* a GRU -- that encodes one modality's pooled frame
sequence ``f_{1:T}`` [B, T, C_in] together with a cross-modal action content
``g`` [B, C_g] (CFEM's ``g^i``, eq. 20, or the conference version's
concatenated pools of the other modalities, eq. 21, ``C_g = d_h (N - 1)``).
One MCU per modality (eq. 3). With ``d = d_h`` and no biases anywhere
("we exclude a bias term for simplicity", after eq. 12)::

    f_bar_t = tanh(LN(W_f f_t))                                   (11)
    g_bar   = tanh(LN(W_g g))                                      (12)
    s_t     = sigmoid(LN(W_s [f_bar_t || g_bar]))       in R^d     (13)
    f~_t    = s_t * f_bar_t + (1 - s_t) * g_bar                    (14)
    r_t     = sigmoid(LN(W_hr (f~_t + h_{t-1})))                   (15)
    z_t     = sigmoid(LN(W_hz (f~_t + h_{t-1})))                   (16)
    h~_t    = tanh(LN(W_hh (r_t * h_{t-1} + f~_t)))                (18)
    h_t     = z_t * h~_t + (1 - z_t) * h_{t-1}                     (17)

with ``h_0 = 0``. Readings (the printed equations versus the text):

* eq. 13-14 print ``f~_t`` on their right-hand sides where the projected
  ``f_bar_t`` of eq. 11 is meant (otherwise ``f~_t`` is defined by itself);
  we use ``f_bar_t``.
* the gates take ONE matrix applied to the SUM ``f~_t + h_{t-1}`` (not the
  GRU's ``W x + U h``); eq. 15-16 name two matrices ``W_hr``, ``W_hz``
  (both ``d_h x d_h``), so r and z have separate weights by default
  (``share_gate_weights=True`` uses one matrix and one LN for both, a
  reading we do not believe but keep as a switch).
* ``LN`` is ``nn.LayerNorm`` with its affine parameters (the paper does not
  say; LayerNorm's default). ``norm=False`` replaces every LN by identity
  (Table II, Exp. III "turn off the layer normalization").
* the content projection ``W_g`` maps ``content_channels`` to ``d_h``: the
  paper gives ``W_g in R^{d_h (N-1) x d_h}`` (the eq. 21 content); with CFEM
  ``g^i in R^{d_h}`` (eq. 20) so ``content_channels = d_h``.

Submodules are named after the equations (``proj_f``, ``norm_f``, ...,
``mix``, ``norm_s``, ``gate_r``/``norm_r``, ``gate_z``/``norm_z``,
``cand``/``norm_h``) so that a forward hook on a norm layer can force a gate
(the tests force ``s_t = 1`` and ``z_t`` open/closed this way).

* Table II Exp. II "replacing [the mix module] with simple concatenation"
  (``mix='concat'``): the paper does not say how the ``2 d_h``-wide
  concatenation enters the ``d_h``-wide sums of eq. 15-18. Our reading: the
  mix module's own matrix projects it, ``f~_t = W_s [f_bar_t || g_bar]`` --
  eq. 13-14 without the gate ``s_t`` and its LN (same parameter count).
"""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmaction.registry import MODELS


def _norm(dims: int, norm: bool) -> nn.Module:
    return nn.LayerNorm(dims) if norm else nn.Identity()


@MODELS.register_module()
class ModalityContextUnit(BaseModule):
    """MCU (eq. 11-18, Fig. 3): one modality's recurrent encoder.

    Args:
        embed_dims (int): Hidden width ``d_h``. Defaults to 512.
        in_channels (int, optional): Width of ``f_t``; ``embed_dims`` if None
            (the paper: ``W_f in R^{d_h x d_h}``).
        content_channels (int, optional): Width of ``g``; ``embed_dims`` if
            None (CFEM, eq. 20). ``embed_dims * (N - 1)`` for eq. 21.
        norm (bool): Use the LayerNorms of eq. 11-18. Defaults to True.
        share_gate_weights (bool): One matrix (and LN) for both ``r_t`` and
            ``z_t`` instead of ``W_hr`` and ``W_hz``. Defaults to False.
        mix (str): ``'gate'`` (eq. 13-14) or ``'concat'`` (Table II Exp.
            II: ``f~_t = W_s [f_bar_t || g_bar]``). Defaults to ``'gate'``.
        init_cfg (dict, optional): MMEngine init config.

    Shapes:
        ``forward(f [B, T, C_in], g [B, C_g]) -> h_{1:T} [B, T, d_h]``.
    """

    def __init__(self,
                 embed_dims: int = 512,
                 in_channels: Optional[int] = None,
                 content_channels: Optional[int] = None,
                 norm: bool = True,
                 share_gate_weights: bool = False,
                 mix: str = 'gate',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mix not in ('gate', 'concat'):
            raise ValueError(f"mix must be 'gate' or 'concat', got {mix!r}")
        d = embed_dims
        self.embed_dims = d
        self.mix_type = mix
        self.in_channels = in_channels or d
        self.content_channels = content_channels or d
        self.share_gate_weights = share_gate_weights
        # cross-modality mix module (11)-(14)
        self.proj_f = nn.Linear(self.in_channels, d, bias=False)
        self.norm_f = _norm(d, norm)
        self.proj_g = nn.Linear(self.content_channels, d, bias=False)
        self.norm_g = _norm(d, norm)
        self.mix = nn.Linear(2 * d, d, bias=False)
        self.norm_s = _norm(d, norm) if mix == 'gate' else None
        # reset / update modules (15)-(18)
        self.gate_r = nn.Linear(d, d, bias=False)
        self.norm_r = _norm(d, norm)
        if share_gate_weights:
            self.gate_z = self.norm_z = None
        else:
            self.gate_z = nn.Linear(d, d, bias=False)
            self.norm_z = _norm(d, norm)
        self.cand = nn.Linear(d, d, bias=False)
        self.norm_h = _norm(d, norm)

    def project(self, f: torch.Tensor, g: torch.Tensor):
        """``f_bar`` [B, T, d] (11) and ``g_bar`` [B, d] (12)."""
        f_bar = torch.tanh(self.norm_f(self.proj_f(f)))
        g_bar = torch.tanh(self.norm_g(self.proj_g(g)))
        return f_bar, g_bar

    def cross_modality_mix(self, f_bar: torch.Tensor,
                           g_bar: torch.Tensor) -> torch.Tensor:
        """Supplemented features ``f~`` [B, T, d] (13)-(14).

        ``s_t`` does not depend on ``h``, so all steps are mixed at once.
        """
        g_bar = g_bar[:, None].expand_as(f_bar)
        if self.mix_type == 'concat':
            return self.mix(torch.cat([f_bar, g_bar], -1))
        s = torch.sigmoid(self.norm_s(self.mix(torch.cat([f_bar, g_bar], -1))))
        return s * f_bar + (1 - s) * g_bar

    def step(self, f_tilde: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """One recurrence ``h_{t-1} -> h_t`` (15)-(18); [B, d] each."""
        x = f_tilde + h
        r = torch.sigmoid(self.norm_r(self.gate_r(x)))
        if self.share_gate_weights:
            z = r
        else:
            z = torch.sigmoid(self.norm_z(self.gate_z(x)))
        h_cand = torch.tanh(self.norm_h(self.cand(r * h + f_tilde)))
        return z * h_cand + (1 - z) * h

    def forward(self, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """Encode ``f`` [B, T, C_in] with ``g`` [B, C_g]; all ``h_t``."""
        if f.dim() != 3 or g.dim() != 2 or f.shape[0] != g.shape[0]:
            raise ValueError(f'MCU takes f [B, T, C] and g [B, C], got '
                             f'{tuple(f.shape)} and {tuple(g.shape)}')
        f_tilde = self.cross_modality_mix(*self.project(f, g))
        h = f_tilde.new_zeros(f.shape[0], self.embed_dims)  # h_0 = 0
        hs = []
        for t in range(f.shape[1]):
            h = self.step(f_tilde[:, t], h)
            hs.append(h)
        return torch.stack(hs, 1)
