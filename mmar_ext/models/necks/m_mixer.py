"""Modality Mixer (M-Mixer) neck (paper 000, §III, Fig. 2).

Between the per-modality feature extractors and the classifier::

    F^i   = Conv1x1^i(F_bar^i)   (frame-wise, optional: ``in_channels``)  (1)
    g^i   = CFEM(F^1..F^N)^i     (eq. 19-20; ``content='pool'``: eq. 21)  (2)
    f^i_t = mean_{h,w} F^i_t
    h^i_{1:T} = MCU^i(f^i_{1:T}, g^i)                                     (3)
    h_T   = Bank(h^1_{1:T}, ..., h^N_{1:T})  (eq. 4-8; ``fusion='concat'``)

Input: the recognizer's dict of per-modality frame feature maps
``{m: [B, C, T, h, w]}`` -- the backbone must keep time and space (a
per-frame 2D ResNet stacked over T, e.g. a ResNet with its pooling removed).
``in_channels`` adds the frame-wise 1x1 convolution of §III-A
(``d_f -> d_h``, a Conv3d with kernel 1x1x1 = a per-frame 2D 1x1 conv, with
bias) in the neck; None means the backbone already gives ``d_h`` channels.

Output (``forward`` returns ``(feats, loss_aux)`` as
``MultiModalRecognizer`` expects; ``loss_aux`` is empty):

* ``fusion='bank'`` (the journal version): ``{out_key: h_T [B, d_h]}`` --
  classify with eq. 9, a single FC with bias::

      cls_head=dict(type='SumFusionHead', num_classes=60,
                    modalities=('mixed', ), in_channels=512)

  (``modalities`` must be given: the recognizer would otherwise default it
  to the backbone's modalities).
* ``fusion='concat'`` (the conference version, Table IV's "w/o bank",
  Table VI "Concatenation"): ``{m: h^m_T [B, d_h]}`` per modality. A
  :class:`SumFusionHead` over these tokens computes ``sum_m FC^m(h^m_T)``
  = ``FC(||_m h^m_T)`` exactly (bias = the sum of the biases)::

      cls_head=dict(type='SumFusionHead', num_classes=60, in_channels=512)

* ``content='pool'``: ``g^i = ||_{j != i} mean_{T,h,w} F^j`` (eq. 21), so
  the MCUs take ``d_h (N-1)``-wide contents (``W_g``, eq. 12);
  ``content='self'`` is "MCU-self" (Table III): ``g^i = mean_{T,h,w} F^i``.

Ablation switches (the paper's full model is the default):

* ``temporal``: ``'mcu'`` (eq. 11-18) or the Table I substitutes
  ``'lstm'``, ``'gru'``, ``'transformer'``
  (:mod:`.m_mixer_substitutes`); ``temporal_cfg=dict(cross_modal=True)``
  gives their '+ CM' rows. Without CM no content is computed (no CFEM is
  built). ``temporal_cfg`` also reaches the MCU (``norm=False``: Table II
  Exp. III; ``mix='concat'``: Exp. II; with ``content='self'``: Exp. I).
* ``content``: ``'cfem'`` (eq. 19-20; its Table V variants through
  ``cfem``), ``'pool'`` (eq. 21, the conference version), ``'self'``.
* ``fusion``: ``'bank'`` (eq. 4-8), ``'concat'``, ``'gru'`` or
  ``'transformer'`` (Table VI), options in ``fusion_cfg``.
* ``stream_outputs=('rgb', 'depth')``: return the streams' final hidden
  states ``{m: h^m_T}`` instead of the fused feature (the fusion module is
  not run) -- the inputs of the per-stream classifiers of eq. 22-23
  (Table III), trained on a frozen M-Mixer (``MultiModalRecognizer(
  frozen_modules=('backbone', 'neck'))``); test one stream with
  ``model.neck.stream_outputs="['rgb']"``.

Configurations of the paper's tables: the conference model of Tables I-III
is ``content='pool', fusion='concat'``; Table IV's "+ bank" is
``content='pool'`` and "+ CFEM" is ``fusion='concat'``.

Missing modalities (:attr:`MMixer.missing_modality_policy`): a modality
absent at test time (its key missing from ``feats``, or ``present`` [B, N]
False for a sample) gives no cross-modal content -- CFEM attends to the
present other modalities only and gives zero content when none is left;
with ``content='pool'`` its pooled block of ``g`` is zero -- and its stream
enters the fusion as zeros (its block of the bank's ``c_t``, of the GRU's
input or of the concatenation; masked out of the Transformer fusion). Its
own stream is not computed. This is our policy; the paper evaluates
complete data only.
"""
from functools import partial
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from .cross_modality_encoding import CrossModalityFeatureEncoding
from .m_mixer_substitutes import (GRUFusion, RecurrentSequenceEncoder,
                                  TransformerFusion,
                                  TransformerSequenceEncoder)
