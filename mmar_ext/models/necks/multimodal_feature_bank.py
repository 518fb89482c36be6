"""Multi-modal feature bank of M-Mixer (paper 000, §III-A, eq. 4-8).

Fuses the MCU hidden states ``h^i_{1:T}`` of the ``N`` modalities into one
action feature ``h_T``. The bank ``M in R^{K x d_h}`` holds ``K`` location
vectors (slots, ``K = 8``, §IV-B); per step ``t``::

    h^_t^i = W_h^i h_t^i                      in R^{floor(d_h/N)}     (4)
    c_t    = h^_t^1 || ... || h^_t^N          in R^{d_h}
    alpha  = sigmoid(M^(t-1) c_t)             in R^K (one per slot)   (5)
    M^(t)' = alpha * M^(t-1) + (1 - alpha) * c_t   (c_t to every slot) (6)
    M^(t)  = M^(t)' W_u                       W_u in R^{d_h x d_h}    (7)
    h_T    = W_r M^(T)                        W_r in R^K              (8)

Readings and choices (the paper is silent where marked):

* eq. 4's reduction ``W_h^i in R^{d_h x floor(d_h/N)}`` is a plain linear
  map, one per modality; bias-free by default (the paper excludes biases in
  the MCU and writes none here; ``reduce_bias=True`` adds one). ``W_u`` is
  bias-free (a "trainable matrix").
* eq. 5 needs ``N floor(d_h/N) = d_h`` (the concatenation is compared with
  the ``d_h``-wide slots): ``d_h`` must be divisible by ``N`` -- which is why
  the paper uses ``d_h = 588`` for three modalities (§IV-B); we raise
  otherwise.
* ``M^(0)`` is a learnable parameter shared by all samples, initialised with
  a truncated normal (std ``init_std=0.02``; not stated). ``W_r`` starts at
  ``1/K`` (a mean read-out; not stated). ``W_u`` keeps PyTorch's default
  init (``update_init='default'``); ``'identity'`` starts it at the
  identity, so that the T updates of eq. 7 do not shrink the memory
  (PyTorch's uniform init has a spectral radius of about 0.58: 8 steps
  scale it by about 0.01, which we suspect slows the bank's training in the
  synthetic ablation; not stated in the paper).
* the bank is updated for ``t = 1..T`` over all steps of the MCU outputs;
  the same ``T`` for all modalities (they are sampled alike, §IV-B).

A modality missing at test time (``present`` [B, N] bool, False = absent)
contributes a zero block ``h^_t^i = 0`` to ``c_t`` (the bank's width stays
``d_h``).

Parameter count (Table VI: "feature bank 4.10K"): ``M^(0)`` (``K d_h``) plus
``W_r`` (``K``) = 8 x 512 + 8 = 4,104 at ``d_h = 512``; the reductions
``W_h^i`` and ``W_u`` are not counted there.
:meth:`MultiModalFeatureBank.num_bank_params` returns that count;
``sum(p.numel() for p in bank.parameters())`` is the full count.
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from mmaction.registry import MODELS


@MODELS.register_module()
class MultiModalFeatureBank(BaseModule):
    """Multi-modal feature bank (eq. 4-8).

    Args:
        embed_dims (int): ``d_h``; divisible by ``num_modalities``.
        num_modalities (int): ``N``.
        num_slots (int): ``K``. Defaults to 8.
        reduce_bias (bool): Bias in the ``W_h^i`` reductions. Defaults to
            False.
        init_std (float): Truncated-normal std of ``M^(0)``. Defaults to
            0.02.
        update_init (str): ``'default'`` (PyTorch's) or ``'identity'``
            initialisation of ``W_u``.
        init_cfg (dict, optional): MMEngine init config.

    Shapes:
        ``forward([h^1, ..., h^N], present=None)`` with ``h^i``
        [B, T, d_h] (``present`` [B, N] bool: absent ones give zero blocks)
        -> ``h_T`` [B, d_h] (and ``M^(T)`` [B, K, d_h] with
        ``return_memory=True``).
    """

    def __init__(self,
                 embed_dims: int,
                 num_modalities: int,
                 num_slots: int = 8,
                 reduce_bias: bool = False,
                 init_std: float = 0.02,
                 update_init: str = 'default',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if update_init not in ('default', 'identity'):
            raise ValueError(f"update_init must be 'default' or 'identity', "
                             f'got {update_init!r}')
        if num_modalities < 1 or embed_dims % num_modalities:
            raise ValueError(
                f'embed_dims ({embed_dims}) must be divisible by '
                f'num_modalities ({num_modalities}): eq. 5 compares the '
                f'concatenation of N floor(d_h/N)-wide features with d_h-wide '
                f'slots (the paper uses d_h=588 for N=3)')
        self.embed_dims = embed_dims
        self.num_modalities = num_modalities
        self.num_slots = num_slots
        self.init_std = init_std
        self.update_init = update_init
        self.reduce = nn.ModuleList(
            nn.Linear(embed_dims, embed_dims // num_modalities,
                      bias=reduce_bias) for _ in range(num_modalities))
        self.memory = nn.Parameter(torch.zeros(num_slots, embed_dims))
        self.update = nn.Linear(embed_dims, embed_dims, bias=False)
        self.read = nn.Parameter(torch.full((num_slots, ), 1. / num_slots))
        self._init_bank()

    def _init_bank(self) -> None:
        trunc_normal_(self.memory, std=self.init_std)
        with torch.no_grad():
            self.read.fill_(1. / self.num_slots)
            if self.update_init == 'identity':
                self.update.weight.copy_(torch.eye(self.embed_dims))

    def init_weights(self) -> None:
        super().init_weights()
        if not (isinstance(self.init_cfg, dict)
                and self.init_cfg.get('type') == 'Pretrained'):
            self._init_bank()

    def num_bank_params(self) -> int:
        """Parameters counted as "feature bank" in Table VI: ``M^(0)`` and
        ``W_r`` (4,104 for K=8, d_h=512)."""
        return self.memory.numel() + self.read.numel()

    def update_score(self, memory: torch.Tensor,
                     content: torch.Tensor) -> torch.Tensor:
        """``alpha`` [B, K] (5) from ``M^(t-1)`` [B, K, d] and ``c_t``
        [B, d]."""
        return torch.sigmoid(torch.einsum('bkd,bd->bk', memory, content))

    def forward(self, hidden: Sequence[torch.Tensor],
                present: Optional[torch.Tensor] = None,
                return_memory: bool = False):
        hidden = list(hidden)
        if len(hidden) != self.num_modalities:
            raise ValueError(f'expected {self.num_modalities} sequences, got '
                             f'{len(hidden)}')
        shapes = {tuple(int(s) for s in h.shape) for h in hidden}  # ints when traced
        if len(shapes) != 1 or hidden[0].dim() != 3 or \
                hidden[0].shape[-1] != self.embed_dims:
            raise ValueError(f'expected N sequences [B, T, {self.embed_dims}]'
                             f' of one shape, got {sorted(shapes)}')
        # (4) and the concatenation, all steps at once: [B, T, d]
        reduced = [w(h) for w, h in zip(self.reduce, hidden)]
        if present is not None:
            reduced = [r * present[:, i, None, None].to(r)
                       for i, r in enumerate(reduced)]
        content = torch.cat(reduced, -1)
        batch, steps = content.shape[:2]
        memory = self.memory[None].expand(batch, -1, -1)
        for t in range(steps):
            c = content[:, t]
            alpha = self.update_score(memory, c)[..., None]  # (5)
            memory = alpha * memory + (1 - alpha) * c[:, None]  # (6)
            memory = self.update(memory)  # (7)
        out = torch.einsum('k,bkd->bd', self.read, memory)  # (8)
        if return_memory:
            return out, memory
        return out
