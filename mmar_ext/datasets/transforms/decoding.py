"""Decode the sampled frames of every modality of a clip.

Each image modality (RGB, depth, infrared) is either a video (decoded with
decord, or with PyAV decoding only the packets the sampled frames need,
optionally at a reduced size chosen from the skeleton box:
:mod:`.video_reader`) or a folder of per-frame images: the annotation's
``<m>_frames`` lists their file names in frame order (NW-UCLA, UWA3D II,
PennAction), and a depth folder without that list holds 16-bit PNGs
``MDepth-%08d.png`` numbered from 1 (NTU RGB+D masked depth,
docs/data_format.md). A clip that is a range of a longer recording (PKU-MMD,
FineGYM) carries ``frame_offset``, the index of its first frame in every
modality file. The skeleton is already in the annotation. A
sample whose file is missing, truncated or unreadable is an error naming
the sample and the file, never a silent black frame (DESIGN.md, "Pipeline
principles").
"""
import io
import os.path as osp
from typing import Dict, List, Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mmaction.registry import TRANSFORMS
from .heatmap import read_keypoints
from .video_reader import FrameRangeError, lowres_for_box, pyav_decode

IMAGE_MODALITIES = ('rgb', 'depth', 'ir')
POSE_KEYS = ('keypoint', 'keypoint_score', 'keypoint_3d', 'keypoint_3d_score',
             'keypoint_ntu25', 'keypoint_ntu25_score', 'keypoint_lcrnet13',
             'keypoint_lcrnet13_score')
#: 2D keypoints in RGB pixels (rescaled with the decoded RGB size)
PIXEL_KEYPOINTS = ('keypoint', 'keypoint_ntu25', 'keypoint_lcrnet13')
DEPTH_TEMPLATE = 'MDepth-{:08d}.png'


def _sample_name(results: Dict) -> str:
    return str(results.get('frame_dir', '<unknown sample>'))


