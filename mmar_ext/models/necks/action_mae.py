"""ActionMAE: missing-modality predictive coding (paper 001, §3, appendix B).

A neck between the per-modality encoders and the fusion head. It gets the
modality tokens ``{m: z^m [B, C]}`` (``cls_L^m`` of the space-time encoders,
eq. (4)) and returns one token per modality slot: the original token where
the modality is present, a reconstruction where it is missing.

Per sample, with ``N`` slots in canonical order and ``present`` the
observed ones (Fig. 3-5)::

    encoder:  [mem, z^{r_1}, ..., z^{r_{N-K}}] + PE   -> [mem_e, z_e^{r_i}]
    decoder:  [mem_e, ..z_e^{r_i}.., dum at j_1..j_K ..] + PE -> z_hat^{j_k}
    fusion:   slot m gets z^m if present else z_hat^m   (mem_e discarded)
    L_rec = MSE(z_hat^{j}, z^{j}) over the dropped slots        (5)
    L     = lambda_cls L_cls + lambda_rec L_rec                  (6)

Both transformers are :class:`TokenTransformer` (2 pre-LN layers, 512-d, 8
heads, FFN 2048, GELU). ``PE`` is the fixed sinusoidal table, position 0 for
the memory token and ``1 + slot`` for each modality slot in both encoder
and decoder, so a token always carries *its own modality's* position --
whatever is missing. Every sequence keeps all ``N`` slots: absent ones are
masked out of the encoder's attention (``key_padding_mask``; a pre-LN layer
is otherwise per token, so this equals removing them) and hold the dummy
token in the decoder. One code path therefore serves a batch-wide drop, a
per-sample drop and samples whose data lack a modality.

The three faults of the public implementation (seeds/README.md) are
avoided by construction and tested: the positional encoding is added (and
changes the output); a missing non-prefix modality is reconstructed in its
own slot; the fusion unit receives the modality tokens, never the memory
token.

Training: once per iteration ``K`` of the ``N`` modalities are dropped,
``0 <= K < N``. The paper does not say how the drop set is drawn; by default
uniformly over the ``2^N - 1`` allowed sets (K = 0 included:
``drop_sampling='subset'``), or independently per sample
(``drop_sampling='sample'``). Samples whose data already lack a modality
(``present`` mask) keep it missing and are never left without a modality.

Our choices where the paper is silent (each a switch):

* ``detach_target=True`` -- the reconstruction targets ``z^j`` are
  detached: "only memory token and dummy tokens are affected by the
  reconstruction loss" (§3.2), and a gradient into the target encoders would
  reward tokens that are easy to predict rather than informative.
* ``reconstruct='decoder'`` -- the dummy tokens' decoder outputs are the
  reconstructions (Fig. 5); present slots pass the *original* tokens to the
  fusion unit (§3.1 "original modality tokens are reorganized with the
  reconstructed tokens").
* one shared learnable dummy token; the positional encoding tells the
  decoder which slot it stands for (Table 7c).
* MSE averaged over the elements of the dropped tokens (eq. (5)'s ``1/K``
  sum of squared differences, per channel).
* memory and dummy tokens: truncated normal, std 0.02 (as the class tokens).
"""
import itertools
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

from mmaction.registry import MODELS


