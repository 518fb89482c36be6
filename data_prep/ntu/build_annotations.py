"""Build the annotation pkl of NTU RGB+D 60 / 120 (or the synthetic dataset).

Usage, from the repository root::

    python -m data_prep.ntu.build_annotations --raw-root data/ntu_raw \\
        --dataset ntu60 --out data/ntu60_annotations.pkl

The sample list is the set of ``nturgb+d_skeletons/*.skeleton`` files
(setups 1-17 for ``ntu60``, all for ``ntu120``). For each sample the
skeleton is read, every requested modality file is probed (frame count and
size) and one annotation is made, in the layout of ``docs/data_format.md``:

* ``keypoint`` ``[M, T, 17, 2]``: COCO-17 keypoints taken from the NTU joints
  (:data:`constants.NTU_TO_COCO`), from their colour-space coordinates
  (colorX, colorY, 1920x1080) scaled to the size of the RGB video. Without an
  RGB video they stay in the 1920x1080 colour space and ``img_shape`` is
  ``(1080, 1920)``.
* ``keypoint_score`` ``[M, T, 17]``: 1.0 tracked, 0.5 inferred, 0 not tracked
  or body absent.
* ``keypoint_3d`` ``[M, T, 25, 3]``: camera-space x, y, z (metres).
* with ``ntu25_2d`` (``--ntu25-2d``): ``keypoint_ntu25`` ``[M, T, 25, 2]``
  and ``keypoint_ntu25_score`` ``[M, T, 25]``, all 25 NTU joints in the same
  RGB pixel coordinates (for ``SkeletonROIMosaic(layout='ntu25')``, TSMF's
  skeleton-cropped ROIs). Off by default: on full NTU120 it adds about 7 GB.

``M`` is at most ``max_bodies`` (2): the bodies with the most motion.
Samples of the official missing-skeleton list are left out unless
``keep_missing_skeletons``; then, like a sample whose skeleton file has no
body at all, they carry no keypoint fields.
"""
from __future__ import annotations

import argparse
import functools
import logging
import multiprocessing
import os
import pickle
import re
import sys
import tempfile

import numpy as np

from .constants import (NTU_TO_COCO, check_dataset, is_training_sample,
                        missing_skeleton_samples, parse_sample_name)
from .skeleton import INFERRED, TRACKED, read_skeleton, to_arrays

logger = logging.getLogger(__name__)

SKELETON_DIR = 'nturgb+d_skeletons'
#: modality -> (folder under raw_root, file or folder name pattern)
MODALITY_PATHS = {
    'rgb': ('nturgb+d_rgb', '{name}_rgb.avi'),
    'depth': ('nturgb+d_depth_masked', '{name}'),
    'ir': ('nturgb+d_ir', '{name}_ir.avi'),
}
MODALITIES = tuple(MODALITY_PATHS)
DEPTH_FRAME = re.compile(r'MDepth-(\d{8})\.png')
#: (H, W) of the Kinect colour space in which colorX / colorY are given.
NTU_COLOR_SHAPE = (1080, 1920)
#: keypoint_score for joint trackingState 0 / 1 / 2.
SCORE_OF_TRACKING_STATE = np.zeros(3, np.float32)
SCORE_OF_TRACKING_STATE[INFERRED] = 0.5
SCORE_OF_TRACKING_STATE[TRACKED] = 1.0


class AnnotationBuildError(RuntimeError):
    """A sample could not be converted; the message names sample and file."""


class ModalityFileError(ValueError):
    """A modality file exists but cannot be read; the message names it."""


# --------------------------------------------------------------------------
# Probing modality files
# --------------------------------------------------------------------------
def modality_path(modality: str, name: str) -> str:
    """Path of a sample's modality file/folder, relative to the raw root."""
    folder, pattern = MODALITY_PATHS[modality]
    return f'{folder}/{pattern.format(name=name)}'


def _probe_video_decord(path):
    import decord
    try:
        reader = decord.VideoReader(path, num_threads=1)
        num_frames = len(reader)
        height, width = reader[0].shape[:2]
    except Exception as error:  # decord raises its own DECORDError
        raise ModalityFileError(
            f'{path}: unreadable video ({error})') from None
    return num_frames, (int(height), int(width))


