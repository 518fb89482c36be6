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
  = ``FC(||_m h^m_T)`` exactly (bias = the sum of the biases), and
  ``loss_per_modality=True`` gives the per-stream losses of eq. 22-23::

      cls_head=dict(type='SumFusionHead', num_classes=60, in_channels=512)

* ``content='pool'``: ``g^i = ||_{j != i} mean_{T,h,w} F^j`` (eq. 21), so
  the MCUs take ``d_h (N-1)``-wide contents (``W_g``, eq. 12);
  ``content='self'`` is "MCU-self" (Table III): ``g^i = mean_{T,h,w} F^i``.

The modalities are taken in ``modalities`` order (the backbone's); every
modality must be present (the neck has no missing-modality policy: its
``forward`` takes no ``present`` mask, so the recognizer refuses per-sample
missing modalities).
"""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from .cross_modality_encoding import CrossModalityFeatureEncoding
from .modality_context_unit import ModalityContextUnit
from .multimodal_feature_bank import MultiModalFeatureBank


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
        fusion (str): ``'bank'`` (eq. 4-8) or ``'concat'``.
        num_slots (int): ``K`` of the bank. Defaults to 8.
        cfem (dict, optional): Overrides of :class:`
            CrossModalityFeatureEncoding` (``num_heads``, ``num_tokens``,
            ``kernel_size``, ...).
        mcu (dict, optional): Overrides of :class:`ModalityContextUnit`
            (``norm``, ``share_gate_weights``).
        bank (dict, optional): Overrides of :class:`MultiModalFeatureBank`.
        out_key (str): Key of ``h_T`` with the bank. Defaults to ``'mixed'``.
    """

    def __init__(self,
                 modalities: Sequence[str],
                 embed_dims: int = 512,
                 in_channels=None,
                 content: str = 'cfem',
                 fusion: str = 'bank',
                 num_slots: int = 8,
                 cfem: Optional[dict] = None,
                 mcu: Optional[dict] = None,
                 bank: Optional[dict] = None,
                 out_key: str = 'mixed',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        modalities = tuple(modalities)
        if len(modalities) < 2 or len(set(modalities)) != len(modalities):
            raise ValueError(f'M-Mixer needs >= 2 distinct modalities, got '
                             f'{modalities}')
        if content not in ('cfem', 'pool', 'self'):
            raise ValueError(f'bad content {content!r}')
        if fusion not in ('bank', 'concat'):
            raise ValueError(f'bad fusion {fusion!r}')
        self.modalities = modalities
        self.embed_dims = embed_dims
        self.content = content
        self.fusion = fusion
        self.out_key = out_key
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
            embed_dims, num, **(cfem or {})) if content == 'cfem' else None
        content_channels = embed_dims * (num - 1) if content == 'pool' \
            else embed_dims
        self.mcus = nn.ModuleDict({
            m: ModalityContextUnit(
                embed_dims, content_channels=content_channels, **(mcu or {}))
            for m in modalities
        })
        self.bank = MultiModalFeatureBank(
            embed_dims, num, num_slots, **(bank or {})) \
            if fusion == 'bank' else None

    def contents(self, maps: Dict[str, torch.Tensor]):
        """``{m: g^m}`` by CFEM, eq. 21 or MCU-self."""
        if self.content == 'cfem':
            return dict(zip(self.modalities, self.cfem(
                [maps[m] for m in self.modalities])))
        pooled = {m: maps[m].mean((2, 3, 4)) for m in self.modalities}
        if self.content == 'self':
            return pooled
        return {
            m: torch.cat([pooled[j] for j in self.modalities if j != m], -1)
            for m in self.modalities
        }

    def forward(self, feats: Dict[str, torch.Tensor],
                data_samples=None) -> Tuple[Dict[str, torch.Tensor], dict]:
        missing = [m for m in self.modalities if m not in feats]
        if missing:
            raise KeyError(f'M-Mixer needs every modality; missing {missing}')
        maps = {}
        for m in self.modalities:
            x = feats[m]
            if x.dim() != 5:
                raise ValueError(f'M-Mixer takes [B, C, T, h, w] maps, got '
                                 f'{tuple(x.shape)} for {m!r}')
            maps[m] = self.proj[m](x) if self.proj is not None else x
        g = self.contents(maps)
        hidden = {
            m: self.mcus[m](maps[m].mean((3, 4)).transpose(1, 2), g[m])
            for m in self.modalities
        }
        if self.fusion == 'concat':
            return {m: hidden[m][:, -1] for m in self.modalities}, dict()
        out = self.bank([hidden[m] for m in self.modalities])
        return {self.out_key: out}, dict()
