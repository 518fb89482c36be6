"""Multi-modal (RGB, depth, IR, skeleton) action recognition dataset.

Reads the annotation pkl of docs/data_format.md: MMAction2's ``PoseDataset``
layout (``{'split': {name: [frame_dir, ...]}, 'annotations': [...],
'meta': {...}}``) extended with per-sample ``rgb_path`` / ``depth_path`` /
``ir_path`` (relative to the raw dataset root), ``num_frames`` and
``modality_shapes``. One sample is one recording of all modalities on the
shared clock ``total_frames`` (NTU RGB+D, seed 001 §4.2).
"""
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

import mmengine
import numpy as np
from mmengine.logging import print_log

from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS

from .sample_seeding import SampleSeedingMixin

ALL_MODALITIES = ('rgb', 'depth', 'ir', 'pose')
PATH_MODALITIES = ('rgb', 'depth', 'ir')


def modality_key(modality: str) -> str:
    """Annotation key whose presence means ``modality`` is available."""
    return 'keypoint' if modality == 'pose' else f'{modality}_path'


@DATASETS.register_module()
class MultiModalActionDataset(SampleSeedingMixin, BaseActionDataset):
    """Dataset of synchronised RGB / depth / IR / skeleton recordings.

    In training, :class:`mmar_ext.engine.RandomStatesHook` seeds each
    sample's pipeline from ``(seed, epoch, index)``
    (:class:`SampleSeedingMixin`), so augmentations do not depend on the
    dataloader workers and a resumed run reproduces the uninterrupted one.

    Each data info carries ``frame_dir``, ``label``, ``total_frames``,
    ``modalities`` (the requested ones), absolute ``<m>_path`` for every
    path in the annotation, ``num_frames`` (dict; a modality without an
    entry gets ``total_frames``), ``img_shape`` / ``original_shape`` (RGB),
    ``modality_shapes`` and, when present, ``keypoint``, ``keypoint_score``,
    ``keypoint_3d`` (plus any other annotation field).

    Args:
        ann_file (str): The annotation pkl. A relative path is taken as
            given when it exists, otherwise joined to ``data_root``
            (MMEngine's convention).
        pipeline (list): Data transforms.
        split (str, optional): Split name in ``ann['split']`` (e.g.
            ``'xsub_train'``); None = all annotations.
        modalities (Sequence[str]): Subset of ``('rgb', 'depth', 'ir',
            'pose')``. Defaults to ``('rgb', 'depth')``.
        data_root (str, optional): Raw dataset root that relative ``*_path``
            entries are joined to. None = ``meta['raw_root']`` of the pkl.
        num_classes (int, optional): Labels must lie in
            ``[0, num_classes)``, else ``ValueError`` naming the sample and
            the annotation file.
        missing_modality (str): What to do with a sample whose annotation
            lacks a requested modality (no ``<m>_path``, or no ``keypoint``
            for pose): ``'error'`` raises ``KeyError`` naming sample,
            modality and file; ``'skip'`` drops it and reports the count
            once through MMEngine's logger. Defaults to ``'error'``.
        **kwargs: Passed to :class:`BaseActionDataset` / MMEngine's
            ``BaseDataset`` (``test_mode``, ``lazy_init``, ``indices``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[Dict, Callable]],
                 split: Optional[str] = None,
                 modalities: Sequence[str] = ('rgb', 'depth'),
                 data_root: Optional[str] = None,
                 num_classes: Optional[int] = None,
                 missing_modality: str = 'error',
                 **kwargs) -> None:
        modalities = tuple(modalities)
        unknown = [m for m in modalities if m not in ALL_MODALITIES]
        if unknown or not modalities or len(set(modalities)) != len(
                modalities):
            raise ValueError(f'modalities must be distinct names from '
                             f'{ALL_MODALITIES}, got {modalities}')
        if missing_modality not in ('error', 'skip'):
            raise ValueError("missing_modality must be 'error' or 'skip', "
                             f'got {missing_modality!r}')
        self.split = split
        self.modalities = modalities
        self.missing_modality = missing_modality
        self.num_skipped = 0
        # ``modality`` is MMAction2's single-modality tag; its image
        # transforms (Flip, FormatShape) only special-case 'Flow', so the
        # frames of every modality are handled as images.
        super().__init__(
            ann_file,
            pipeline=pipeline,
            data_root=data_root,
            num_classes=num_classes,
            modality='RGB',
            **kwargs)

    def _join_prefix(self) -> None:
        """Keep a relative ``ann_file`` that exists as given (else MMEngine
        joins it to ``data_root``)."""
        given = self.ann_file
        super()._join_prefix()
        if given and not osp.isabs(given) and osp.isfile(given):
            self.ann_file = given

    def _raw_root(self, meta: Dict) -> Optional[str]:
        root = self.data_root or meta.get('raw_root')
        return osp.abspath(root) if root else None

    def load_data_list(self) -> List[Dict]:
        """Load, filter and check the annotations of ``split``."""
        ann_file = self.ann_file
        if not osp.isfile(ann_file):
            raise FileNotFoundError(f'annotation file not found: {ann_file}')
        data = mmengine.load(ann_file)
        if not isinstance(data, dict) or 'annotations' not in data:
            raise ValueError(f'{ann_file}: expected a dict with '
                             "'annotations' (docs/data_format.md)")
        annos = data['annotations']
        if self.split is not None:
            splits = data.get('split', {})
            if self.split not in splits:
                raise KeyError(f'{ann_file}: split {self.split!r} not found; '
                               f'available: {sorted(splits)}')
            names = set(splits[self.split])
            annos = [a for a in annos if a['frame_dir'] in names]
        raw_root = self._raw_root(data.get('meta', {}) or {})

        data_list, skipped = [], {}
        for ann in annos:
            name = ann.get('frame_dir', '<no frame_dir>')
            lacking = [m for m in self.modalities
                       if ann.get(modality_key(m)) is None]
            if lacking:
                if self.missing_modality == 'error':
                    keys = ', '.join(modality_key(m) for m in lacking)
                    raise KeyError(
                        f'Sample {name} in {ann_file} lacks requested '
                        f'modality {", ".join(lacking)} (no {keys}); set '
                        "missing_modality='skip' to drop such samples")
                for m in lacking:
                    skipped.setdefault(m, []).append(name)
                self.num_skipped += 1
                continue
            data_list.append(self._make_info(ann, raw_root, ann_file))

        if self.num_skipped:
            detail = '; '.join(
                f'{m}: {len(v)} (e.g. {", ".join(v[:3])})'
                for m, v in skipped.items())
            print_log(
                f'{type(self).__name__}: skipped {self.num_skipped} of '
                f'{len(annos)} samples of {ann_file} (split={self.split}) '
                f'lacking a requested modality - {detail}',
                logger='current')
        return data_list

    def _make_info(self, ann: Dict, raw_root: Optional[str],
                   ann_file: str) -> Dict:
        name = ann['frame_dir']
        label = ann['label']
        if self.num_classes is not None and not self.multi_class and not (
                0 <= int(label) < self.num_classes):
            raise ValueError(
                f'Sample {name} in {ann_file}: label {label} outside '
                f'[0, {self.num_classes})')
        total = int(ann['total_frames'])
        if total < 1:
            raise ValueError(
                f'Sample {name} in {ann_file}: total_frames={total}')
        info = dict(ann)
        info['label'] = int(label) if not self.multi_class else label
        info['total_frames'] = total
        info['modalities'] = list(self.modalities)
        for m in PATH_MODALITIES:
            path = ann.get(f'{m}_path')
            if path is None:
                continue
            if not osp.isabs(path):
                if raw_root is None:
                    raise ValueError(
                        f'Sample {name} in {ann_file}: relative {m}_path '
                        f'{path!r} but neither data_root nor '
                        "meta['raw_root'] is set")
                path = osp.join(raw_root, path)
            info[f'{m}_path'] = path
        num_frames = {m: total for m in PATH_MODALITIES}
        num_frames.update(ann.get('num_frames') or {})
        info['num_frames'] = {m: int(n) for m, n in num_frames.items()}
        if 'keypoint' in ann:
            info['num_frames']['pose'] = int(np.shape(ann['keypoint'])[1])
        if 'img_shape' in ann:
            info['img_shape'] = tuple(ann['img_shape'])
            info.setdefault('original_shape', info['img_shape'])
        info['modality_shapes'] = {
            m: tuple(s) for m, s in (ann.get('modality_shapes') or {}).items()
        }
        return info
