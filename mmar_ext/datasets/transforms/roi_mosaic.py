"""Skeleton-cropped ROI mosaics: TSMF's fused-representation input.

TSMF (seed 003, "Fused Representation", eqs. (5)-(6), Fig. 2): the region
around joint ``j`` of frame ``t`` is cropped, ``X^_tj = g(X_t, o_tj)``
(eq. (5)); ``tau`` frames are sampled and their crops of one body part are
concatenated horizontally into ``X^_j``; the parts (head, hands, feet) are
stacked vertically. With 96x96 crops, ``m = tau = 5``: 480x480, resized to
225x225 (Implementation details). The teacher's joint weight ``p_j``
scales part ``j``'s row, ``X'_j = p_j X^_j`` (eq. (6)); the cell layout is
stored in ``results['roi_cells']`` for that (see :func:`roi_weight_map`).
"""
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from ..skeleton_layouts import (ROI_PART_NAMES, get_layout, layout_names,
                                roi_joints)
from .heatmap import (keypoint_frames_of, read_keypoints, sample_name,
                      warn_sample)
from .skeleton_crop import crop_frames

PART_NAMES = ROI_PART_NAMES


class _RoiJointLayouts(Mapping):
    """Read-only, live view ``{layout name: ROI joints}`` of the registered
    skeleton layouts that define ROI parts (:mod:`..skeleton_layouts`)."""

    def __getitem__(self, name: str) -> Tuple[int, ...]:
        if name not in layout_names():
            raise KeyError(name)
        parts = get_layout(name).roi_parts
        if parts is None:
            raise KeyError(name)
        return parts

    def __iter__(self):
        return iter([n for n in layout_names()
                     if get_layout(n).roi_parts is not None])

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __repr__(self) -> str:
        return repr(dict(self))


#: Joint (0-based) of each part of :data:`PART_NAMES` per skeleton layout,
#: from the layout registry (``SkeletonLayout.roi_parts``): NTU-25 head 4,
#: right hand 12, left hand 8, right ankle 19, left ankle 15 (1-based,
#: data_prep/ntu/constants.py, as in the TSMF authors' code); COCO-17 nose,
#: right/left wrist, right/left ankle; OpenPose-18 (COCO-18) nose,
#: right/left wrist (4/7), right/left ankle (10/13); Kinect v1-20 as NTU-25;
#: UWA3D-15 head, hands, feet; LCR-Net-13 / PennAction-13 head, wrists,
#: ankles.
JOINT_LAYOUTS: Mapping[str, Tuple[int, ...]] = _RoiJointLayouts()


def _pair(v) -> Tuple[int, int]:
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def roi_weight_map(roi_cells: Dict, weights) -> np.ndarray:
    """``[H, W]`` float32 map of the mosaic with each cell set to the weight
    of its part's joint (TSMF eq. (6): ``X'_j = p_j X^_j``); multiply the
    mosaic by it. ``weights`` is indexed by joint (``len >= max joint + 1``)
    or has one entry per part."""
    weights = np.asarray(weights, np.float32).reshape(-1)
    joints = np.asarray(roi_cells['joints'])
    if len(weights) != len(joints):
        weights = weights[joints]
    out = np.zeros(roi_cells['mosaic_shape'], np.float32)
    for part, row in enumerate(roi_cells['boxes']):
        for x1, y1, x2, y2 in np.round(row).astype(np.int64):
            out[y1:y2, x1:x2] = weights[part]
    return out


def band_cells(num_parts: int, mosaic_shape) -> Dict:
    """``roi_cells`` of a mosaic of ``num_parts`` equal full-width rows --
    the layout :class:`SkeletonROIMosaic` makes, for a weight map when no
    sample's own cells are at hand (:func:`roi_weight_map`; TSMF in tensor
    mode). Rows split the height as evenly as integers allow."""
    height, width = (int(v) for v in mosaic_shape)
    if not 1 <= num_parts <= height:
        raise ValueError(f'{num_parts} part rows do not fit a mosaic of '
                         f'height {height}')
    edges = np.linspace(0, height, num_parts + 1)
    boxes = np.array([[[0, y1, width, y2]] for y1, y2 in
                      zip(edges[:-1], edges[1:])], np.float32)
    return dict(joints=np.arange(num_parts), boxes=boxes,
                mosaic_shape=(height, width))


