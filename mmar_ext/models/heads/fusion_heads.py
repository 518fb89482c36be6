"""Fusion heads of paper 001, §2.3 (sum / concat / transformer), Table 4.

Every head takes the dict of modality tokens ``{m: cls_L^m [N, C]}`` made by
the space-time encoders and returns class scores ``[N, num_classes]``.
They are MMAction2 ``BaseHead`` subclasses, so loss, label smoothing,
top-k accuracy and multi-clip averaging (``average_clips``, ``num_segs``)
are MMAction2's own.

Missing-modality inference (Table 4): a head fuses whatever subset of its
``modalities`` is present in the input dict (the recognizer decides which,
see ``MultiModalRecognizer.set_test_modalities``):

* sum -- sum over the present modalities only;
* concat -- footnote 3: the FC weight is split into per-modality
  sub-matrices and the bias divided by the number of modalities; with
  ``P`` of ``M`` modalities present the logits are
  ``sum_{m present} W_m cls^m + (P / M) b`` (the sum of the footnote's
  uni-modal predictions).  ``missing_bias='full'`` keeps the whole bias
  instead, which equals zero-filling the absent tokens;
* transformer -- absent tokens are dropped from the fusion sequence.

Per-sample missing modalities (data lacking a modality file, the dataset's
``missing_modality='allow'``): ``head(x, modality_mask=mask)`` with ``mask``
``[N, M]`` bool over the head's ``modalities`` (True = the sample has it)
applies the same policy to each sample on its own: sum and transformer
leave the sample's absent modalities out (a masked sum; a
``key_padding_mask`` over the modality tokens, the class token always
attended), concat uses the footnote-3 split with ``P_n / M`` of the bias
(``P_n`` = the modalities sample ``n`` has; ``missing_bias='full'``: the
whole bias). The tokens of a sample's absent modalities are never read, so
a mixed batch gives every sample the scores it gets alone. A modality
missing from the dict is absent for every sample; without a mask the
heads behave as described above.

Label smoothing (§4.1, alpha = 0.1) is MMAction2's own: set
``label_smooth_eps=0.1`` on the head; ``BaseHead`` then feeds
``(1 - eps) one_hot + eps / K`` to ``CrossEntropyLoss``'s soft-label branch,
which equals ``F.cross_entropy(..., label_smoothing=eps)``.

Dropout before the classifier defaults to 0 (Table 3).

Feature maps (``[N, C, T, H, W]``, e.g. EPAM-Net's X-ShiftNet streams) are
global-average-pooled to tokens first. The sum head also serves EPAM-Net's
two classifiers (seed 002, §4.2): per-stream widths
(``in_channels=dict(rgb=432, pose=216)``) and ``loss_per_modality=True``,
"the summation of two cross-entropy losses of RGB and skeleton streams";
the test score is the sum of the streams' logits.
"""
import copy
from abc import abstractmethod
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model.weight_init import normal_init, trunc_normal_

from mmaction.models.heads.base import BaseHead
from mmaction.registry import MODELS


