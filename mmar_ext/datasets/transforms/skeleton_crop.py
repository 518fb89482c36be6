"""One skeleton box per clip, cropping RGB frames and keypoints alike.

EPAM-Net (seed 002, §3.3 and §4.2): "video frames are cropped according to
the minimum bounding box involving all 2D human skeletons across the video
frames, and then the skeleton pseudo-heatmap volume is generated
accordingly" -- the RGB frames are resized to 224x224 and the heatmaps to
56x56, so both cover the same region and the final feature maps of the two
streams correspond spatially.

MMAction2's ``MMCompact`` computes such a box (the tight box of all joints,
enlarged by ``padding``, widened to ``hw_ratio``) but does not fit it here:
it takes a joint as valid when its coordinate is non-zero (NTU keeps the
reported position of untracked joints, with score 0), zeroes NaN keypoints
in place, lets the box leave the image (``allow_imgpad=True``) or clips it
and loses the aspect ratio (``False``), crops ``imgs`` only, and falls back
to the whole frame silently. :class:`SkeletonBoxCrop` keeps its box
arithmetic and changes those points.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.datasets.transforms.processing import _combine_quadruple
from mmaction.registry import TRANSFORMS
from .heatmap import read_keypoints, sample_name, warn_sample

BOUNDS = ('shift', 'clip', 'pad')


def skeleton_box(kps: np.ndarray,
                 valid: np.ndarray,
                 img_hw: Tuple[int, int],
                 padding: float = 0.25,
                 hw_ratio: Optional[Tuple[float, float]] = (1., 1.),
                 bound: str = 'shift') -> Optional[Tuple[int, int, int, int]]:
    """The integer box ``(x1, y1, x2, y2)`` around the valid keypoints.

    ``kps [..., 2]`` and ``valid [...]`` cover every person and frame. The
    tight box of the valid joints is clipped to the image, enlarged about
    its centre by ``1 + padding`` and then, as ``MMCompact``, made at least
    ``hw_ratio[0]`` tall per unit width and ``1 / hw_ratio[1]`` wide per
    unit height. ``bound`` fits it to the image: ``'shift'`` moves it inside
    (keeping its size and aspect ratio when it fits, clipping otherwise),
    ``'clip'`` intersects it with the image, ``'pad'`` leaves it (the
    outside is zero-padded when cropping). Returns None without valid
    joints.
    """
    h, w = img_hw
    pts = kps[valid]
    if not len(pts):
        return None
    min_x, min_y = np.clip(pts.min(0), 0, (w, h))
    max_x, max_y = np.clip(pts.max(0), 0, (w, h))
    cx, cy = (min_x + max_x) / 2, (min_y + max_y) / 2
    half_w = (max_x - min_x) / 2 * (1 + padding)
    half_h = (max_y - min_y) / 2 * (1 + padding)
    if hw_ratio is not None:
        half_h = max(hw_ratio[0] * half_w, half_h)
        half_w = max(1 / hw_ratio[1] * half_h, half_w)
    x1, x2 = int(np.floor(cx - half_w)), int(np.ceil(cx + half_w))
    y1, y2 = int(np.floor(cy - half_h)), int(np.ceil(cy + half_h))
    if bound == 'shift':
        x1, x2 = _shift_inside(x1, x2, w)
        y1, y2 = _shift_inside(y1, y2, h)
    elif bound == 'clip':
        x1, x2 = max(x1, 0), min(x2, w)
        y1, y2 = max(y1, 0), min(y2, h)
    return x1, y1, x2, y2


def _shift_inside(lo: int, hi: int, size: int) -> Tuple[int, int]:
    if hi - lo >= size:
        return 0, size
    if lo < 0:
        return 0, hi - lo
    if hi > size:
        return size - (hi - lo), size
    return lo, hi


def crop_frames(imgs, box: Tuple[int, int, int, int]):
    """Crop ``[H, W(, C)]`` frames to ``box``, zero-padding outside."""
    x1, y1, x2, y2 = box
    out = []
    for img in imgs:
        h, w = img.shape[:2]
        if x1 >= 0 and y1 >= 0 and x2 <= w and y2 <= h:
            out.append(img[y1:y2, x1:x2])
            continue
        canvas = np.zeros((y2 - y1, x2 - x1) + img.shape[2:], img.dtype)
        sx1, sy1 = max(x1, 0), max(y1, 0)
        sx2, sy2 = min(x2, w), min(y2, h)
        if sx2 > sx1 and sy2 > sy1:
            canvas[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = \
                img[sy1:sy2, sx1:sx2]
        out.append(canvas)
    return out


@TRANSFORMS.register_module()
class SkeletonBoxCrop(BaseTransform):
    """Crop a clip to the box enclosing all persons' joints over the clip.

    EPAM-Net §3.3 / §4.2. The box (:func:`skeleton_box`) encloses every
    valid joint (score ``> score_thr``; NaN joints are missing) of every
    person in every frame of ``keypoint`` -- with ``MultiModalSampleFrames(
    modality_clip_len=dict(pose=48, rgb=16))`` these are the 48 pose frames,
    and the 16 RGB frames (``rgb_inds``, every 3rd) are cut with the same
    box (with ``num_clips > 1`` one box encloses all clips). It is applied to ``<m>_imgs`` of each modality in ``modalities``
    (or to ``imgs`` in a single-modality pipeline) and to the keypoints
    (``keypoint - (x1, y1)``), and ``img_shape`` / ``<m>_img_shape`` become
    the box size. Resize the RGB frames afterwards with
    ``ModalityTransforms(keypoint_modality='rgb')`` (``Resize`` to 224x224,
    ``Flip(left_kp=..., right_kp=...)`` -- or ``Flip(layout='coco17')`` --
    for the shared horizontal flip with left/right joints swapped) and
    render the heatmaps with
    ``PoseHeatmapVolume(scaling=0.25)``: 56x56 maps of the same region.

    No valid joint (no person, all scores 0, keypoints absent), or a box
    under ``threshold`` pixels, or all joints outside the image: the box is
    the whole frame and a warning names the sample
    (``skeleton_box_fallback=True``).

    Required keys: ``img_shape`` (the keypoints' pixel space, i.e. RGB's);
    ``keypoint`` / ``keypoint_score`` (optional, see above).
    Modified keys: ``<m>_imgs`` (or ``imgs``), ``img_shape``,
    ``<m>_img_shape``, ``keypoint``. Added keys: ``skeleton_box``
    (int64 ``[x1, y1, x2, y2]`` in the input pixels),
    ``skeleton_box_fallback``, ``<m>_crop_bbox``, ``<m>_crop_quadruple``
    (``crop_bbox`` / ``crop_quadruple`` for ``imgs``).

    Args:
        padding (float): Relative enlargement of the tight box (0.25:
            1.25x its width and height). Defaults to 0.25.
        hw_ratio (float | tuple[float], optional): Target height/width
            ratio (or range), as in ``MMCompact``; None keeps the box's.
            Defaults to 1 (square: 224x224 without distortion).
        threshold (int): Minimal tight-box width and height in pixels.
            Defaults to 10.
        score_thr (float): Joints with score ``<= score_thr`` are missing.
            Defaults to 0.
        bound (str): ``'shift'``, ``'clip'`` or ``'pad'`` (see
            :func:`skeleton_box`). Defaults to ``'shift'``.
        modalities (Sequence[str]): Modalities whose frames share the
            keypoints' pixel space. Defaults to ``('rgb',)``.
    """

    def __init__(
        self,
        padding: float = 0.25,
        hw_ratio: Optional[Union[float, Tuple[float, float]]] = 1.,
        threshold: int = 10,
        score_thr: float = 0.,
        bound: str = 'shift',
        modalities: Sequence[str] = ('rgb', )) -> None:
        if padding < 0:
            raise ValueError(f'padding must be >= 0, got {padding}')
        if bound not in BOUNDS:
            raise ValueError(f'bound must be one of {BOUNDS}, got {bound!r}')
        if hw_ratio is not None and not isinstance(hw_ratio, (tuple, list)):
            hw_ratio = (hw_ratio, hw_ratio)
        self.padding = padding
        self.hw_ratio = None if hw_ratio is None else tuple(hw_ratio)
        self.threshold = threshold
        self.score_thr = score_thr
        self.bound = bound
        self.modalities = tuple(modalities)

    def _box(self, results: Dict, img_hw: Tuple[int, int]):
        got = read_keypoints(results, caller=type(self).__name__)
        whole = (0, 0, img_hw[1], img_hw[0])
        if got is None:
            return whole, 'has no keypoint'
        kps, scores = got
        valid = scores > self.score_thr
        if not valid.any():
            return whole, (f'has no valid joint ({kps.shape[0]} person(s), '
                           f'all scores <= {self.score_thr})')
        inside = valid & (kps[..., 0] >= 0) & (kps[..., 0] <= img_hw[1]) & \
            (kps[..., 1] >= 0) & (kps[..., 1] <= img_hw[0])
        if not inside.any():
            return whole, 'has all its joints outside the image'
        pts = np.clip(kps[valid], 0, (img_hw[1], img_hw[0]))
        span = pts.max(0) - pts.min(0)
        if (span < self.threshold).any():
            return whole, (f'has a skeleton box of {span[0]:.1f}x'
                           f'{span[1]:.1f} px, under threshold='
                           f'{self.threshold}')
        return skeleton_box(kps, valid, img_hw, self.padding, self.hw_ratio,
                            self.bound), None

    def transform(self, results: Dict) -> Dict:
        img_hw = tuple(int(v) for v in results['img_shape'])
        box, problem = self._box(results, img_hw)
        if problem is not None:
            warn_sample(
                results, f'{type(self).__name__}: the clip {problem}; '
                f'using the whole {img_hw[0]}x{img_hw[1]} frame')
        x1, y1, x2, y2 = box
        new_hw = (y2 - y1, x2 - x1)
        keys = [m for m in self.modalities if f'{m}_imgs' in results]
        prefixes = [f'{m}_' for m in keys]
        if not keys and 'imgs' in results:
            prefixes = ['']
        for pre in prefixes:
            shape = results.get(f'{pre}img_shape',
                                results[f'{pre}imgs'][0].shape[:2])
            if tuple(shape) != img_hw:
                raise ValueError(
                    f'Sample {sample_name(results)}: '
                    f'{type(self).__name__}: {pre}imgs are {tuple(shape)} '
                    f'but the keypoints live in img_shape={img_hw}; only '
                    'modalities in the keypoints\' pixel space can be '
                    'cropped with the skeleton box')
            results[f'{pre}imgs'] = crop_frames(results[f'{pre}imgs'], box)
            results[f'{pre}img_shape'] = new_hw
            results[f'{pre}crop_bbox'] = np.array(box, np.int64)
            quad = (x1 / img_hw[1], y1 / img_hw[0], new_hw[1] / img_hw[1],
                    new_hw[0] / img_hw[0])
            results[f'{pre}crop_quadruple'] = np.array(
                _combine_quadruple(
                    results.get(f'{pre}crop_quadruple', (0., 0., 1., 1.)),
                    quad), np.float32)
        if np.size(results.get('keypoint', ())):
            kp = np.array(results['keypoint'], np.float32)
            kp[..., 0] -= x1
            kp[..., 1] -= y1
            results['keypoint'] = kp
        results['img_shape'] = new_hw
        results['skeleton_box'] = np.array(box, np.int64)
        results['skeleton_box_fallback'] = problem is not None
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(padding={self.padding}, '
                f'hw_ratio={self.hw_ratio}, threshold={self.threshold}, '
                f'score_thr={self.score_thr}, bound={self.bound!r}, '
                f'modalities={self.modalities})')
