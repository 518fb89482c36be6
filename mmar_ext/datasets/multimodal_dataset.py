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

#: ``pose``: 2D joints in the frames (``keypoint``); ``skeleton``: 3D
#: joints (``keypoint_3d``), e.g. the input of a GCN (GCNSkeletonInput)
ALL_MODALITIES = ('rgb', 'depth', 'ir', 'pose', 'skeleton')
JOINT_KEYS = dict(pose='keypoint', skeleton='keypoint_3d')
PATH_MODALITIES = ('rgb', 'depth', 'ir')


def modality_key(modality: str) -> str:
    """Annotation key whose presence means ``modality`` is available."""
    return JOINT_KEYS.get(modality, f'{modality}_path')


@DATASETS.register_module()
class MultiModalActionDataset(SampleSeedingMixin, BaseActionDataset):
    """Dataset of synchronised RGB / depth / IR / skeleton recordings.

    In training, :class:`mmar_ext.engine.RandomStatesHook` seeds each
    sample's pipeline from ``(seed, epoch, index)``
    (:class:`SampleSeedingMixin`), so augmentations do not depend on the
    dataloader workers and a resumed run reproduces the uninterrupted one.

    Each data info carries ``frame_dir``, ``label``, ``total_frames``,
    ``modalities`` (the requested ones; with ``missing_modality='allow'``
    the requested ones this sample has), absolute ``<m>_path`` for every
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
            'pose', 'skeleton')``. Defaults to ``('rgb', 'depth')``.
        data_root (str, optional): Raw dataset root that relative ``*_path``
            entries are joined to. None = ``meta['raw_root']`` of the pkl.
        num_classes (int, optional): Labels must lie in
            ``[0, num_classes)``, else ``ValueError`` naming the sample and
            the annotation file.
        missing_modality (str | dict): What to do with a sample whose
            annotation lacks a requested modality (no ``<m>_path``, or no
            ``keypoint`` for pose, no ``keypoint_3d`` for skeleton): ``'error'`` raises ``KeyError`` naming
            sample, modality and file; ``'skip'`` drops it and reports the
            count once through MMEngine's logger; ``'allow'`` keeps it with
            that modality marked absent (see below). A dict
            ``{modality: policy}`` sets it per modality (unlisted ones:
            ``'error'``), e.g. ``dict(rgb='error', depth='allow')``; a
            sample lacking several modalities gets the strictest policy
            (error > skip > allow). Defaults to ``'error'``.

    ``missing_modality='allow'`` (per-sample missing modalities, paper 001
    §3, for ``rgb`` / ``depth`` / ``ir``): a modality counts as absent for
    a sample when its ``<m>_path`` entry is missing *or* the file (video) /
    folder (depth) it names does not exist (checked at load for local
    paths; URIs are taken as present). Every info then carries
    ``modality_mask`` -- ``{m: bool}`` over the requested modalities, in
    their order, True = available -- and ``modalities`` lists the available
    ones only, so the decoders and transforms skip the absent ones;
    :class:`PackMultiModalInputs` packs a placeholder for them and puts the
    mask in the data sample's metainfo, and ``MultiModalRecognizer`` never
    feeds the placeholder to a model (docs/data_format.md). The counts per
    modality are logged once through MMEngine's logger and kept in
    :attr:`num_missing` (``{m: samples lacking m}`` over the requested
    modalities). A sample with none of the requested modalities is an
    error naming it. ``'allow'`` is not offered for ``pose``: the
    skeleton transforms need the keypoints.
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
                 missing_modality: Union[str, Dict[str, str]] = 'error',
                 **kwargs) -> None:
        modalities = tuple(modalities)
        unknown = [m for m in modalities if m not in ALL_MODALITIES]
        if unknown or not modalities or len(set(modalities)) != len(
                modalities):
            raise ValueError(f'modalities must be distinct names from '
                             f'{ALL_MODALITIES}, got {modalities}')
        self.split = split
        self.modalities = modalities
        self.missing_modality = missing_modality
        self._policy = self._parse_policy(missing_modality, modalities)
        self.num_skipped = 0
        #: ``{modality: number of kept samples lacking it}`` (``'allow'``)
        self.num_missing: Dict[str, int] = {}
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

    @staticmethod
    def _parse_policy(policy, modalities: Sequence[str]) -> Dict[str, str]:
        """``{modality: 'error' | 'skip' | 'allow'}`` of ``missing_modality``.
        """
        allowed = ('error', 'skip', 'allow')
        if isinstance(policy, str):
            per = {m: policy for m in modalities}
        elif isinstance(policy, dict):
            unknown = [m for m in policy if m not in modalities]
            if unknown:
                raise ValueError(
                    f'missing_modality: {unknown} are not among the '
                    f'requested modalities {tuple(modalities)}')
            per = {m: policy.get(m, 'error') for m in modalities}
        else:
            raise ValueError("missing_modality must be 'error', 'skip', "
                             "'allow' or a {modality: policy} dict, got "
                             f'{policy!r}')
        bad = {m: p for m, p in per.items() if p not in allowed}
        if bad:
            raise ValueError(f'missing_modality must be one of {allowed} '
                             f'(per modality), got {bad}')
        for m in JOINT_KEYS:
            if per.get(m) == 'allow':
                raise ValueError(
                    f"missing_modality='allow' is not supported for {m} (the "
                    "skeleton transforms need the joints); use 'skip' or "
                    "'error' for it, e.g. missing_modality=dict(rgb='allow', "
                    f"{m}='skip')")
        return per

    @property
    def allows_missing(self) -> bool:
        """Whether some modality may be absent from a kept sample."""
        return 'allow' in self._policy.values()

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
        missing: Dict[str, List[str]] = {}
        not_on_disk: Dict[str, int] = {}
        for ann in annos:
            name = ann.get('frame_dir', '<no frame_dir>')
            lacking = [m for m in self.modalities
                       if ann.get(modality_key(m)) is None]
            policies = {self._policy[m] for m in lacking}
            if 'error' in policies:
                lacking = [m for m in lacking if self._policy[m] == 'error']
                keys = ', '.join(modality_key(m) for m in lacking)
                raise KeyError(
                    f'Sample {name} in {ann_file} lacks requested '
                    f'modality {", ".join(lacking)} (no {keys}); set '
                    "missing_modality='skip' to drop such samples or "
                    "'allow' to keep them with the modality marked absent")
            if 'skip' in policies:
                for m in lacking:
                    skipped.setdefault(m, []).append(name)
                self.num_skipped += 1
                continue
            info = self._make_info(ann, raw_root, ann_file)
            if self.allows_missing:
                self._mark_available(info, lacking, ann_file, not_on_disk)
                for m, ok in info['modality_mask'].items():
                    if not ok:
                        missing.setdefault(m, []).append(name)
            data_list.append(info)

        if self.num_skipped:
            detail = '; '.join(
                f'{m}: {len(v)} (e.g. {", ".join(v[:3])})'
                for m, v in skipped.items())
            print_log(
                f'{type(self).__name__}: skipped {self.num_skipped} of '
                f'{len(annos)} samples of {ann_file} (split={self.split}) '
                f'lacking a requested modality - {detail}',
                logger='current')
        if self.allows_missing:
            self.num_missing = {m: len(missing.get(m, ()))
                                for m in self.modalities}
            if missing:
                detail = '; '.join(
                    f'{m}: {len(v)}'
                    + (f' ({not_on_disk[m]} with a path but no file)'
                       if not_on_disk.get(m) else '')
                    + f' (e.g. {", ".join(v[:3])})'
                    for m, v in missing.items())
                incomplete = sum(not all(i['modality_mask'].values())
                                 for i in data_list)
                print_log(
                    f'{type(self).__name__}: {incomplete} of '
                    f'{len(data_list)} samples of {ann_file} (split='
                    f'{self.split}) lack a modality and are kept with a '
                    f"modality mask (missing_modality='allow') - samples "
                    f'lacking each modality: {detail}',
                    logger='current')
        return data_list

    def _mark_available(self, info: Dict, lacking: List[str], ann_file: str,
                        not_on_disk: Dict[str, int]) -> None:
        """Set ``modality_mask`` / ``modalities`` of an ``'allow'`` info:
        a modality without an annotation entry, or whose local file /
        folder does not exist, is absent."""
        name = info['frame_dir']
        mask = {}
        for m in self.modalities:
            ok = m not in lacking
            if ok and m in PATH_MODALITIES and self._policy[m] == 'allow':
                path = info[f'{m}_path']
                if '://' not in path and not osp.exists(path):
                    ok = False
                    not_on_disk[m] = not_on_disk.get(m, 0) + 1
                    info.pop(f'{m}_path')
            mask[m] = ok
        if not any(mask.values()):
            raise ValueError(
                f'Sample {name} in {ann_file} has none of the requested '
                f'modalities {self.modalities} (missing_modality='
                f"{self.missing_modality!r}); a sample needs at least one - "
                "drop such samples with 'skip' for one of them")
        info['modality_mask'] = mask
        info['modalities'] = [m for m in self.modalities if mask[m]]

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