@MODELS.register_module()
class ActionMAE(BaseModule):
    """Missing-modality predictive coding neck (paper 001, §3).

    Args:
        modalities (Sequence[str]): The ``N`` modality slots, in canonical
            order (the recognizer's backbone order).
        embed_dims (int): Token width ``C``. Defaults to 512.
        encoder (dict, optional): Overrides of the encoder
            :class:`TokenTransformer` (``num_layers=2, num_heads=8,
            feedforward_channels=2048, drop_rate=0``).
        decoder (dict, optional): The same for the decoder.
        memory_token (bool): Prepend the learnable memory token (Table 7a).
            Defaults to True.
        pos_embed (bool): Add the fixed sinusoidal positional encoding
            (Table 7c). Defaults to True.
        drop_sampling (str): ``'subset'`` (one drop set per iteration,
            uniform over the sets with ``0 <= K < N``) or ``'sample'`` (one
            per sample). ``'none'`` never drops (complete-modality
            training). Defaults to ``'subset'``.
        loss_weight (float): ``lambda_rec`` of eq. (6). Defaults to 1.
        detach_target (bool): Detach the reconstruction targets. Defaults
            to True (module docstring).
        init_std (float): Std of the memory / dummy tokens. Defaults to 0.02.
    """

    #: What a missing modality means (the robustness report names it).
    missing_modality_policy = (
        'absent encoders not run; their tokens reconstructed by ActionMAE '
        'from the present ones (dummy token at the slot)')

    def __init__(self,
                 modalities: Sequence[str],
                 embed_dims: int = 512,
                 encoder: Optional[dict] = None,
                 decoder: Optional[dict] = None,
                 memory_token: bool = True,
                 pos_embed: bool = True,
                 drop_sampling: str = 'subset',
                 loss_weight: float = 1.,
                 detach_target: bool = True,
                 init_std: float = 0.02,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(modalities, str):
            modalities = (modalities, )
        self.modalities = tuple(modalities)
        if len(self.modalities) < 2:
            raise ValueError('ActionMAE needs at least two modalities, got '
                             f'{self.modalities}')
        if drop_sampling not in ('subset', 'sample', 'none'):
            raise ValueError("drop_sampling must be 'subset', 'sample' or "
                             f"'none', got {drop_sampling!r}")
        self.embed_dims = embed_dims
        self.drop_sampling = drop_sampling
        self.loss_weight = loss_weight
        self.detach_target = detach_target
        self.init_std = init_std

        def transformer(overrides, with_memory):
            cfg = dict(type='TokenTransformer', embed_dims=embed_dims,
                       num_layers=2, num_heads=8, feedforward_channels=2048,
                       drop_rate=0., with_cls_token=with_memory,
                       pos_embed='sinusoidal' if pos_embed else None,
                       max_positions=len(self.modalities) + 1,
                       final_norm=False, init_std=init_std)
            cfg.update(overrides or {})
            return MODELS.build(cfg)

        # the encoder's class token is the memory token; the decoder gets
        # [mem_e, slots] as they are (no class token of its own)
        self.encoder = transformer(encoder, memory_token)
        self.decoder = transformer(decoder, False)
        self.dummy_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.with_memory = memory_token
        # every allowed drop set: a mask over the N slots, True = dropped
        n = len(self.modalities)
        self.register_buffer(
            'drop_sets',
            torch.tensor([m for m in itertools.product([False, True],
                                                       repeat=n)
                          if not all(m)], dtype=torch.bool),
            persistent=False)

    def init_weights(self) -> None:
        trunc_normal_(self.dummy_token, std=self.init_std)
        super().init_weights()

    @property
    def memory_token(self) -> Optional[nn.Parameter]:
        return self.encoder.cls_token

    # ------------------------------------------------------------------
    def draw_drop(self, present: torch.Tensor) -> torch.Tensor:
        """Training drop mask ``[B, N]`` (True = dropped) for samples whose
        observed slots are ``present`` ``[B, N]``: at least one observed
        slot of every sample is kept."""
        b, n = present.shape
        if self.drop_sampling == 'none':
            return torch.zeros_like(present)
        if self.drop_sampling == 'subset':
            k = torch.randint(len(self.drop_sets), (1, ), device='cpu')
            drop = self.drop_sets[k.to(self.drop_sets.device)].expand(b, n)
        else:
            k = torch.randint(len(self.drop_sets), (b, ), device='cpu')
            drop = self.drop_sets[k.to(self.drop_sets.device)]
        drop = drop.to(present.device) & present
        # a sample that would lose its last observed slot keeps them all
        emptied = ~(present & ~drop).any(1)
        return torch.where(emptied[:, None], torch.zeros_like(drop), drop)

    def reconstruct(self, tokens: torch.Tensor,
                    visible: torch.Tensor) -> torch.Tensor:
        """Reconstructions ``[B, N, C]`` of every slot from the ``visible``
        ones (``tokens [B, N, C]``, ``visible [B, N]`` bool, at least one
        per sample; invisible slots' tokens are ignored)."""
        if not bool(visible.any(1).all()):
            raise ValueError('every sample needs at least one visible '
                             'modality token')
        hidden = ~visible
        # the encoder never attends to a hidden slot; their outputs are
        # replaced by the dummy token below, so their content is irrelevant
        enc_in = torch.where(hidden[..., None], torch.zeros_like(tokens),
                             tokens)
        latent = self.encoder(enc_in, key_padding_mask=hidden)
        if self.with_memory:
            memory, latent = latent[:, :1], latent[:, 1:]
        dummy = self.dummy_token.to(latent.dtype).expand_as(latent)
        dec_in = torch.where(hidden[..., None], dummy, latent)
        if self.with_memory:
            dec_in = torch.cat([memory, dec_in], dim=1)
        out = self.decoder(dec_in)
        return out[:, 1:] if self.with_memory else out

    def forward(self, feats: Dict[str, torch.Tensor], data_samples=None,
                present: Optional[torch.Tensor] = None
                ) -> Tuple[Dict[str, torch.Tensor], Dict[str, torch.Tensor]]:
        """Tokens of every slot, and ``loss_rec`` in training.

        Args:
            feats: ``{m: [B, C]}`` of the modalities whose encoders ran.
            data_samples: Unused (the recognizer passes them).
            present: ``[B, N]`` bool, the slots each sample observed (data
                with missing files); default: every modality in ``feats``.
        """
        unknown = set(feats) - set(self.modalities)
        if unknown or not feats:
            raise KeyError(f'ActionMAE slots are {self.modalities}; got '
                           f'tokens of {sorted(feats)}')
        ref = next(iter(feats.values()))
        b = ref.shape[0]
        tokens = torch.stack([
            feats[m] if m in feats else ref.new_zeros(b, self.embed_dims)
            for m in self.modalities
        ], dim=1)
        in_feats = torch.tensor([m in feats for m in self.modalities],
                                device=ref.device).expand(b, -1)
        present = in_feats if present is None else \
            present.to(ref.device).bool() & in_feats
        losses = {}
        if self.training:
            dropped = self.draw_drop(present)
            visible = present & ~dropped
        else:
            dropped, visible = None, present
        if bool(visible.all()):  # nothing to reconstruct (K = 0)
            out = tokens
        else:
            recon = self.reconstruct(tokens, visible)
            out = torch.where(visible[..., None], tokens, recon)
            if dropped is not None and bool(dropped.any()):
                target = tokens.detach() if self.detach_target else tokens
                losses['loss_rec'] = self.loss_weight * F.mse_loss(
                    recon[dropped], target[dropped])
        if self.training and 'loss_rec' not in losses:
            # K = 0: L_rec is 0, kept in the graph so that DDP sees every
            # parameter used in every iteration
            losses['loss_rec'] = self._zero_loss(tokens)
        return {m: out[:, i] for i, m in enumerate(self.modalities)}, losses

    def _zero_loss(self, tokens: torch.Tensor) -> torch.Tensor:
        params: List[torch.Tensor] = [p for p in self.parameters()
                                      if p.requires_grad]
        return sum(p.sum() * 0. for p in params) + tokens.sum() * 0.