def _probe_video_cv2(path):
    import cv2
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            raise ModalityFileError(f'{path}: cannot open video')
        ok, frame = capture.read()
        if not ok or frame is None:
            raise ModalityFileError(f'{path}: cannot decode the first frame')
        num_frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if num_frames <= 0:  # container without a frame count: count them
            num_frames = 1
            while capture.grab():
                num_frames += 1
        return num_frames, (int(frame.shape[0]), int(frame.shape[1]))
    finally:
        capture.release()


def probe_video(path, backend: str = 'auto'):
    """Returns ``(number of frames, (H, W))`` of a video.

    ``backend``: ``'decord'`` (what MMAction2's ``DecordInit`` counts),
    ``'cv2'``, or ``'auto'`` (decord when importable, else cv2).

    Raises:
        ModalityFileError: the video cannot be opened or decoded.
    """
    if backend == 'auto':
        try:
            import decord  # noqa: F401
            backend = 'decord'
        except ImportError:
            backend = 'cv2'
    if backend == 'decord':
        return _probe_video_decord(os.fspath(path))
    if backend == 'cv2':
        return _probe_video_cv2(os.fspath(path))
    raise ValueError(f"video backend must be 'auto', 'decord' or 'cv2', "
                     f'got {backend!r}')


def probe_depth_folder(path):
    """Returns ``(number of frames, (H, W))`` of a masked-depth folder.

    The folder must hold ``MDepth-00000001.png`` ... ``MDepth-%08d.png``
    numbered without gaps; the first frame must be a single-channel 16-bit
    PNG.

    Raises:
        ModalityFileError: no frames, a gap in the numbering, or an
            unreadable first frame.
    """
    import cv2
    path = os.fspath(path)
    numbers = sorted(int(match.group(1)) for match in
                     map(DEPTH_FRAME.fullmatch, os.listdir(path)) if match)
    if not numbers:
        raise ModalityFileError(f'{path}: no MDepth-%08d.png frames')
    if numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
        raise ModalityFileError(
            f'{path}: depth frames must be numbered 1..{len(numbers)} without '
            f'gaps; missing {missing[:5]}{" ..." if len(missing) > 5 else ""}')
    first = os.path.join(path, 'MDepth-00000001.png')
    image = cv2.imread(first, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ModalityFileError(f'{first}: unreadable PNG')
    if image.ndim != 2 or image.dtype != np.uint16:
        raise ModalityFileError(
            f'{first}: expected a single-channel 16-bit depth PNG, got '
            f'dtype {image.dtype} and shape {image.shape}')
    return len(numbers), (int(image.shape[0]), int(image.shape[1]))


# --------------------------------------------------------------------------
# Keypoints
# --------------------------------------------------------------------------
def skeleton_keypoints(seq, image_shape, max_bodies: int = 2,
                       select: str = 'motion', ntu25_2d: bool = False) -> dict:
    """The keypoint fields of an annotation from a parsed skeleton.

    Args:
        seq: :class:`skeleton.SkeletonSequence`.
        image_shape: ``(H, W)`` of the RGB video the 2D keypoints refer to.
        ntu25_2d: also return all 25 NTU joints in 2D.

    Returns:
        dict with ``keypoint`` ``[M, T, 17, 2]``, ``keypoint_score``
        ``[M, T, 17]`` and ``keypoint_3d`` ``[M, T, 25, 3]`` (and with
        ``ntu25_2d``, ``keypoint_ntu25`` ``[M, T, 25, 2]`` and
        ``keypoint_ntu25_score`` ``[M, T, 25]``), all float32.
    """
    joints3d, color2d, _, tracking = to_arrays(seq, max_bodies, select)
    scale = np.array([image_shape[1] / NTU_COLOR_SHAPE[1],
                      image_shape[0] / NTU_COLOR_SHAPE[0]], np.float32)
    pixels = (color2d * scale).astype(np.float32)
    # Frames without the body are zeros with score 0 (see to_arrays); joints
    # Kinect did not track keep the position it reported, with score 0.
    scores = SCORE_OF_TRACKING_STATE[tracking].astype(np.float32)
    coco = list(NTU_TO_COCO)
    fields = dict(keypoint=pixels[:, :, coco],
                  keypoint_score=scores[:, :, coco],
                  keypoint_3d=joints3d.astype(np.float32))
    if ntu25_2d:
        fields.update(keypoint_ntu25=pixels, keypoint_ntu25_score=scores)
    return fields


# --------------------------------------------------------------------------
# One sample
# --------------------------------------------------------------------------
def _source_stamp(raw_root, name, modalities):
    """(path, size, mtime) of every input of a sample, for the cache."""
    paths = [f'{SKELETON_DIR}/{name}.skeleton'] + [
        modality_path(m, name) for m in modalities]
    stamp = []
    for relative in paths:
        try:
            stat = os.stat(os.path.join(raw_root, relative))
            stamp.append((relative, stat.st_size, stat.st_mtime_ns))
        except FileNotFoundError:
            stamp.append((relative, None, None))
    return tuple(stamp)


def build_sample(name: str, raw_root, dataset: str = 'ntu60',
                 modalities=MODALITIES, use_skeleton: bool = True,
                 max_bodies: int = 2, select: str = 'motion',
                 video_backend: str = 'auto', ntu25_2d: bool = False):
    """The annotation of one sample.

    Args:
        use_skeleton: False for samples of the missing-skeleton list: the
            skeleton only gives the frame count, keypoint fields are left out.
        ntu25_2d: add ``keypoint_ntu25`` / ``keypoint_ntu25_score``.

    Returns:
        tuple: ``(annotation, has_bodies)``; ``has_bodies`` is False when the
        skeleton file lists no body at all (then no keypoint fields either).

    Raises:
        AnnotationBuildError: naming the sample and the file at fault.
    """
    raw_root = os.fspath(raw_root)
    info = parse_sample_name(name)
    num_classes = check_dataset(dataset)['num_classes']
    if info['action'] > num_classes:
        raise AnnotationBuildError(
            f'sample {name}: action {info["action"]} is not an {dataset} '
            f'class (1..{num_classes})')
    ann = dict(frame_dir=name, label=info['action'] - 1)

    num_frames, shapes = {}, {}
    for modality in modalities:
        relative = modality_path(modality, name)
        path = os.path.join(raw_root, relative)
        if not os.path.exists(path):
            continue
        try:
            if modality == 'depth':
                num_frames[modality], shapes[modality] = \
                    probe_depth_folder(path)
            else:
                num_frames[modality], shapes[modality] = probe_video(
                    path, video_backend)
        except (ModalityFileError, OSError) as error:
            raise AnnotationBuildError(
                f'sample {name}: {modality} {error}') from None
        ann[f'{modality}_path'] = relative

    skeleton_file = os.path.join(raw_root, SKELETON_DIR, f'{name}.skeleton')
    try:
        seq = read_skeleton(skeleton_file)
    except (ValueError, OSError) as error:
        if use_skeleton or not num_frames:
            raise AnnotationBuildError(
                f'sample {name}: skeleton {error}') from None
        seq = None  # a listed missing skeleton: use the videos' clock

    image_shape = shapes.get('rgb', NTU_COLOR_SHAPE)
    ann['total_frames'] = (seq.num_frames if seq is not None
                           else next(iter(num_frames.values())))
    ann['img_shape'] = tuple(image_shape)
    ann['original_shape'] = tuple(image_shape)
    ann['num_frames'] = num_frames
    ann['modality_shapes'] = shapes

    has_bodies = seq is not None and len(seq.bodies) > 0
    if use_skeleton and has_bodies:
        ann.update(skeleton_keypoints(seq, image_shape, max_bodies, select,
                                      ntu25_2d))
    return ann, has_bodies


def _build_sample_job(name, raw_root, missing, cache_dir, options):
    """Pool worker: one sample, through the cache when there is one."""
    use_skeleton = name not in missing
    cache_file = stamp = None
    if cache_dir is not None:
        stamp = (raw_root, options, use_skeleton,
                 _source_stamp(raw_root, name, options['modalities']))
        cache_file = os.path.join(cache_dir, f'{name}.pkl')
        try:
            with open(cache_file, 'rb') as f:
                cached_stamp, result = pickle.load(f)
            if cached_stamp == stamp:
                return name, result
        except (OSError, EOFError, pickle.UnpicklingError, ValueError):
            pass
    try:
        result = build_sample(name, raw_root, use_skeleton=use_skeleton,
                              **options)
    except AnnotationBuildError:
        raise
    except Exception as error:  # a bug or an unforeseen input: name it
        raise AnnotationBuildError(f'sample {name}: {type(error).__name__}: '
                                   f'{error}') from error
    if cache_file is not None:
        atomic_pickle_dump((stamp, result), cache_file)
    return name, result


# --------------------------------------------------------------------------
# The whole dataset
# --------------------------------------------------------------------------
def list_samples(raw_root, dataset: str = 'ntu60') -> list[str]:
    """Names of the ``.skeleton`` files of a dataset, sorted."""
    # ntu60 is setups 1-17; ntu120 takes every setup there is.
    max_setup = check_dataset(dataset)['max_setup']
    if dataset == 'ntu120':
        max_setup = None
    folder = os.path.join(os.fspath(raw_root), SKELETON_DIR)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f'no skeleton folder {folder} (expected '
                                f'<raw_root>/{SKELETON_DIR}/*.skeleton)')
    names = []
    for entry in os.scandir(folder):
        if not entry.name.endswith('.skeleton'):
            continue
        name = entry.name[:-len('.skeleton')]
        try:
            info = parse_sample_name(name)
        except ValueError:
            logger.warning('ignoring %s: not an NTU sample name', entry.path)
            continue
        if max_setup is None or info['setup'] <= max_setup:
            names.append(name)
    return sorted(names)


