"""Run MMAction2's image transforms on each modality of a clip.

ActionMAE (seed 001, §2.2, §4.1): "random horizontal flip and shifted
center crop are performed on all modality inputs. RGB frames are applied
with color jittering" and "Color jitter on depth map rather harms the
consistency of 3D structural information" (Table 3). The spatial
augmentation is therefore the same kind for every modality, drawn once per
clip, and colour jitter is configured in the RGB sub-pipeline only.

MMAction2's transforms (``Resize``, ``CenterCrop``, ``RandomCrop``,
``Flip``, ``ColorJitter``, ``FormatShape``, ...) read ``results['imgs']``;
:class:`ModalityTransforms` presents ``results[f'{m}_imgs']`` as ``imgs``
to them, one modality at a time, and stores what they produce back under
that modality's keys.
"""
import random
import zlib
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from ..skeleton_layouts import flip_kp

#: Per-modality spatial state: read from / written to ``f'{m}_{key}'``.
STATE_KEYS = ('img_shape', 'original_shape', 'crop_bbox', 'crop_quadruple',
              'flip', 'flip_direction', 'input_shape', 'scale_factor',
              'keep_ratio', 'lazy', 'resize_size', 'short_edge', 'clip_len')
#: Keypoint keys: only the ``keypoint_modality`` sub-pipeline sees them.
KEYPOINT_KEYS = ('keypoint', 'keypoint_score')


def flip_layout_cfg(cfg: Dict) -> Dict:
    """``dict(type='Flip', layout=NAME, ...)`` -> the same ``Flip`` config
    with ``left_kp`` / ``right_kp`` of skeleton layout ``NAME``
    (:func:`~mmar_ext.datasets.skeleton_layouts.flip_kp`); any other config
    is returned unchanged. ``layout`` and ``left_kp`` / ``right_kp`` are
    alternatives: giving both is an error."""
    if 'layout' not in cfg or cfg.get('type') not in ('Flip',
                                                      'mmaction.Flip'):
        return cfg
    cfg = dict(cfg)
    layout = cfg.pop('layout')
    both = [k for k in ('left_kp', 'right_kp') if k in cfg]
    if both:
        raise ValueError(f'Flip: give either layout={layout!r} or '
                         f'left_kp/right_kp, not both (got {both} too)')
    cfg.update(flip_kp(layout))
    return cfg


def _build(cfgs) -> List:
    return [TRANSFORMS.build(flip_layout_cfg(c)) if isinstance(c, dict)
            else c for c in cfgs]