@TRANSFORMS.register_module()
class MultiModalDecode(BaseTransform):
    """Decode the frames of ``results['modalities']`` at the shared indices.

    For modality ``m`` the indices are ``results[f'{m}_inds']`` when present
    (see ``MultiModalSampleFrames(modality_clip_len=...)``), otherwise
    ``results['frame_inds']``. They live on the shared clock of
    ``total_frames`` frames; a modality whose file holds
    ``num_frames[m] != total_frames`` frames is mapped proportionally,
    ``min(i * num_frames[m] // total_frames, num_frames[m] - 1)``. Each
    distinct frame is decoded once even when indices repeat. A modality
    whose path is a folder reads ``<m>_frames[i]`` (or, for depth without
    that list, ``MDepth-%08d.png``); ``frame_offset`` (default 0) is added
    to the indices of every image modality (a clip cut from a longer
    recording, stored as a range, not re-encoded).

    Added keys per image modality ``m``: ``<m>_imgs`` (list of frames: RGB
    ``HxWx3`` uint8 in RGB order, IR ``HxW`` uint8 (first channel), depth
    ``HxW`` as stored (first channel), uint16 millimetres for NTU),
    ``<m>_img_shape``,
    ``<m>_original_shape``. For ``pose``: ``keypoint``, ``keypoint_score``
    (ones when absent) and ``keypoint_3d`` are sliced to the indices (so do
    not add MMAction2's ``PoseDecode`` as well). A modality that
    ``results['modality_mask']`` marks absent (the dataset's
    ``missing_modality='allow'``) is not decoded. When RGB is decoded at a
    size other than the annotation's ``img_shape``, 2D keypoints (RGB pixel
    coordinates) are rescaled to it and ``img_shape`` / ``original_shape``
    updated, as MMAction2's ``MMDecode`` does.

    Errors (``FileNotFoundError`` for a missing file, folder or depth frame;
    ``IOError`` for a video that cannot be opened, has fewer decodable frames
    than ``num_frames[m]`` or fails on a requested index, or an unreadable
    PNG) name the sample (``frame_dir``) and the exact path.

    Args:
        io_backend (str): ``'disk'`` reads paths directly; anything else is
            passed to MMEngine's file IO (``backend_args``). Defaults to
            ``'disk'``.
        num_threads (int): Decoding threads. Defaults to 1.
        backend_args (dict, optional): MMEngine file backend arguments.
        video_backend (str): ``'decord'`` (``VideoReader.get_batch``) or
            ``'pyav'`` (:func:`.video_reader.pyav_decode`: the same pixels,
            only the packets the sampled frames need; faster on intra-only
            codecs such as MJPEG). Defaults to ``'decord'``.
        lowres_min_box (int, optional): ``'pyav'`` only. Decode the RGB
            video at 1/2, 1/4 or 1/8 size (the codec's own reduced-size
            decoding, DCT codecs only: MJPEG, MPEG-4 Part 2 / XviD, ...;
            H.264 is decoded full size) when the tight box of the clip's
            valid 2D joints (all persons, the pose frames sampled, else the
            RGB ones) still spans at least this many pixels on its longer
            side -- a skeleton-box crop resized to ``lowres_min_box``
            pixels then loses no resolution it would have used (its box is
            the tight box padded). No joint: full size. None (default):
            always full size. The factor used is stored in
            ``results['rgb_lowres']``; keypoints follow the decoded size.
    """

    def __init__(self,
                 io_backend: str = 'disk',
                 num_threads: int = 1,
                 backend_args: Optional[dict] = None,
                 video_backend: str = 'decord',
                 lowres_min_box: Optional[int] = None) -> None:
        if video_backend not in ('decord', 'pyav'):
            raise ValueError("video_backend must be 'decord' or 'pyav', got "
                             f'{video_backend!r}')
        if lowres_min_box is not None and video_backend != 'pyav':
            raise ValueError("lowres_min_box needs video_backend='pyav'")
        self.io_backend = io_backend
        self.num_threads = num_threads
        if backend_args is None and io_backend != 'disk':
            backend_args = dict(backend=io_backend)
        self.backend_args = backend_args
        self.video_backend = video_backend
        self.lowres_min_box = lowres_min_box

    # ------------------------------------------------------------------ io
    def _exists(self, path: str) -> bool:
        if self.backend_args is None:
            return osp.exists(path)
        return fileio.exists(path, backend_args=self.backend_args)

    def _isdir(self, path: str) -> bool:
        if self.backend_args is None:
            return osp.isdir(path)
        return fileio.isdir(path, backend_args=self.backend_args)

    def _get_bytes(self, path: str) -> bytes:
        return fileio.get(path, backend_args=self.backend_args)

    # ------------------------------------------------------------- helpers
    @staticmethod
    def _map_indices(inds: np.ndarray, total: int, num: int) -> np.ndarray:
        inds = np.asarray(inds, dtype=np.int64).reshape(-1)
        if num != total:
            inds = np.minimum(inds * num // total, num - 1)
        return inds

    def _decode_video(self, results: Dict, m: str, path: str,
                      inds: np.ndarray, num: int) -> List[np.ndarray]:
        name = _sample_name(results)
        if not self._exists(path):
            raise FileNotFoundError(
                f'Sample {name}: {m} video not found: {path}')
        fobj = None
        try:
            src = path
            if self.backend_args is not None:
                fobj = io.BytesIO(self._get_bytes(path))
                src = fobj
            uniq, inverse = np.unique(inds, return_inverse=True)
            if self.video_backend == 'pyav':
                frames = self._pyav_frames(results, m, path, src, uniq, num)
            else:
                frames = self._decord_frames(name, m, path, src, uniq, num)
        finally:
            if fobj is not None:
                fobj.close()
        if m != 'rgb':
            frames = [f[..., 0] for f in frames]
        return [frames[j] for j in inverse.reshape(-1)]

    def _decord_frames(self, name: str, m: str, path: str, src,
                       uniq: np.ndarray, num: int) -> np.ndarray:
        import decord  # imported lazily: only needed for video modalities
        try:
            reader = decord.VideoReader(src, num_threads=self.num_threads)
        except Exception as e:  # decord raises DECORDError/RuntimeError
            raise IOError(f'Sample {name}: cannot open {m} video {path}: '
                          f'{e}') from e
        try:
            self._check_length(name, m, path, len(reader), uniq, num)
            try:
                frames = reader.get_batch(uniq.tolist()).asnumpy()
            except Exception as e:
                raise IOError(
                    f'Sample {name}: failed to decode frames '
                    f'{uniq.tolist()} of {m} video {path}: {e}') from e
            if frames.shape[0] != uniq.size:
                raise IOError(
                    f'Sample {name}: {m} video {path} returned '
                    f'{frames.shape[0]} of {uniq.size} requested frames')
        finally:
            del reader
        return frames

    def _pyav_frames(self, results: Dict, m: str, path: str, src,
                     uniq: np.ndarray, num: int) -> List[np.ndarray]:
        name = _sample_name(results)
        lowres = results.get('rgb_lowres', 0) if m == 'rgb' else 0
        try:
            frames, length, lowres = pyav_decode(
                src, uniq.tolist(), lowres=lowres,
                num_threads=self.num_threads)
        except FrameRangeError as e:
            frames, length = None, e.length
        except Exception as e:  # av.error.* (OSError subclasses), IOError
            raise IOError(f'Sample {name}: cannot decode frames '
                          f'{uniq.tolist()} of {m} video {path}: {e}') from e
        self._check_length(name, m, path, length, uniq, num)
        if m == 'rgb':
            results['rgb_lowres'] = lowres
        return frames

    @staticmethod
    def _check_length(name: str, m: str, path: str, length: int,
                      uniq: np.ndarray, num: int) -> None:
        if length < num:
            raise IOError(
                f'Sample {name}: {m} video {path} has {length} '
                f'decodable frames but the annotation says {num} '
                '(truncated file?)')
        if uniq.size and (uniq[0] < 0 or uniq[-1] >= length):
            raise IOError(
                f'Sample {name}: {m} video {path} has {length} frames;'
                f' requested frame {int(uniq[-1])} is out of range')

    def _lowres(self, results: Dict) -> int:
        """Reduced-size factor for the RGB video (``lowres_min_box``)."""
        if self.lowres_min_box is None:
            return 0
        got = read_keypoints(results, caller=type(self).__name__)
        if got is None or got[0].size == 0:
            return 0
        kps, scores = got
        inds = results.get('pose_inds', results['frame_inds'])
        inds = np.asarray(inds, np.int64).reshape(-1)
        inds = inds[(inds >= 0) & (inds < kps.shape[1])]  # checked later
        pts = kps[:, inds][scores[:, inds] > 0]
        if not len(pts):
            return 0
        side = float((pts.max(0) - pts.min(0)).max())
        return lowres_for_box(side, self.lowres_min_box)

    def _read_image(self, results: Dict, m: str, path: str) -> np.ndarray:
        name = _sample_name(results)
        if not self._exists(path):
            raise FileNotFoundError(
                f'Sample {name}: {m} frame not found: {path}')
        try:
            buf = np.frombuffer(self._get_bytes(path), dtype=np.uint8)
            img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        except Exception as e:
            raise IOError(f'Sample {name}: cannot read {m} frame {path}: '
                          f'{e}') from e
        if img is None:
            raise IOError(
                f'Sample {name}: unreadable {m} frame (not a valid image): '
                f'{path}')
        if m == 'rgb':
            if img.ndim == 2:
                return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
            return cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2RGB)
        if img.ndim == 3:  # depth / IR saved with channels: keep one
            img = img[..., 0]
        return img

    def _decode_frame_folder(self, results: Dict, m: str, path: str,
                             inds: np.ndarray) -> List[np.ndarray]:
        name = _sample_name(results)
        if not self._isdir(path):
            raise FileNotFoundError(
                f'Sample {name}: {m} frame folder not found: {path}')
        files = results.get(f'{m}_frames')
        if files is None and m != 'depth':
            raise KeyError(
                f'Sample {name}: {m}_path {path} is a folder but the '
                f'annotation has no {m}_frames (its frame file names)')
        uniq, inverse = np.unique(inds, return_inverse=True)
        if files is not None and uniq.size and uniq[-1] >= len(files):
            raise IndexError(
                f'Sample {name}: {m} folder {path} lists {len(files)} '
                f'frames; requested frame {int(uniq[-1])}')
        cache = [
            self._read_image(results, m, osp.join(
                path, DEPTH_TEMPLATE.format(int(i) + 1) if files is None
                else files[int(i)]))
            for i in uniq
        ]
        return [cache[j] for j in inverse.reshape(-1)]

    def _decode_pose(self, results: Dict, inds: np.ndarray) -> None:
        name = _sample_name(results)
        if 'keypoint' not in results:
            raise KeyError(f'Sample {name}: modality pose requested but the '
                           'annotation has no keypoint')
        kp = results['keypoint']
        if 'keypoint_score' not in results:
            results['keypoint_score'] = np.ones(kp.shape[:-1], np.float32)
        length = kp.shape[1]
        if inds.size and inds.max() >= length:
            raise IndexError(
                f'Sample {name}: keypoint has {length} frames; requested '
                f'frame {int(inds.max())} (total_frames='
                f"{results.get('total_frames')})")
        for key in POSE_KEYS:
            if key in results:
                results[key] = np.asarray(results[key])[:, inds].astype(
                    np.float32)

    # ----------------------------------------------------------- transform
    def transform(self, results: Dict) -> Dict:
        name = _sample_name(results)
        total = int(results['total_frames'])
        num_frames = results.get('num_frames') or {}
        if self.lowres_min_box is not None and 'rgb' in results['modalities']:
            # before the pose modality slices the keypoints to its frames
            results['rgb_lowres'] = self._lowres(results)
        mask = results.get('modality_mask') or {}
        offset = int(results.get('frame_offset', 0))
        for m in results['modalities']:
            if not mask.get(m, True):
                continue  # absent for this sample (missing_modality='allow')
            inds = results.get(f'{m}_inds', results['frame_inds'])
            if m == 'pose':
                self._decode_pose(results,
                                  np.asarray(inds, np.int64).reshape(-1))
                continue
            if m == 'skeleton':
                continue  # whole 3D sequences, read by GCNSkeletonInput
            if m not in IMAGE_MODALITIES:
                raise ValueError(f'Sample {name}: unknown modality {m!r}')
            path = results.get(f'{m}_path')
            if path is None:
                raise KeyError(f'Sample {name}: no {m}_path for modality {m}')
            num = int(num_frames.get(m, total))
            mapped = self._map_indices(inds, total, num) + offset
            if self._isdir(path) or m == 'depth' and not self._exists(path):
                imgs = self._decode_frame_folder(results, m, path, mapped)
            else:
                imgs = self._decode_video(results, m, path, mapped,
                                          num + offset)
            shape = tuple(imgs[0].shape[:2])
            results[f'{m}_imgs'] = imgs
            results[f'{m}_img_shape'] = shape
            results[f'{m}_original_shape'] = shape
            if m == 'rgb':
                self._sync_rgb_shape(results, shape)
        return results

    @staticmethod
    def _sync_rgb_shape(results: Dict, shape: tuple) -> None:
        """Rescale 2D keypoints when the RGB video differs from img_shape."""
        ann_shape = results.get('img_shape')
        if ann_shape is not None and tuple(ann_shape) != shape:
            oh, ow = ann_shape
            nh, nw = shape
            for key in PIXEL_KEYPOINTS:
                if key in results:
                    kp = np.asarray(results[key], np.float32).copy()
                    kp[..., 0] *= nw / ow
                    kp[..., 1] *= nh / oh
                    results[key] = kp
        results['img_shape'] = shape
        results['original_shape'] = shape

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(io_backend={self.io_backend!r}, '
                f'num_threads={self.num_threads}, '
                f'video_backend={self.video_backend!r}, '
                f'lowres_min_box={self.lowres_min_box})')