class BaseFusionHead(BaseHead):
    """Base of the heads that classify a dict of modality tokens.

    Subclasses implement :meth:`fuse` and keep their classifier(s) in
    ``self.fc_cls`` (normal-initialised with ``init_std``).

    Args:
        num_classes (int): Number of classes.
        modalities (Sequence[str]): Modalities the head was trained on, in
            canonical order (the concat order). When the head is built by
            ``MultiModalRecognizer`` this defaults to the backbone's keys.
        in_channels (int | dict): Width ``C`` of each modality token, or
            ``{modality: C_m}`` (heads that support different widths:
            :class:`SumFusionHead`). Defaults to 512.
        loss_cls (dict): Loss config. Defaults to
            ``dict(type='CrossEntropyLoss')``.
        label_smooth_eps (float): MMAction2 label smoothing; the paper uses
            0.1 (§4.1). Defaults to 0.
        dropout_ratio (float): Dropout on the tokens before the classifier.
            Defaults to 0 (Table 3).
        init_std (float): Std of the classifier's normal init. Defaults to
            0.01 (MMAction2's heads).
        average_clips (str, optional): Multi-clip test averaging, ``'prob'``,
            ``'score'`` or None. Defaults to ``'prob'``.
        **kwargs: Further ``BaseHead`` arguments (``topk``, ``init_cfg``).
    """

    def __init__(self,
                 num_classes: int,
                 modalities: Sequence[str],
                 in_channels: int = 512,
                 loss_cls: dict = dict(type='CrossEntropyLoss'),
                 label_smooth_eps: float = 0.,
                 dropout_ratio: float = 0.,
                 init_std: float = 0.01,
                 average_clips: Optional[str] = 'prob',
                 **kwargs) -> None:
        super().__init__(
            num_classes,
            in_channels,
            loss_cls=loss_cls,
            label_smooth_eps=label_smooth_eps,
            average_clips=average_clips,
            **kwargs)
        modalities = tuple(modalities)
        if not modalities or len(set(modalities)) != len(modalities):
            raise ValueError(f'bad modalities {modalities}')
        self.modalities = modalities
        self.init_std = init_std
        self.dropout = (
            nn.Dropout(dropout_ratio) if dropout_ratio > 0 else nn.Identity())

    @property
    def num_modalities(self) -> int:
        return len(self.modalities)

    def channels_of(self, modality: str) -> int:
        """Width of ``modality``'s token."""
        if isinstance(self.in_channels, int):
            return self.in_channels
        if modality not in self.in_channels:
            raise KeyError(f'in_channels {dict(self.in_channels)} has no '
                           f'width for modality {modality!r}')
        return int(self.in_channels[modality])

    def tokens(self, x: Dict[str, torch.Tensor],
               present: List[str]) -> Dict[str, torch.Tensor]:
        """Dropped-out tokens ``[N, C_m]`` of ``present``; feature maps
        ``[N, C, ...]`` are global-average-pooled first."""
        return {
            m: self.dropout(x[m].flatten(2).mean(-1) if x[m].dim() > 2
                            else x[m])
            for m in present
        }

    def present_modalities(self, x: Dict[str, torch.Tensor]) -> List[str]:
        """The modalities of ``x`` in canonical order; checks the keys."""
        if not isinstance(x, dict):
            raise TypeError(f'{type(self).__name__} takes a dict of modality '
                            f'tokens, got {type(x).__name__}')
        unknown = set(x) - set(self.modalities)
        if unknown:
            raise KeyError(f'unknown modalities {sorted(unknown)}; the head '
                           f'knows {self.modalities}')
        present = [m for m in self.modalities if m in x]
        if not present:
            raise ValueError('no modality token to classify')
        return present

    def sample_mask(self, modality_mask: Optional[torch.Tensor],
                    present: List[str], num: int) -> Optional[torch.Tensor]:
        """Per-sample availability ``[N, P]`` over ``present`` from
        ``modality_mask`` ``[N, M]`` (the head's ``modalities`` order), or
        None when every sample has every present modality."""
        if modality_mask is None:
            return None
        mask = torch.as_tensor(modality_mask).bool()
        if tuple(mask.shape) != (num, self.num_modalities):
            raise ValueError(
                f'modality_mask must be [N, M] = [{num}, '
                f'{self.num_modalities}] over {self.modalities}, got '
                f'{tuple(mask.shape)}')
        mask = mask[:, [self.modalities.index(m) for m in present]]
        empty = (~mask.any(1)).nonzero(as_tuple=True)[0]
        if len(empty):
            raise ValueError(
                f'samples {empty.tolist()} have none of the modalities '
                f'{present}: nothing to classify')
        return None if bool(mask.all()) else mask

    def forward(self, x: Dict[str, torch.Tensor],
                modality_mask: Optional[torch.Tensor] = None,
                **kwargs) -> torch.Tensor:
        """Fuse the present modality tokens into class scores ``[N, K]``.

        Args:
            x (dict): ``{m: [N, C_m]}`` tokens (or feature maps) of the
                present modalities.
            modality_mask (Tensor, optional): ``[N, M]`` bool over
                :attr:`modalities`: which modalities each sample has (the
                tokens of the others are ignored). None: every modality of
                ``x`` for every sample.
            **kwargs: Ignored (MMAction2 passes ``loss_aux``).
        """
        present = self.present_modalities(x)
        tokens = self.tokens(x, present)
        mask = self.sample_mask(modality_mask, present,
                                tokens[present[0]].shape[0])
        if mask is None:
            return self.fuse(tokens, present)
        return self.fuse(tokens, present, mask.to(tokens[present[0]].device))

    @abstractmethod
    def fuse(self, x: Dict[str, torch.Tensor], present: List[str],
             mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Class scores from the (dropped-out) tokens of ``present``;
        ``mask`` ``[N, P]`` (bool, ``present`` order; None = all True)
        says which of them each sample has."""

    def init_weights(self) -> None:
        """Normal-init the classifier(s), which subclasses keep in
        ``self.fc_cls``; children (e.g. the fusion transformer) init
        themselves."""
        for module in self.fc_cls.modules():
            if isinstance(module, nn.Linear):
                normal_init(module, std=self.init_std)
        super().init_weights()


@MODELS.register_module()
class SumFusionHead(BaseFusionHead):
    """Sum fusion: ``sum_m FC^m(cls_L^m)`` (§2.3).

    With a single modality this is the uni-modal classifier of §2.1.
    Missing modalities are left out of the sum.

    Args:
        loss_per_modality (bool): Train with the sum of each modality's
            cross-entropy, ``sum_m CE(FC^m(cls^m), y)`` (EPAM-Net, §4.2;
            logged as ``<m>_loss_cls``), instead of the cross-entropy of the
            summed logits. Inference sums the logits either way.
            Defaults to False.
        bias (bool): Biases in the per-modality classifiers. Defaults to
            True (M-Mixer's per-stream classifiers, eq. 22, have none).
        **kwargs: :class:`BaseFusionHead` arguments; ``in_channels`` may be
            a ``{modality: width}`` dict.
    """

    #: What a missing modality means (the robustness report names it).
    missing_modality_policy = 'absent modalities left out of the sum of logits'

    def __init__(self, num_classes: int, modalities: Sequence[str],
                 loss_per_modality: bool = False, bias: bool = True,
                 **kwargs) -> None:
        super().__init__(num_classes, modalities, **kwargs)
        self.loss_per_modality = loss_per_modality
        self.fc_cls = nn.ModuleDict({
            m: nn.Linear(self.channels_of(m), num_classes, bias=bias)
            for m in self.modalities
        })

    def modality_scores(self, x: Dict[str, torch.Tensor]
                        ) -> Dict[str, torch.Tensor]:
        """Per-modality logits ``{m: FC^m(cls_L^m)}`` of the present ones."""
        present = self.present_modalities(x)
        tokens = self.tokens(x, present)
        return {m: self.fc_cls[m](tokens[m]) for m in present}

    def fuse(self, x, present, mask=None):
        if mask is None:
            return sum(self.fc_cls[m](x[m]) for m in present)
        return sum(
            torch.where(mask[:, i, None], self.fc_cls[m](x[m]), 0.)
            for i, m in enumerate(present))

    def loss(self, feats: Dict[str, torch.Tensor], data_samples,
             modality_mask: Optional[torch.Tensor] = None,
             **kwargs) -> Dict:
        if not self.loss_per_modality:
            return super().loss(
                feats, data_samples, modality_mask=modality_mask, **kwargs)
        scores_of = self.modality_scores(feats)
        present = list(scores_of)
        num = scores_of[present[0]].shape[0]
        mask = self.sample_mask(modality_mask, present, num)
        losses = dict()
        for i, (m, scores) in enumerate(scores_of.items()):
            samples = data_samples
            if mask is not None and not bool(mask[:, i].all()):
                # the cross-entropy of the samples that have m
                rows = mask[:, i].nonzero(as_tuple=True)[0]
                if not len(rows):
                    continue
                per_sample = num // len(data_samples)
                scores = scores[rows.to(scores.device)]
                samples = [data_samples[int(r) // per_sample] for r in rows]
            losses.update({
                f'{m}_{k}': v
                for k, v in self.loss_by_feat(scores, samples).items()
            })
        return losses


@MODELS.register_module()
class ConcatFusionHead(BaseFusionHead):
    """Concat fusion: ``FC(||_m cls_L^m)`` (§2.3, footnote 3).

    Args:
        missing_bias (str): Bias used when some modalities are absent.
            ``'split'`` (footnote 3, default): each present modality carries
            ``b / M``. ``'full'``: the whole bias (= zero-filled tokens).
        **kwargs: :class:`BaseFusionHead` arguments.
    """

    def __init__(self,
                 num_classes: int,
                 modalities: Sequence[str],
                 missing_bias: str = 'split',
                 **kwargs) -> None:
        super().__init__(num_classes, modalities, **kwargs)
        if missing_bias not in ('split', 'full'):
            raise ValueError(f'missing_bias must be split|full, '
                             f'got {missing_bias!r}')
        self.missing_bias = missing_bias
        self.missing_modality_policy = (
            'FC split per modality, bias divided by the number of '
            'modalities (footnote 3)' if missing_bias == 'split' else
            'FC split per modality, full bias')
        self.fc_cls = nn.Linear(self.in_channels * self.num_modalities,
                                num_classes)

    def split_weight(self) -> Dict[str, torch.Tensor]:
        """Per-modality sub-matrices ``{m: W_m [K, C]}`` of the FC weight."""
        chunks = self.fc_cls.weight.split(self.in_channels, dim=1)
        return dict(zip(self.modalities, chunks))

    def fuse(self, x, present, mask=None):
        complete = len(present) == self.num_modalities
        if complete and mask is None:
            return self.fc_cls(torch.cat([x[m] for m in present], dim=1))
        weights = self.split_weight()
        bias = self.fc_cls.bias
        if mask is None:
            scores = sum(x[m] @ weights[m].t() for m in present)
            if self.missing_bias == 'split':
                bias = bias * (len(present) / self.num_modalities)
            return scores + bias
        # per sample: sum over its modalities, P_n / M of the bias
        scores = sum(
            torch.where(mask[:, i, None], x[m] @ weights[m].t(), 0.)
            for i, m in enumerate(present))
        if self.missing_bias == 'split':
            count = mask.sum(1, keepdim=True).to(scores.dtype)
            bias = bias * (count / self.num_modalities)
        scores = scores + bias
        if complete:  # samples with every modality: the plain FC
            full = self.fc_cls(torch.cat([x[m] for m in present], dim=1))
            scores = torch.where(mask.all(1, keepdim=True), full, scores)
        return scores


@MODELS.register_module()
class TransformerFusionHead(BaseFusionHead):
    """Transformer fusion (§2.3): FC on the class token of
    ``Transformer([cls, cls_L^R, cls_L^D, cls_L^I])`` (eqs. (3)-(4)).

    Args:
        transformer (dict): Overrides for the :class:`TokenTransformer`
            (``num_layers`` -- default 2 --, ``num_heads``,
            ``feedforward_channels``, ``drop_rate``, ``final_norm``, ...).
            ``embed_dims`` is ``in_channels``; it has a class token and no
            position embedding.
        modality_embed (bool): Add a learnable per-modality embedding to
            each modality token. The paper mentions none, so the default is
            False: the tokens come from different encoders and the sequence
            order carries no information for self-attention. When True the
            embedding is looked up by modality name, so it stays correct
            when modalities are dropped.
        **kwargs: :class:`BaseFusionHead` arguments.

    Missing modalities are simply left out of the token sequence (per
    sample: masked out of the attention).
    """

    #: What a missing modality means (the robustness report names it).
    missing_modality_policy = 'absent tokens left out of the fusion sequence'

    def __init__(self,
                 num_classes: int,
                 modalities: Sequence[str],
                 transformer: Optional[dict] = None,
                 modality_embed: bool = False,
                 **kwargs) -> None:
        super().__init__(num_classes, modalities, **kwargs)
        cfg = dict(
            type='TokenTransformer',
            embed_dims=self.in_channels,
            num_layers=2,
            num_heads=8,
            feedforward_channels=2048,
            drop_rate=0.,
            with_cls_token=True,
            pos_embed=None,
            final_norm=False)
        cfg.update(copy.deepcopy(dict(transformer or {})))
        self.fusion = MODELS.build(cfg)
        self.modality_embed = (
            nn.Parameter(torch.zeros(self.num_modalities, self.in_channels))
            if modality_embed else None)
        self.fc_cls = nn.Linear(self.in_channels, num_classes)

    def init_weights(self) -> None:
        if self.modality_embed is not None:
            trunc_normal_(self.modality_embed, std=0.02)
        super().init_weights()

    def fuse(self, x, present, mask=None):
        tokens = torch.stack([x[m] for m in present], dim=1)  # [N, P, C]
        if self.modality_embed is not None:
            index = [self.modalities.index(m) for m in present]
            tokens = tokens + self.modality_embed[index].to(tokens.dtype)
        if mask is None:
            return self.fc_cls(self.fusion(tokens)[:, 0])
        # a sample's absent tokens are masked out of the attention (the
        # class token always attends): the same as dropping them; zeroed
        # first, as a masked key's value still meets a 0 weight (NaN * 0)
        tokens = torch.where(mask[..., None], tokens, 0.)
        fused = self.fusion(tokens, key_padding_mask=~mask)
        return self.fc_cls(fused[:, 0])
