"""Generic multi-modal recognizer: one encoder per modality -> (neck) -> head.

Paper 001, §2: each modality ``m`` is encoded by its own space-time encoder
(eqs. (1)-(4)) and the modality tokens ``{m: cls_L^m}`` are fused by the
head (§2.3).  A uni-modal model is the same recognizer with one modality.

Data contract (MMAction2 1.2.0):

* the pipeline ends with ``PackActionInputs(collect_keys=('rgb_imgs',
  'depth_imgs', ...))``; the input key of modality ``m`` is
  ``input_key.format(m)`` (default ``f'{m}_imgs'``);
* ``MultiModalDataPreprocessor`` normalises each key with its own
  ``ActionDataPreprocessor(format_shape='NCTHW')``, giving
  ``[B, num_clips, C, T, H, W]`` per modality; clips are flattened into the
  batch and the head averages them back (``BaseHead.average_clip``).  A
  plain ``[B, num_clips, C, T, H, W]`` tensor is accepted for a uni-modal
  model.

Missing-modality inference (Table 4): ``test_cfg=dict(modalities=('rgb',))``
or :meth:`MultiModalRecognizer.set_test_modalities` selects the modalities
used outside training; absent modalities' encoders are not run, and the
head fuses the tokens it receives.  At test time a modality whose input key
is absent from the batch is treated as missing too; in training every
modality must be present.

Per-sample missing modalities (a dataset with ``missing_modality='allow'``,
docs/data_format.md): each data sample's metainfo ``modality_mask``
(``{m: bool}``) says which modalities its data have; the absent ones' inputs
are placeholders that are never encoded. Each encoder runs on the samples
that have its modality only, and the rest is the neck's or the head's
missing-modality policy, per sample (:meth:`MultiModalRecognizer.
extract_feat`): ActionMAE reconstructs the absent slots, the fusion heads
leave them out (sum, transformer) or split the FC (concat, footnote 3).
A batch may mix samples with different modalities, in training too.
"""
import copy
import inspect
import logging
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader

from mmaction.models.recognizers.base import BaseRecognizer
from mmaction.registry import MODELS
from mmaction.utils import OptSampleList, SampleList
from ..heads.fusion_heads import BaseFusionHead


def _head_class(cfg: dict):
    head_type = cfg.get('type')
    return MODELS.get(head_type) if isinstance(head_type, str) else head_type