from .modality_context_unit import ModalityContextUnit
from .multimodal_feature_bank import MultiModalFeatureBank

TEMPORAL_UNITS = dict(
    mcu=ModalityContextUnit,
    lstm=partial(RecurrentSequenceEncoder, cell='lstm'),
    gru=partial(RecurrentSequenceEncoder, cell='gru'),
    transformer=TransformerSequenceEncoder)
FUSIONS = dict(
    bank=MultiModalFeatureBank, gru=GRUFusion, transformer=TransformerFusion)


@MODELS.register_module()
class MMixer(BaseModule):
    """M-Mixer neck (Fig. 2).

    Args:
        modalities (Sequence[str]): The ``N`` modalities, in order.
        embed_dims (int): ``d_h`` (512 for N=2, 588 for N=3, §IV-B).
        in_channels (int | dict, optional): Width ``d_f`` of the backbone's
            maps (per modality with a dict); adds the 1x1 convolution.
        content (str): ``'cfem'`` (eq. 20), ``'pool'`` (eq. 21) or
            ``'self'`` (MCU-self, Table III).
        temporal (str): ``'mcu'``, ``'lstm'``, ``'gru'`` or
            ``'transformer'`` (Table I).
        fusion (str): ``'bank'`` (eq. 4-8), ``'concat'``, ``'gru'`` or
            ``'transformer'`` (Table VI).
        num_slots (int): ``K`` of the bank. Defaults to 8.
        cfem (dict, optional): Overrides of :class:`
            CrossModalityFeatureEncoding` (``num_heads``, ``num_tokens``,
            ``kernel_size``, ...).
        temporal_cfg (dict, optional): Overrides of the temporal unit
            (MCU: ``norm``, ``mix``, ``share_gate_weights``; substitutes:
            ``cross_modal``, ...).
        fusion_cfg (dict, optional): Overrides of the fusion module.
        stream_outputs (Sequence[str], optional): Return ``{m: h^m_T}`` of
            these streams instead of the fused feature (eq. 22).
        out_key (str): Key of ``h_T`` with the bank, GRU or Transformer
            fusion. Defaults to ``'mixed'``.
    """

    def __init__(self,
                 modalities: Sequence[str],
                 embed_dims: int = 512,
                 in_channels=None,
                 content: str = 'cfem',
                 temporal: str = 'mcu',
                 fusion: str = 'bank',
                 num_slots: int = 8,
                 cfem: Optional[dict] = None,
                 temporal_cfg: Optional[dict] = None,
                 fusion_cfg: Optional[dict] = None,
                 stream_outputs: Optional[Sequence[str]] = None,
                 out_key: str = 'mixed',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        modalities = tuple(modalities)
        if len(modalities) < 2 or len(set(modalities)) != len(modalities):
            raise ValueError(f'M-Mixer needs >= 2 distinct modalities, got '
                             f'{modalities}')
        for name, value, choices in (
                ('content', content, ('cfem', 'pool', 'self')),
                ('temporal', temporal, tuple(TEMPORAL_UNITS)),
                ('fusion', fusion, ('concat', ) + tuple(FUSIONS))):
            if value not in choices:
                raise ValueError(f'{name} must be one of {choices}, got '
                                 f'{value!r}')
        unknown = set(stream_outputs or ()) - set(modalities)
        if unknown:
            raise ValueError(f'stream_outputs {sorted(unknown)} are not in '
                             f'{modalities}')
        temporal_cfg = dict(temporal_cfg or {})
        self.modalities = modalities
        self.embed_dims = embed_dims
        self.temporal = temporal
        self.fusion = fusion
        self.stream_outputs = tuple(stream_outputs or ())
        self.out_key = out_key
        # the Table I substitutes without '+ CM' take no content at all
        self.content = content if (temporal == 'mcu' or temporal_cfg.get(
            'cross_modal')) else None
        num = len(modalities)

        if in_channels is None:
            self.proj = None
        else:
            widths = in_channels if isinstance(in_channels, dict) else \
                {m: in_channels for m in modalities}
            self.proj = nn.ModuleDict({
                m: nn.Conv3d(int(widths[m]), embed_dims, 1)
                for m in modalities
            })
        self.cfem = CrossModalityFeatureEncoding(
            embed_dims, num, **(cfem or {})) \
            if self.content == 'cfem' else None
        content_channels = embed_dims * (num - 1) if content == 'pool' \
            else embed_dims
        self.mcus = nn.ModuleDict({
            m: TEMPORAL_UNITS[temporal](
                embed_dims, content_channels=content_channels,
                **temporal_cfg)
            for m in modalities
        })
        if fusion == 'bank':
            fusion_cfg = dict(dict(num_slots=num_slots), **(fusion_cfg or {}))
        self.bank = FUSIONS[fusion](embed_dims, num, **(fusion_cfg or {})) \
            if fusion in FUSIONS else None

        content_policy = dict(
            cfem='CFEM attends to the present other modalities only (zero '
            'content when none is left)',
            pool="an absent modality's pooled block of the content is zero",
            self='no cross-modal content to lose').get(self.content,
                                                       'no content used')
        fusion_policy = 'masked out of the fusion transformer' \
            if fusion == 'transformer' else 'zeros in the fusion'
        #: What a missing modality means (the robustness report names it).
        self.missing_modality_policy = (
            f'{content_policy}; absent streams are {fusion_policy}')

    def contents(self, maps: Dict[str, torch.Tensor],
                 present: Optional[torch.Tensor] = None
                 ) -> Dict[str, Optional[torch.Tensor]]:
        """``{m: g^m}`` by CFEM, eq. 21 or MCU-self (``[B, 0]`` when no
        content is used); ``present`` [B, N] masks absent modalities."""
        if self.content is None:
            ref = maps[self.modalities[0]]
            empty = ref.new_zeros(ref.shape[0], 0)
            return {m: empty for m in self.modalities}
        if self.content == 'cfem':
            return dict(zip(self.modalities, self.cfem(
                [maps[m] for m in self.modalities], present=present)))
        pooled = {m: maps[m].mean((2, 3, 4)) for m in self.modalities}
        if self.content == 'self':
            return pooled
        if present is not None:
            pooled = {m: x * present[:, i, None].to(x)
                      for i, (m, x) in enumerate(pooled.items())}
        return {
            m: torch.cat([pooled[j] for j in self.modalities if j != m], -1)
            for m in self.modalities
        }

    def _project(self, feats: Dict[str, torch.Tensor]
                 ) -> Dict[str, torch.Tensor]:
        """The frame-wise 1x1 convolutions; zero maps for modalities
        missing from ``feats``."""
        unknown = set(feats) - set(self.modalities)
        if unknown or not feats:
            raise KeyError(f'M-Mixer modalities are {self.modalities}; got '
                           f'features of {sorted(feats)}')
        maps = {}
        for m in self.modalities:
            if m not in feats:
                continue
            x = feats[m]
            if x.dim() != 5:
                raise ValueError(f'M-Mixer takes [B, C, T, h, w] maps, got '
                                 f'{tuple(x.shape)} for {m!r}')
            maps[m] = self.proj[m](x) if self.proj is not None else x
        ref = next(iter(maps.values()))
        return {m: maps[m] if m in maps else torch.zeros_like(ref)
                for m in self.modalities}

    def forward(self, feats: Dict[str, torch.Tensor], data_samples=None,
                present: Optional[torch.Tensor] = None
                ) -> Tuple[Dict[str, torch.Tensor], dict]:
        """Mix the streams.

        Args:
            feats: ``{m: [B, C, T, h, w]}`` of the modalities whose encoders
                ran (a missing key = absent for every sample).
            data_samples: Unused (the recognizer passes them).
            present: ``[B, N]`` bool (:attr:`modalities` order), the
                modalities each sample has; None = every one in ``feats``.
        """
        maps = self._project(feats)
        ref = next(iter(maps.values()))
        mask = torch.tensor([m in feats for m in self.modalities],
                            device=ref.device).expand(ref.shape[0], -1)
        if present is not None:
            mask = mask & present.to(ref.device).bool()
        mask = None if bool(mask.all()) else mask

        g = self.contents(maps, mask)
        hidden = {
            m: self.mcus[m](maps[m].mean((3, 4)).transpose(1, 2), g[m])
            for m in self.modalities if m in feats
        }
        ref_h = next(iter(hidden.values()))
        hidden = {m: hidden.get(m, torch.zeros_like(ref_h))
                  for m in self.modalities}
        if self.stream_outputs or self.fusion == 'concat':
            streams = self.stream_outputs or self.modalities
            last = {m: hidden[m][:, -1] for m in streams}
            if mask is not None:
                last = {m: x * mask[:, self.modalities.index(m), None].to(x)
                        for m, x in last.items()}
            return last, dict()
        out = self.bank([hidden[m] for m in self.modalities], present=mask)
        return {self.out_key: out}, dict()