@TRANSFORMS.register_module()
class SkeletonROIMosaic(BaseTransform):
    """Build TSMF's ROI mosaic from the RGB frames and 2D joints of a clip.

    Rows are body parts (``joints``), columns are ``num_frames`` frames
    chosen among the clip's frames: sorted random frames in training
    (without replacement; a clip with fewer frames keeps each once and
    repeats random ones), evenly spaced ones (segment centres) in testing.
    A cell is the ``crop_size`` window centred on the joint (resized to
    ``cell_size`` if that differs); for a clip with two or more persons
    (persons with a valid joint anywhere in the clip; the first two) each
    cell holds two side-by-side half-width crops, first person left. Image
    areas outside the frame, missing joints (score ``<= score_thr``, NaN)
    and clips without any person give zeros (the latter with a warning
    naming the sample). The mosaic (``len(joints) * cell_h`` by
    ``num_frames * cell_w``) is resized to ``out_size``.

    Required keys: ``<modality>_imgs`` (or ``imgs``), ``keypoint`` in the
    frames' pixel space; optional ``keypoint_score``, ``<modality>_inds``
    / ``pose_inds`` (to match a longer pose clip to the frames, see
    :func:`keypoint_frames_of`).
    Added keys: ``<out_name>_imgs`` (a list with the ``[H, W, C]`` mosaic),
    ``<out_name>_img_shape``, ``<out_name>_original_shape`` and
    ``roi_cells``: ``parts``, ``joints`` ``[P]``, ``frames`` ``[tau]``
    (positions in the clip), ``frame_inds`` ``[tau]`` (on the shared clock
    when known, else -1), ``num_persons``, ``boxes`` float32
    ``[P, tau, 4]`` (cell ``x1, y1, x2, y2`` in output pixels; row = part,
    column = frame), ``person_boxes`` ``[P, tau, n, 4]`` (each person's part
    of the cell), ``src_boxes`` int64 ``[P, tau, n, 4]`` (crop windows in
    the source frame), ``valid`` bool ``[P, tau, n]``, ``mosaic_shape``.

    Args:
        layout (str): A skeleton layout with ROI parts
            (:mod:`mmar_ext.datasets.skeleton_layouts`: ``'coco17'``,
            ``'ntu25'``, ``'openpose18'``, ``'kinect_v1_20'``, ``'uwa3d15'``,
            ``'lcrnet13'``, ``'pennaction13'``; see :data:`JOINT_LAYOUTS`).
            Defaults to ``'coco17'`` (the 2D keypoints of our annotations).
        joints (Sequence[int], optional): Joint per row, overriding
            ``layout``. Defaults to None.
        num_frames (int): ``tau``. Defaults to 5.
        crop_size (int | tuple[int]): Crop ``(h, w)`` in source pixels.
            Defaults to 96.
        cell_size (int | tuple[int], optional): Cell size in the mosaic;
            None = ``crop_size``. Defaults to None.
        out_size (int | tuple[int], optional): Final ``(h, w)``; None keeps
            the mosaic size. Defaults to 225.
        test_mode (bool): Evenly spaced frames. Defaults to False.
        score_thr (float): Defaults to 0.
        modality (str): Frames from ``<modality>_imgs``. Defaults to
            ``'rgb'``.
        out_name (str): Output prefix. Defaults to ``'roi'``.
        keypoint_key (str, optional): The ``[M, T, K, 2]`` joints; their
            scores are ``<keypoint_key>_score``. Defaults to
            ``'keypoint_ntu25'`` for ``layout='ntu25'`` (written by
            ``python -m data_prep.ntu.build_annotations --ntu25-2d``), else
            ``'keypoint'``.
    """

    def __init__(self,
                 layout: str = 'coco17',
                 joints: Optional[Sequence[int]] = None,
                 num_frames: int = 5,
                 crop_size: Union[int, Tuple[int, int]] = 96,
                 cell_size: Optional[Union[int, Tuple[int, int]]] = None,
                 out_size: Optional[Union[int, Tuple[int, int]]] = 225,
                 test_mode: bool = False,
                 score_thr: float = 0.,
                 modality: str = 'rgb',
                 out_name: str = 'roi',
                 keypoint_key: Optional[str] = None) -> None:
        if keypoint_key is None:  # the layout's joints come from its key
            keypoint_key = 'keypoint_ntu25' if layout == 'ntu25' and \
                joints is None else 'keypoint'
        self.keypoint_key = keypoint_key
        self.score_key = f'{keypoint_key}_score'
        self.part_names = PART_NAMES if joints is None else tuple(
            f'joint_{j}' for j in joints)
        if joints is None:  # ValueError naming the layouts if unknown
            joints = roi_joints(layout)
        if num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        self.layout = layout
        self.joints = tuple(int(j) for j in joints)
        self.num_frames = num_frames
        self.crop_size = _pair(crop_size)
        self.cell_size = self.crop_size if cell_size is None else \
            _pair(cell_size)
        self.out_size = None if out_size is None else _pair(out_size)
        self.test_mode = test_mode
        self.score_thr = score_thr
        self.modality = modality
        self.out_name = out_name

    def _sample(self, num: int) -> np.ndarray:
        tau = self.num_frames
        if self.test_mode:
            return np.floor(
                (np.arange(tau) + 0.5) * num / tau).astype(np.int64)
        if num >= tau:
            return np.sort(np.random.choice(num, tau, replace=False))
        extra = np.random.randint(0, num, size=tau - num)
        return np.sort(np.concatenate([np.arange(num), extra]))

    def _frames_key(self, results: Dict) -> str:
        for key in (f'{self.modality}_imgs', 'imgs'):
            if key in results:
                return key
        raise KeyError(f'Sample {sample_name(results)}: '
                       f'{type(self).__name__} needs {self.modality}_imgs')

    def transform(self, results: Dict) -> Dict:
        name = type(self).__name__
        imgs = results[self._frames_key(results)]
        num = len(imgs)
        if num < 1:
            raise ValueError(f'Sample {sample_name(results)}: {name}: the '
                             'clip has no frame')
        if self.keypoint_key not in results and 'keypoint' in results:
            # the sample has a skeleton, but not in the requested joint set
            raise ValueError(
                f'Sample {sample_name(results)}: {name} ({self.layout}) '
                f'reads {self.keypoint_key}, which the annotation lacks'
                + (' (build it with python -m data_prep.ntu.build_annotations'
                   ' --ntu25-2d)' if self.keypoint_key == 'keypoint_ntu25'
                   else ''))
        got = read_keypoints(results, self.keypoint_key, self.score_key,
                             caller=name)
        if got is None or not got[0].shape[0]:  # no skeleton / no person
            kps = np.zeros((0, num, max(self.joints) + 1, 2), np.float32)
            scores = np.zeros(kps.shape[:-1], np.float32)
        else:
            kps, scores = got
            if max(self.joints) >= kps.shape[2]:
                raise ValueError(
                    f'Sample {sample_name(results)}: {name}: joints '
                    f'{self.joints} ({self.layout}) need '
                    f'{max(self.joints) + 1} joints, {self.keypoint_key} has '
                    f'{kps.shape[2]}')
            pos = keypoint_frames_of(results, self.modality, kps.shape[1]) \
                if kps.shape[1] != num else np.arange(num)
            kps, scores = kps[:, pos], scores[:, pos]
        valid = scores > self.score_thr  # [M, T, K]
        persons = np.flatnonzero(valid.any((1, 2)))[:2]
        if not len(persons):
            warn_sample(
                results, f'{name}: no person with a valid joint in '
                'the clip; the ROI mosaic is all zeros')

        frames = self._sample(num)
        n = max(len(persons), 1)
        ch, cw = self.cell_size
        crop_h, crop_w = self.crop_size
        sub_w = [cw // n + (1 if i < cw % n else 0) for i in range(n)]
        crop_sub_w = [
            crop_w // n + (1 if i < crop_w % n else 0) for i in range(n)
        ]
        first = np.asarray(imgs[0])
        parts, tau = len(self.joints), len(frames)
        mosaic = np.zeros((parts * ch, tau * cw) + first.shape[2:],
                          first.dtype)
        src = np.zeros((parts, tau, n, 4), np.int64)
        ok = np.zeros((parts, tau, n), bool)
        sub_x = np.concatenate([[0], np.cumsum(sub_w)])
        for r, joint in enumerate(self.joints):
            for c, f in enumerate(frames):
                img = np.asarray(imgs[f])
                for i, p in enumerate(persons):
                    # the window centred on the joint (top-left
                    # round(joint) - size // 2), zero outside the frame
                    x, y = kps[p, f, joint]
                    size = (crop_h, crop_sub_w[i])
                    x1 = int(np.round(x)) - size[1] // 2
                    y1 = int(np.round(y)) - size[0] // 2
                    box = (x1, y1, x1 + size[1], y1 + size[0])
                    src[r, c, i] = box
                    if not valid[p, f, joint]:
                        continue
                    ok[r, c, i] = True
                    crop = crop_frames([img], box)[0]
                    if size != (ch, sub_w[i]):
                        crop = mmcv.imresize(crop, (sub_w[i], ch))
                    mosaic[r * ch:(r + 1) * ch,
                           c * cw + sub_x[i]:c * cw + sub_x[i + 1]] = crop
        pre_hw = mosaic.shape[:2]
        if self.out_size is not None and self.out_size != pre_hw:
            mosaic = mmcv.imresize(mosaic, self.out_size[::-1])
        sy, sx = mosaic.shape[0] / pre_hw[0], mosaic.shape[1] / pre_hw[1]

        cols = np.arange(tau)[None, :, None]
        rows = np.arange(parts)[:, None, None]
        boxes = np.stack(
            np.broadcast_arrays(cols * cw * sx, rows * ch * sy,
                                (cols + 1) * cw * sx, (rows + 1) * ch * sy),
            -1)[:, :, 0].astype(np.float32)
        pboxes = np.stack(
            np.broadcast_arrays((cols * cw + sub_x[:-1]) * sx, rows * ch * sy,
                                (cols * cw + sub_x[1:]) * sx,
                                (rows + 1) * ch * sy), -1).astype(np.float32)
        inds = results.get(f'{self.modality}_inds', results.get('frame_inds'))
        inds = None if inds is None else np.asarray(inds).reshape(-1)
        frame_inds = inds[frames] if inds is not None and len(inds) == num \
            else np.full(tau, -1, np.int64)
        results[f'{self.out_name}_imgs'] = [mosaic]
        results[f'{self.out_name}_img_shape'] = mosaic.shape[:2]
        results[f'{self.out_name}_original_shape'] = mosaic.shape[:2]
        results['roi_cells'] = dict(
            parts=self.part_names,
            joints=np.array(self.joints, np.int64),
            frames=frames,
            frame_inds=frame_inds,
            num_persons=len(persons),
            boxes=boxes,
            person_boxes=pboxes,
            src_boxes=src,
            valid=ok,
            mosaic_shape=mosaic.shape[:2])
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(joints={self.joints}, '
                f'layout={self.layout!r}, num_frames={self.num_frames}, '
                f'crop_size={self.crop_size}, cell_size={self.cell_size}, '
                f'out_size={self.out_size}, test_mode={self.test_mode}, '
                f'score_thr={self.score_thr}, modality={self.modality!r}, '
                f'out_name={self.out_name!r})')