@TRANSFORMS.register_module()
class ModalityTransforms(BaseTransform):
    """Apply an MMAction2 sub-pipeline to the frames of each modality.

    For each modality ``m`` the sub-pipeline sees a view of ``results`` in
    which ``imgs`` is ``results[f'{m}_imgs']``, every key of
    :data:`STATE_KEYS` (``img_shape``, ``crop_bbox``, ``flip``,
    ``input_shape``, ``clip_len``, ...) is the modality's own copy
    ``results[f'{m}_<key>']`` (absent -> absent, ``clip_len`` falls back to
    the shared one), and no other modality's frames. Afterwards ``imgs``
    goes back to ``<m>_imgs`` and every state key or new/changed key ``k``
    to ``f'{m}_{k}'``, so nothing leaks between modalities and the shared
    keys stay untouched.

    Random state: with ``share_random_state=True`` one seed is drawn per
    call (per clip) and, before each transform, numpy's and python's global
    generators are seeded from ``(seed, transform type, occurrence of that
    type in the sub-pipeline)``. Hence ``Flip`` decides the same for every
    modality and ``RandomCrop`` draws the same offsets for inputs of the
    same size, even when one modality has extra transforms (``ColorJitter``
    for RGB); the global generators are restored afterwards. MMAction2's
    transforms draw once per call, i.e. once for all frames of a clip.

    Keypoints: with ``keypoint_modality='rgb'`` the keys ``keypoint`` /
    ``keypoint_score`` (in RGB pixel coordinates) go through the RGB
    sub-pipeline, so MMAction2's crop/resize/flip move them with the frames
    (use ``Flip(left_kp=..., right_kp=...)`` to swap sides, or
    ``dict(type='Flip', layout='ntu25')`` for a registered skeleton
    layout's pairs, see :func:`flip_layout_cfg`); the resulting
    ``img_shape`` is also written to the shared ``img_shape`` (the frame of
    the keypoints). Other sub-pipelines never see keypoints.

    Args:
        modalities (Sequence[str], optional): Modalities to process; each
            must have ``<m>_imgs`` unless ``results['modality_mask']`` marks
            it absent for the sample (then it is left out). None = every
            modality of ``results['modalities']`` that has ``<m>_imgs``.
        transforms (list[dict] | dict[str, list[dict]]): One sub-pipeline
            for all modalities, or one per modality. A ``Flip`` may name a
            skeleton ``layout`` instead of ``left_kp`` / ``right_kp``.
        share_random_state (bool): Same random draws for all modalities of
            a clip. Defaults to True.
        keypoint_modality (str, optional): The modality whose pixel space
            the 2D keypoints live in. Defaults to None.
        keypoint_key (str): The keypoints moved with that modality's frames:
            ``results[keypoint_key]`` and ``results[keypoint_key +
            '_score']`` enter the sub-pipeline as ``keypoint`` /
            ``keypoint_score`` (what MMAction2's transforms move) and come
            back under their own names, e.g. ``'keypoint_ntu25'`` (all 25
            NTU joints in 2D). Defaults to ``'keypoint'``.
    """

    def __init__(self,
                 modalities: Optional[Sequence[str]] = None,
                 transforms: Union[List, Dict[str, List]] = (),
                 share_random_state: bool = True,
                 keypoint_modality: Optional[str] = None,
                 keypoint_key: str = 'keypoint') -> None:
        self.modalities = None if modalities is None else tuple(modalities)
        if isinstance(transforms, dict):
            self.per_modality = {m: _build(t) for m, t in transforms.items()}
            self.shared = None
        else:
            self.per_modality = {}
            self.shared = _build(transforms)
        if self.modalities is not None and self.shared is None:
            missing = set(self.modalities) - set(self.per_modality)
            if missing:
                raise ValueError(f'no sub-pipeline for modalities {missing}')
        self.share_random_state = share_random_state
        self.keypoint_modality = keypoint_modality
        # sub-pipeline key -> results key
        self.keypoint_keys = dict(zip(
            KEYPOINT_KEYS, (keypoint_key, f'{keypoint_key}_score')))

    def _pipeline(self, m: str) -> List:
        return self.shared if self.shared is not None else \
            self.per_modality[m]

    def _targets(self, results: Dict) -> List[str]:
        mask = results.get('modality_mask') or {}
        if self.modalities is not None:
            # a modality absent from this sample (missing_modality='allow')
            # has no frames to transform
            targets = [m for m in self.modalities if mask.get(m, True)]
            for m in targets:
                if f'{m}_imgs' not in results:
                    raise KeyError(
                        f"Sample {results.get('frame_dir')}: "
                        f'ModalityTransforms expects {m}_imgs (modality {m} '
                        'not decoded; '
                        f"loaded: {results.get('modalities')})")
            return targets
        names = [m for m in results.get('modalities', [])
                 if f'{m}_imgs' in results]
        if self.shared is None:
            names = [m for m in names if m in self.per_modality]
        return names

    @staticmethod
    def _seed_for(seed: int, name: str, occurrence: int) -> int:
        ss = np.random.SeedSequence([seed, zlib.crc32(name.encode()),
                                     occurrence])
        return int(ss.generate_state(1)[0])

    def _run(self, m: str, results: Dict, seed: Optional[int]) -> Optional[
            Dict]:
        sub = {
            k: v
            for k, v in results.items()
            if k not in STATE_KEYS and k not in KEYPOINT_KEYS
            and k not in self.keypoint_keys.values()
            and k != 'imgs' and not k.endswith('_imgs')
        }
        for k in STATE_KEYS:
            if f'{m}_{k}' in results:
                sub[k] = results[f'{m}_{k}']
        if 'clip_len' not in sub and 'clip_len' in results:
            sub['clip_len'] = results['clip_len']
        if m == self.keypoint_modality:
            for k, key in self.keypoint_keys.items():
                if key in results:
                    sub[k] = results[key]
        sub['imgs'] = results[f'{m}_imgs']
        if 'img_shape' not in sub:
            sub['img_shape'] = tuple(np.asarray(sub['imgs'][0]).shape[:2])
        sub.setdefault('modality', 'RGB')
        before = dict(sub)

        counts: Dict[str, int] = {}
        for t in self._pipeline(m):
            if seed is not None:
                name = type(t).__name__
                counts[name] = counts.get(name, 0) + 1
                s = self._seed_for(seed, name, counts[name])
                np.random.seed(s)
                random.seed(s)
            sub = t(sub)
            if sub is None:
                return None

        for k, v in sub.items():
            if k == 'imgs':
                results[f'{m}_imgs'] = v
            elif k in KEYPOINT_KEYS and m == self.keypoint_modality:
                results[self.keypoint_keys[k]] = v
            elif k in STATE_KEYS or k not in before or v is not before[k]:
                results[f'{m}_{k}'] = v
        for k in STATE_KEYS:  # removed by a transform (e.g. Fuse drops lazy)
            if k in before and k not in sub:
                results.pop(f'{m}_{k}', None)
        if m == self.keypoint_modality and 'img_shape' in sub:
            results['img_shape'] = sub['img_shape']
        return results

    def transform(self, results: Dict) -> Optional[Dict]:
        targets = self._targets(results)
        if not self.share_random_state:
            for m in targets:
                if self._run(m, results, None) is None:
                    return None
            return results
        seed = int(np.random.randint(0, 2**31 - 1))
        np_state, py_state = np.random.get_state(), random.getstate()
        try:
            for m in targets:
                if self._run(m, results, seed) is None:
                    return None
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)
        return results

    def __repr__(self) -> str:
        pipes = self.shared if self.shared is not None else self.per_modality
        return (f'{self.__class__.__name__}(modalities={self.modalities}, '
                f'transforms={pipes}, '
                f'share_random_state={self.share_random_state}, '
                f'keypoint_modality={self.keypoint_modality!r})')