@MODELS.register_module()
class MultiModalRecognizer(BaseRecognizer):
    """Recognizer over a dict of modality clips.

    Args:
        backbone (dict): ``{modality: encoder config}``, e.g.
            ``dict(rgb=dict(type='SpaceTimeEncoder', ...),
            depth=dict(type='SpaceTimeEncoder', ...))`` -- wrapped into a
            :class:`ModalityEncoders` -- or an explicit
            ``dict(type='ModalityEncoders', encoders=...)``.
        cls_head (dict, optional): Head config. For fusion heads
            (:class:`BaseFusionHead` subclasses) ``modalities`` defaults to
            the backbone's modality order.
        neck (dict, optional): Module called as
            ``feats, loss_aux = neck(feats, data_samples=...)`` on the token
            dict (e.g. ActionMAE); ``loss_aux`` is added to the losses. A
            neck that takes ``modalities`` gets the backbone's order by
            default, as fusion heads do.
        train_cfg (dict, optional): Unused; kept for MMAction2 parity.
        test_cfg (dict, optional): ``modalities`` -- modalities used outside
            training (default: all).
        data_preprocessor (dict, optional): Defaults to a
            ``MultiModalDataPreprocessor`` with one un-normalised
            ``ActionDataPreprocessor(format_shape='NCTHW')`` per input key.
        input_key (str): Format of a modality's input key. Defaults to
            ``'{}_imgs'``.
        modalities (Sequence[str], optional): Keep only these encoders of a
            ``{modality: config}`` backbone, in this order (lets a base
            config define every encoder and a child pick
            ``modalities=('rgb', 'depth')``). Defaults to all of them.
        stream_checkpoints (dict, optional): ``{modality: checkpoint}`` (a
            local path, an http(s) URL or any other MMEngine checkpoint
            address such as ``open-mmlab://...``) of models -- typically
            stage-1 uni-modal ones -- that each stream starts from. In
            :meth:`init_weights`, after the modules' own initialisation,
            for each modality ``m``: every ``backbone.{m}.*`` tensor
            (parameters and buffers) is copied from the checkpoint, and the
            model must find all of its ``backbone.{m}.*`` keys there with
            the same shapes; the checkpoint's classifier tensors of that
            stream -- the ``cls_head.*`` keys with a component ``m`` in
            their dotted path, e.g. ``cls_head.fc_cls.{m}.weight`` of
            :class:`SumFusionHead` -- are copied where the model has them
            with the same shape. A missing backbone key or a shape mismatch
            raises a ``ValueError`` naming the modality and the file (a
            checkpoint of the wrong stream fails, it is not skipped with a
            warning). Everything else -- the neck, the other modalities'
            keys of a checkpoint -- keeps its own initialisation; the neck
            starts fresh. A ``None`` entry leaves that stream as
            initialised. One log line per stream says how many backbone and
            head tensors were loaded from which file. ``load_from`` and
            ``--resume`` still override this: the runner loads them after
            ``init_weights``. Defaults to None (nothing loaded).
        frozen_modules (Sequence[str]): Submodules (dotted names, e.g.
            ``('backbone', 'neck')`` or ``('backbone.rgb', )``) that are not
            trained: their parameters get ``requires_grad=False`` and they
            stay in eval mode (BatchNorm statistics and dropout frozen too)
            whatever ``train()`` is called with. E.g. M-Mixer's per-stream
            classifiers (paper 000, eq. 22-23) are trained "while the whole
            weights of M-Mixer network are fixed". Defaults to ().
        init_cfg (dict, optional): MMEngine init config of the whole model,
            e.g. ``dict(type='Pretrained', checkpoint=...)`` to start from
            another model's weights (non-strict; applied after the
            modules' own initialisation, before ``stream_checkpoints``).
            Unlike ``load_from`` it is not taken for the checkpoint to
            resume by ``--resume``. Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 cls_head: Optional[dict] = None,
                 neck: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 input_key: str = '{}_imgs',
                 modalities: Optional[Sequence[str]] = None,
                 stream_checkpoints: Optional[Dict[str, str]] = None,
                 frozen_modules: Sequence[str] = (),
                 init_cfg: Optional[dict] = None) -> None:
        backbone = copy.deepcopy(dict(backbone))
        if 'type' not in backbone:
            backbone = dict(type='ModalityEncoders', encoders=backbone)
        if modalities is not None:
            if isinstance(modalities, str):
                modalities = (modalities, )
            encoders = backbone.get('encoders') or {}
            missing = [m for m in modalities if m not in encoders]
            if missing or not modalities:
                raise ValueError(f'modalities {tuple(modalities)}: no encoder '
                                 f'config for {missing} in {tuple(encoders)}')
            backbone['encoders'] = {m: encoders[m] for m in modalities}
        encoders = backbone.get('encoders')
        modalities = tuple(encoders.keys()) if encoders else None

        if cls_head is not None:
            cls_head = copy.deepcopy(dict(cls_head))
            head_cls = _head_class(cls_head)
            if (modalities and isinstance(head_cls, type)
                    and issubclass(head_cls, BaseFusionHead)):
                cls_head.setdefault('modalities', modalities)
        if neck is not None and modalities:
            neck = copy.deepcopy(dict(neck))
            neck_cls = _head_class(neck)
            if isinstance(neck_cls, type) and 'modalities' in \
                    inspect.signature(neck_cls.__init__).parameters:
                neck.setdefault('modalities', modalities)

        if data_preprocessor is None and modalities:
            data_preprocessor = dict(
                type='MultiModalDataPreprocessor',
                preprocessors={
                    input_key.format(m):
                    dict(type='ActionDataPreprocessor', format_shape='NCTHW')
                    for m in modalities
                })
        if isinstance(data_preprocessor, dict):
            # build in MMAction2's scope, so that no default scope is needed
            data_preprocessor = MODELS.build(data_preprocessor)

        super().__init__(
            backbone=backbone,
            cls_head=cls_head,
            neck=neck,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor)

        if not hasattr(self.backbone, 'modalities'):
            raise TypeError('the backbone must expose `modalities` (use '
                            'ModalityEncoders)')
        self.modalities = tuple(self.backbone.modalities)
        self.input_key = input_key
        if (self.with_cls_head and not self.with_neck
                and isinstance(self.cls_head, BaseFusionHead)
                and set(self.cls_head.modalities) != set(self.modalities)):
            raise ValueError(f'head modalities {self.cls_head.modalities} '
                             f'differ from backbone {self.modalities}')
        self._test_modalities = self.modalities
        self.set_test_modalities((test_cfg or {}).get('modalities'))
        stream_checkpoints = dict(stream_checkpoints or {})
        unknown = [m for m in stream_checkpoints if m not in self.modalities]
        if unknown:
            raise ValueError(f'stream_checkpoints: unknown modalities '
                             f'{unknown}; the model has {self.modalities}')
        self.stream_checkpoints = stream_checkpoints
        self.frozen_modules = self._freeze(frozen_modules)
        # BaseRecognizer takes no init_cfg; BaseModule.init_weights reads it
        self.init_cfg = copy.deepcopy(init_cfg)

    # ------------------------------------------------------------------
    def _freeze(self, names: Sequence[str]) -> Tuple[str, ...]:
        names = (names, ) if isinstance(names, str) else tuple(names)
        for name in names:
            try:
                module = self.get_submodule(name)
            except AttributeError:
                children = [n for n, _ in self.named_children()]
                raise ValueError(
                    f'frozen_modules: the model has no submodule {name!r} '
                    f'(top level: {children})') from None
            for p in module.parameters():
                p.requires_grad_(False)
            module.eval()
        return names

    def train(self, mode: bool = True):
        """``nn.Module.train``, keeping :attr:`frozen_modules` in eval
        mode."""
        super().train(mode)
        for name in getattr(self, 'frozen_modules', ()):
            self.get_submodule(name).eval()
        return self

    # ------------------------------------------------------------------
    # initialisation of each stream from its own checkpoint
    def init_weights(self) -> None:
        """The modules' own initialisation (``init_cfg``), then each
        stream from ``stream_checkpoints`` (see the class docstring)."""
        super().init_weights()
        for m, checkpoint in self.stream_checkpoints.items():
            if checkpoint:
                self._load_stream(m, checkpoint)

    @staticmethod
    def _first(keys: List[str], num: int = 5) -> str:
        more = f' (+{len(keys) - num} more)' if len(keys) > num else ''
        return ', '.join(keys[:num]) + more

    def _load_stream(self, modality: str, checkpoint: str) -> None:
        """Copy ``backbone.{modality}.*`` and the stream's ``cls_head.*``
        tensors of ``checkpoint`` into the model."""
        ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
        source = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) \
            else None
        if not isinstance(source, dict):
            raise ValueError(f'stream_checkpoints[{modality!r}]: {checkpoint} '
                             f'holds no state dict')
        source = {(k[len('module.'):] if k.startswith('module.') else k): v
                  for k, v in source.items()}
        own = self.state_dict()
        err = (f'stream_checkpoints[{modality!r}]: {checkpoint} does not fit '
               f'the {modality} stream')

        prefix = f'backbone.{modality}.'
        backbone_keys = [k for k in own if k.startswith(prefix)]
        missing = [k for k in backbone_keys if k not in source]
        mismatched = [
            f'{k} {tuple(source[k].shape)} vs {tuple(own[k].shape)}'
            for k in backbone_keys
            if k in source and source[k].shape != own[k].shape
        ]
        if missing or mismatched:
            problems = []
            if missing:
                found = sorted({
                    k.split('.')[1]
                    for k in source if k.startswith('backbone.')
                })
                problems.append(f'it lacks {len(missing)} of the model\'s '
                                f'{len(backbone_keys)} {prefix}* tensors '
                                f'(its backbone streams: {found}): '
                                f'{self._first(missing)}')
            if mismatched:
                problems.append(f'{len(mismatched)} shapes differ '
                                f'(checkpoint vs model): '
                                f'{self._first(mismatched)}')
            raise ValueError(f'{err}: ' + '; '.join(problems))

        head_keys = [
            k for k in source
            if k.startswith('cls_head.') and modality in k.split('.')[1:]
            and k in own
        ]
        mismatched = [
            f'{k} {tuple(source[k].shape)} vs {tuple(own[k].shape)}'
            for k in head_keys if source[k].shape != own[k].shape
        ]
        if mismatched:
            raise ValueError(f'{err}: {len(mismatched)} classifier shapes '
                             f'differ (checkpoint vs model): '
                             f'{self._first(mismatched)}')

        loaded = {k: source[k] for k in backbone_keys + head_keys}
        self.load_state_dict(loaded, strict=False)
        print_log(
            f'stream_checkpoints: {modality} stream: loaded '
            f'{len(backbone_keys)} {prefix}* and {len(head_keys)} cls_head '
            f'tensors from {checkpoint}',
            logger='current')
        own_head = [
            k for k in own
            if k.startswith('cls_head.') and modality in k.split('.')[1:]
        ]
        if own_head and not head_keys:
            print_log(
                f'stream_checkpoints: {checkpoint} has no classifier '
                f'tensors of the {modality} stream; '
                f'{self._first(own_head)} keep their initialisation',
                logger='current', level=logging.WARNING)

    # ------------------------------------------------------------------
    # missing-modality switch
    @property
    def test_modalities(self) -> Tuple[str, ...]:
        """Modalities used outside training (canonical order)."""
        return self._test_modalities

    def set_test_modalities(self,
                            modalities: Optional[Sequence[str]] = None
                            ) -> None:
        """Select the modalities used at inference; None restores all.

        The evaluation of Table 4 calls this (on ``model.module`` under
        DDP) before each test pass. A neck with ``check_modalities`` may
        refuse a subset it cannot classify (``ModalitySubsetNotApplicable``,
        e.g. the deformable transformer's pose alone).
        """
        if modalities is None:
            self._test_modalities = self.modalities
            return
        if isinstance(modalities, str):
            modalities = (modalities, )
        unknown = set(modalities) - set(self.modalities)
        if unknown or not modalities:
            raise ValueError(f'test modalities {tuple(modalities)} must be a '
                             f'non-empty subset of {self.modalities}')
        check = getattr(self.neck, 'check_modalities', None) \
            if self.with_neck else None
        if check is not None:
            check(tuple(modalities))
        self._test_modalities = tuple(m for m in self.modalities
                                      if m in modalities)

    # ------------------------------------------------------------------
    # per-sample missing modalities (missing_modality='allow' datasets)
    def sample_mask(self, data_samples: OptSampleList,
                    device: Optional[torch.device] = None
                    ) -> Optional[torch.Tensor]:
        """Availability ``[B, N]`` (bool, :attr:`modalities` order) from
        the data samples' metainfo ``modality_mask`` (``{m: bool}``, set by
        ``PackMultiModalInputs``); a sample without one, or a modality it
        does not list, counts as available. None when no sample lacks any
        of the model's modalities (the batch is handled as before)."""
        if not data_samples:
            return None
        rows, missing = [], False
        for sample in data_samples:
            meta = getattr(sample, 'metainfo', None) or {}
            given = meta.get('modality_mask')
            if given is None:
                rows.append([True] * len(self.modalities))
                continue
            if not isinstance(given, dict):
                raise TypeError(
                    'metainfo modality_mask must be a {modality: bool} '
                    f'dict, got {type(given).__name__}')
            row = [bool(given.get(m, True)) for m in self.modalities]
            missing = missing or not all(row)
            rows.append(row)
        if not missing:
            return None
        return torch.tensor(rows, dtype=torch.bool, device=device)

    @staticmethod
    def _sample_label(data_samples: OptSampleList, index: int) -> str:
        meta = {}
        if data_samples and index < len(data_samples):
            meta = getattr(data_samples[index], 'metainfo', None) or {}
        name = meta.get('frame_dir')
        return f'{name} (batch index {index})' if name else \
            f'batch index {index}'

    def _encode_available(self, clips: Dict[str, torch.Tensor],
                          available: torch.Tensor,
                          data_samples: OptSampleList
                          ) -> Tuple[Dict[str, torch.Tensor],
                                     Optional[torch.Tensor]]:
        """Run each encoder on the samples that have its modality only.

        Returns the tokens ``{m: [B * num_clips, ...]}`` (zeros in the rows
        of samples lacking ``m``; a modality no sample has is not encoded
        and absent) and ``present`` ``[B * num_clips, N]`` (bool,
        :attr:`modalities` order: the sample has ``m`` and its encoder
        ran), or None when every row has every encoded modality.
        """
        batch = available.shape[0]
        subsets, scatter = dict(), dict()
        for m, x in clips.items():
            if x.shape[0] % batch:
                raise ValueError(
                    f'{m}: {x.shape[0]} clips for {batch} data samples')
            rows = available[:, self.modalities.index(m)].repeat_interleave(
                x.shape[0] // batch)
            if bool(rows.all()):
                subsets[m] = x
            elif bool(rows.any()):
                index = rows.nonzero(as_tuple=True)[0]
                subsets[m] = x.index_select(0, index)
                scatter[m] = (index, x.shape[0])
            # else: no sample has it -- its encoder is not run
        if not subsets:
            raise ValueError(
                f'no sample of the batch has any of the modalities '
                f'{tuple(clips)} in use')
        feats = dict()
        for m, tokens in self.backbone(subsets).items():
            if m in scatter:
                if not isinstance(tokens, torch.Tensor):
                    raise TypeError(
                        f'per-sample missing modalities need tensor '
                        f'features from the {m} encoder, got '
                        f'{type(tokens).__name__}')
                index, rows = scatter[m]
                tokens = tokens.new_zeros(
                    (rows, ) + tuple(tokens.shape[1:])).index_copy(
                        0, index, tokens)
            feats[m] = tokens
        num_rows = next(iter(feats.values())).shape[0]
        num_clips = num_rows // batch
        encoded = torch.tensor([m in feats for m in self.modalities],
                               dtype=torch.bool, device=available.device)
        present = available.repeat_interleave(num_clips, 0) & encoded
        empty = (~present.any(1)).nonzero(as_tuple=True)[0]
        if len(empty):
            sample = int(empty[0]) // num_clips
            lacks = [m for m, ok in zip(self.modalities, available[sample])
                     if not ok]
            raise ValueError(
                f'sample {self._sample_label(data_samples, sample)} has none '
                f'of the modalities in use {tuple(feats) or tuple(clips)} '
                f'(its data lack {", ".join(lacks)}); nothing to classify '
                '- select other test modalities or leave such samples out')
        return feats, (None if bool(present.all()) else present)

    def _check_no_blending(self) -> None:
        """Batch blending (MixUp, CutMix) would mix samples that have a
        modality with placeholders of samples that lack it."""
        pre = getattr(self, 'data_preprocessor', None)
        subs = getattr(pre, 'preprocessors', None) or {}
        parts = list(subs.values()) if hasattr(subs, 'values') else []
        for p in [pre] + parts:
            if getattr(p, 'blending', None) is not None:
                raise NotImplementedError(
                    'batch blending in the data preprocessor cannot mix '
                    'samples that lack a modality (metainfo modality_mask) '
                    'with samples that have it; remove the blending or the '
                    "dataset's missing_modality='allow'")

    def _mask_for(self, present: torch.Tensor,
                  modalities: Sequence[str]) -> torch.Tensor:
        """Columns of ``present`` (:attr:`modalities` order) reordered to
        ``modalities`` (a module's own order); unknown ones are False."""
        cols = [present[:, self.modalities.index(m)] if m in self.modalities
                else present.new_zeros(present.shape[0])
                for m in modalities]
        return torch.stack(cols, dim=1)

    def _neck_takes_present(self) -> bool:
        try:
            params = inspect.signature(self.neck.forward).parameters
        except (TypeError, ValueError):
            return False
        return 'present' in params and hasattr(self.neck, 'modalities')

    def _run_neck(self, feats: Dict[str, torch.Tensor],
                  data_samples: OptSampleList,
                  present: Optional[torch.Tensor]) -> Tuple:
        if present is None:
            return self.neck(feats, data_samples=data_samples)
        if not self._neck_takes_present():
            raise NotImplementedError(
                f'{type(self.neck).__name__} cannot take per-sample missing '
                f'modalities (some samples of the batch lack one of '
                f'{tuple(feats)}); use a neck whose forward takes `present` '
                "(ActionMAE), no neck, or a dataset without "
                "missing_modality='allow'")
        return self.neck(feats, data_samples=data_samples,
                         present=self._mask_for(present, self.neck.modalities))

    # ------------------------------------------------------------------
    def _gather_inputs(self, inputs: Union[Dict, torch.Tensor],
                       modalities: Sequence[str],
                       strict: bool,
                       available: Optional[torch.Tensor] = None
                       ) -> Dict[str, torch.Tensor]:
        """``{m: [B * num_clips, ...]}`` for the requested modalities.

        With ``strict``, an absent input key is an error unless
        ``available`` says that no sample has that modality."""
        if isinstance(inputs, torch.Tensor):
            if len(self.modalities) != 1:
                raise TypeError('a multi-modal recognizer needs a dict of '
                                'modality inputs, got a tensor')
            inputs = {self.input_key.format(self.modalities[0]): inputs}
        clips = dict()
        for m in modalities:
            key = self.input_key.format(m)
            if key not in inputs:
                nobody = available is not None and not bool(
                    available[:, self.modalities.index(m)].any())
                if strict and not nobody:
                    raise KeyError(f'input {key!r} of modality {m!r} is '
                                   f'missing; got {sorted(inputs)}')
                continue
            x = inputs[key]
            # [B, num_clips, ...] -> [B * num_clips, ...]
            clips[m] = x.flatten(0, 1)
        if not clips:
            raise ValueError(f'none of the modalities {tuple(modalities)} '
                             f'is in the inputs {sorted(inputs)}')
        return clips

    def extract_feat(self,
                     inputs: Union[Dict[str, torch.Tensor], torch.Tensor],
                     stage: str = 'neck',
                     data_samples: OptSampleList = None,
                     test_mode: bool = False) -> Tuple:
        """Encode the active modalities; optionally run neck and head.

        Per-sample missing modalities: when a data sample's metainfo
        ``modality_mask`` marks a modality absent (:meth:`sample_mask`),
        each encoder runs on the samples that have its modality only (its
        input -- a placeholder -- is never read for the others; a modality
        no sample has is not encoded). Then a neck whose ``forward`` takes
        ``present`` (ActionMAE) gets the ``[B, N]`` availability in its
        own modality order -- combined with the test modalities -- and
        fills every slot; without a neck the fusion head gets
        ``modality_mask`` ``[B, M]`` (its order) and applies its
        missing-modality policy per sample. Any other neck or head raises
        ``NotImplementedError``.

        Args:
            inputs (dict | Tensor): Modality clips ``[B, num_clips, ...]``.
            stage (str): ``'backbone'`` (token dict), ``'neck'`` or
                ``'head'`` (class scores). Defaults to ``'neck'``.
            data_samples (list, optional): Passed to the neck; their
                ``modality_mask`` metainfo is read.
            test_mode (bool): Inference; uses :attr:`test_modalities`.

        Returns:
            tuple: features and the kwargs for ``loss``/``predict``
            (``loss_aux`` in training, ``modality_mask`` for the head when
            some sample lacks a modality; at ``stage='backbone'`` the
            ``[B * num_clips, N]`` availability in :attr:`modalities`
            order).
        """
        inference = test_mode or not self.training
        modalities = self.test_modalities if inference else self.modalities
        available = None
        if data_samples:
            ref = next(iter(inputs.values()), None) if isinstance(
                inputs, dict) else inputs
            available = self.sample_mask(
                data_samples, getattr(ref, 'device', None))
        clips = self._gather_inputs(inputs, modalities, strict=not inference,
                                    available=available)
        if available is None:
            feats, present = self.backbone(clips), None
        else:
            if not inference:
                self._check_no_blending()
            feats, present = self._encode_available(clips, available,
                                                    data_samples)
        kwargs = dict()
        if stage == 'backbone':
            if present is not None:
                kwargs['modality_mask'] = present
            return feats, kwargs

        loss_aux = dict()
        if self.with_neck:
            feats, loss_aux = self._run_neck(feats, data_samples, present)
            present = None  # the neck filled every slot
        head_kwargs = dict()
        if present is not None and self.with_cls_head:
            if not isinstance(self.cls_head, BaseFusionHead):
                raise NotImplementedError(
                    f'{type(self.cls_head).__name__} has no per-sample '
                    'missing-modality policy (some samples of the batch '
                    f'lack one of {tuple(feats)}); use a fusion head '
                    '(SumFusionHead, ConcatFusionHead, TransformerFusionHead)')
            head_kwargs['modality_mask'] = self._mask_for(
                present, self.cls_head.modalities)
        if not inference:
            kwargs['loss_aux'] = loss_aux or dict()
        kwargs.update(head_kwargs)
        if stage == 'neck':
            return feats, kwargs
        if stage == 'head' and self.with_cls_head:
            return self.cls_head(feats, **head_kwargs), kwargs
        raise ValueError(f'unknown stage {stage!r}')

    def predict(self, inputs: Union[Dict[str, torch.Tensor], torch.Tensor],
                data_samples: SampleList, **kwargs) -> SampleList:
        """MMAction2's ``predict``, with the data samples passed on to
        :meth:`extract_feat` (their ``modality_mask``)."""
        feats, predict_kwargs = self.extract_feat(
            inputs, test_mode=True, data_samples=data_samples)
        return self.cls_head.predict(feats, data_samples, **predict_kwargs)

    def forward(self, inputs, data_samples: OptSampleList = None,
                mode: str = 'tensor', **kwargs):
        """MMAction2's ``forward``; ``'tensor'`` mode also reads the data
        samples' ``modality_mask`` when given."""
        if mode == 'tensor':
            return self._forward(inputs, data_samples=data_samples, **kwargs)
        return super().forward(inputs, data_samples, mode=mode, **kwargs)

    def _forward(self, inputs, stage: str = 'backbone',
                 data_samples: OptSampleList = None, **kwargs):
        feats, _ = self.extract_feat(inputs, stage=stage,
                                     data_samples=data_samples)
        return feats