def make_splits(names, dataset: str = 'ntu60') -> dict:
    """``{'xsub_train': [...], 'xsub_val': [...], ...}`` of a dataset."""
    splits = {}
    for benchmark in check_dataset(dataset)['benchmarks']:
        train, val = [], []
        for name in names:
            info = parse_sample_name(name)
            (train if is_training_sample(info, dataset, benchmark)
             else val).append(name)
        splits[f'{benchmark}_train'] = train
        splits[f'{benchmark}_val'] = val
    return splits


def atomic_pickle_dump(obj, path) -> None:
    """Pickles ``obj`` to a temporary file next to ``path``, then renames."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(dir=folder, prefix='.tmp_', suffix='.pkl')
    try:
        with os.fdopen(fd, 'wb') as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise


class _Progress:
    """mmengine's ProgressBar when available, else a counter on stderr."""

    def __init__(self, total):
        self.total, self.done = total, 0
        try:
            from mmengine.utils import ProgressBar
            self.bar = ProgressBar(total, file=sys.stderr)
        except Exception:  # mmengine missing or incompatible
            self.bar = None

    def update(self):
        self.done += 1
        if self.bar is not None:
            self.bar.update()
        elif self.done == self.total or self.done % 100 == 0:
            print(f'\r{self.done}/{self.total} samples', end='',
                  file=sys.stderr, flush=True)

    def close(self):
        if self.total:
            print(file=sys.stderr)


def _run_jobs(job, names, num_workers):
    """Yields ``job(name)`` for all names, in a process pool if asked."""
    progress = _Progress(len(names))
    try:
        if num_workers <= 1 or len(names) <= 1:
            for name in names:
                yield job(name)
                progress.update()
        else:
            chunksize = max(1, min(32, len(names) // (num_workers * 8)))
            with multiprocessing.Pool(num_workers) as pool:
                for result in pool.imap(job, names, chunksize=chunksize):
                    yield result
                    progress.update()
    finally:
        progress.close()


def build_annotations(raw_root, out_file, dataset: str = 'ntu60',
                      modalities=MODALITIES,
                      keep_missing_skeletons: bool = False,
                      num_workers: int | None = None, max_bodies: int = 2,
                      select: str = 'motion', video_backend: str = 'auto',
                      cache_dir=None, ntu25_2d: bool = False) -> dict:
    """Converts an NTU raw tree into one annotation pkl.

    Args:
        raw_root: folder with ``nturgb+d_skeletons``, ``nturgb+d_rgb``,
            ``nturgb+d_depth_masked``, ``nturgb+d_ir``.
        out_file: the pkl to write (atomically).
        dataset: ``'ntu60'`` (setups 1-17, splits xsub/xview) or
            ``'ntu120'`` (all setups, splits xsub/xset).
        modalities: which of ``'rgb'``, ``'depth'``, ``'ir'`` to probe; a
            sample without the file simply lacks that modality's keys.
        keep_missing_skeletons: keep the official missing-skeleton samples
            (without keypoint fields) instead of leaving them out.
        num_workers: processes (default: CPU count); 0 or 1 runs in-process.
        max_bodies: bodies kept per sample (``M``).
        select: ``'motion'`` or ``'order'``, see :func:`skeleton.to_arrays`.
        video_backend: ``'auto'``, ``'decord'`` or ``'cv2'``.
        cache_dir: if given, each sample's annotation is kept there and
            reused by a later run while its input files are unchanged.
        ntu25_2d: also store all 25 NTU joints in 2D RGB pixel coordinates
            (``keypoint_ntu25`` ``[M, T, 25, 2]``, ``keypoint_ntu25_score``).

    Returns:
        The dict written to ``out_file``.

    Raises:
        AnnotationBuildError: a sample's skeleton is malformed or one of its
            modality files is unreadable (the message names sample and file).
    """
    check_dataset(dataset)
    modalities = tuple(modalities)
    unknown = [m for m in modalities if m not in MODALITY_PATHS]
    if unknown:
        raise ValueError(f'unknown modalities {unknown}; choose from '
                         f'{list(MODALITY_PATHS)}')
    raw_root = os.path.abspath(os.fspath(raw_root))
    if num_workers is None:
        num_workers = os.cpu_count() or 1

    names = list_samples(raw_root, dataset)
    missing = missing_skeleton_samples(dataset)
    listed_missing = [n for n in names if n in missing]
    if not keep_missing_skeletons:
        names = [n for n in names if n not in missing]
        if listed_missing:
            logger.info('left out %d samples of the official missing-skeleton '
                        'list', len(listed_missing))
    logger.info('%s: %d samples under %s', dataset, len(names), raw_root)
    if not names:
        logger.warning('no %s sample found in %s', dataset,
                       os.path.join(raw_root, SKELETON_DIR))

    options = dict(dataset=dataset, modalities=modalities,
                   max_bodies=max_bodies, select=select,
                   video_backend=video_backend, ntu25_2d=ntu25_2d)
    job = functools.partial(
        _build_sample_job, raw_root=raw_root,
        missing=frozenset(listed_missing),
        cache_dir=None if cache_dir is None else os.fspath(cache_dir),
        options=options)

    annotations, without_bodies = [], []
    for name, (ann, has_bodies) in _run_jobs(job, names, num_workers):
        if name not in missing and not has_bodies:
            without_bodies.append(name)
            if not keep_missing_skeletons:
                continue
        annotations.append(ann)
    if without_bodies:
        logger.warning(
            '%d samples have no body in their skeleton file%s: %s',
            len(without_bodies),
            '' if keep_missing_skeletons else ' and were left out',
            ', '.join(without_bodies[:10])
            + (' ...' if len(without_bodies) > 10 else ''))

    kept = [ann['frame_dir'] for ann in annotations]
    data = dict(
        split=make_splits(kept, dataset),
        annotations=annotations,
        meta=dict(dataset=dataset, raw_root=raw_root,
                  modalities=list(modalities), keypoint_source='ntu_color'))
    atomic_pickle_dump(data, out_file)
    logger.info('wrote %d annotations to %s', len(annotations), out_file)
    return data


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build the annotation pkl of NTU RGB+D 60/120 '
        '(docs/data_format.md).')
    parser.add_argument('--raw-root', required=True,
                        help='folder holding nturgb+d_skeletons etc.')
    parser.add_argument('--dataset', choices=('ntu60', 'ntu120'),
                        default='ntu60')
    parser.add_argument('--out', required=True, help='output .pkl')
    parser.add_argument('--modalities', nargs='+', choices=MODALITIES,
                        default=list(MODALITIES))
    parser.add_argument('--keep-missing-skeletons', action='store_true',
                        help='keep the official missing-skeleton samples '
                        '(without keypoints)')
    parser.add_argument('--num-workers', type=int, default=None,
                        help='processes (default: CPU count; 0 = in-process)')
    parser.add_argument('--max-bodies', type=int, default=2)
    parser.add_argument('--select', choices=('motion', 'order'),
                        default='motion',
                        help='how to choose the kept bodies')
    parser.add_argument('--video-backend', choices=('auto', 'decord', 'cv2'),
                        default='auto')
    parser.add_argument('--cache-dir', default=None,
                        help='per-sample cache, so that an interrupted run '
                        'resumes where it stopped')
    parser.add_argument('--ntu25-2d', action='store_true',
                        help='also store all 25 NTU joints in 2D RGB pixel '
                        'coordinates (keypoint_ntu25; for ROI mosaics with '
                        "layout='ntu25')")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(message)s')
    try:
        build_annotations(
            args.raw_root, args.out, dataset=args.dataset,
            modalities=args.modalities,
            keep_missing_skeletons=args.keep_missing_skeletons,
            num_workers=args.num_workers, max_bodies=args.max_bodies,
            select=args.select, video_backend=args.video_backend,
            cache_dir=args.cache_dir, ntu25_2d=args.ntu25_2d)
    except (AnnotationBuildError, FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
