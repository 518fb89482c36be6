"""Build the annotation pkl of NTU RGB+D 60 / 120 (or the synthetic dataset).

Usage, from the repository root::

    python -m data_prep.ntu.build_annotations --raw-root data/ntu_raw \\
        --dataset ntu60 --out data/ntu60_annotations.pkl

The samples are the union of the ``nturgb+d_skeletons/*.skeleton`` files and
the files of the requested modalities (``nturgb+d_rgb/*_rgb.avi``,
``nturgb+d_depth_masked/<name>/``, ``nturgb+d_ir/*_ir.avi``), setups 1-17
for ``ntu60``, all for ``ntu120``; how many samples lack each of them is
reported. For each sample the skeleton is read, every requested modality file
is probed (real decodable frame count and size) and one annotation is made,
in the layout of ``docs/data_format.md``:

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

Samples without a usable skeleton are left out unless
``keep_missing_skeletons`` (``--keep-missing-skeletons``); kept, they carry
no keypoint fields (for RGB / depth / IR-only models). These are the samples
of the official missing-skeleton list, samples without a ``.skeleton`` file
and skeleton files that list no body at all. Without a skeleton,
``total_frames`` is the frame count of the depth folder, else of the IR
video, else of the RGB video: depth, IR and skeleton all come from Kinect's
depth sensor and share its frames, RGB is a separate camera with its own
clock.

Frame counts. Every modality is probed for the frames that really decode:
a video's last frame claimed by its container must decode (one seek and one
decode; if it does not, the last decodable frame is searched for), a depth
folder counts its consecutive ``MDepth-%08d.png`` frames and its last PNG
must decode. Training maps every modality onto the ``total_frames`` clock
(the skeleton's frame count), so each count is compared with it: a count
``n`` is accepted when ``|n - total_frames| <= max(frame_tolerance,
frame_tolerance_fraction * total_frames)`` (default ``max(2, 5%)``), and a
difference within that is recorded in the annotation
(``frame_mismatch = {modality: (n, total_frames)}``) and counted in the
summary; a larger one (a truncated video, deleted depth frames) is an
:class:`AnnotationBuildError` naming the sample, the file and both counts.
Why this default: the synthetic generator writes exactly ``total_frames``
frames into every modality (all differences are 0), and in real NTU RGB+D
depth, IR and skeleton share one sensor clock while the RGB camera runs on
its own, so its count can differ by a frame or two; a few percent covers
that, while a cut or truncated file (tens of percent) is caught. Both
bounds are command line options (``--frame-tolerance``,
``--frame-tolerance-fraction``).

Bad samples. By default the first bad sample (malformed skeleton,
unreadable modality file, frame count beyond the tolerance) stops the build
with an :class:`AnnotationBuildError` naming it, and no pkl is written. With
``skip_bad`` (``--skip-bad``) bad samples are left out, counted, listed with
their reason in ``meta['skipped']`` and printed at the end, and the pkl is
written with the rest (``meta['skipped']`` is empty without bad samples).
``--cache-dir`` caches only successful samples, so a bad sample is probed
again on the next run (and picked up once its files are fixed).

At the end a summary is logged and stored in ``meta['summary']``: samples
found, kept, how many lack each modality, left
out (and why), frame-count mismatches within the tolerance, samples
rejected.
"""
from __future__ import annotations

import argparse
import functools
import logging
import os
import re
import sys

import numpy as np

from ..common import (FRAME_TOLERANCE, FRAME_TOLERANCE_FRACTION,  # noqa: F401
                      AnnotationBuildError, FrameCountMismatchError,
                      ModalityFileError, add_frame_tolerance_arguments,
                      allowed_frame_difference, cached_job, check_frame_count,
                      file_stamp, probe_video, run_cli, run_jobs, some,
                      write_annotations)
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
#: Without a skeleton, the modality whose frame count is ``total_frames``:
#: the first present of these (depth / IR share the skeleton's sensor).
CLOCK_PRIORITY = ('depth', 'ir', 'rgb')


# --------------------------------------------------------------------------
# Probing modality files
# --------------------------------------------------------------------------
def modality_path(modality: str, name: str) -> str:
    """Path of a sample's modality file/folder, relative to the raw root."""
    folder, pattern = MODALITY_PATHS[modality]
    return f'{folder}/{pattern.format(name=name)}'


def _read_depth_png(path):
    import cv2
    image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ModalityFileError(f'{path}: unreadable PNG')
    if image.ndim != 2 or image.dtype != np.uint16:
        raise ModalityFileError(
            f'{path}: expected a single-channel 16-bit depth PNG, got '
            f'dtype {image.dtype} and shape {image.shape}')
    return image


def probe_depth_folder(path):
    """Returns ``(number of frames, (H, W))`` of a masked-depth folder.

    The folder must hold ``MDepth-00000001.png`` ... ``MDepth-%08d.png``
    numbered without gaps; the first and the last frame must decode as
    single-channel 16-bit PNGs of the same size. Frames missing at the end
    cannot be seen here: the caller compares the count with the skeleton's.

    Raises:
        ModalityFileError: no frames, a gap in the numbering, or an
            unreadable first or last frame.
    """
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
    image = _read_depth_png(os.path.join(path, 'MDepth-00000001.png'))
    if len(numbers) > 1:
        last_path = os.path.join(path, f'MDepth-{len(numbers):08d}.png')
        last = _read_depth_png(last_path)
        if last.shape != image.shape:
            raise ModalityFileError(
                f'{last_path}: {last.shape[1]}x{last.shape[0]} while the '
                f'first frame is {image.shape[1]}x{image.shape[0]}')
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
    return file_stamp(raw_root, [f'{SKELETON_DIR}/{name}.skeleton'] + [
        modality_path(m, name) for m in modalities])


def build_sample(name: str, raw_root, dataset: str = 'ntu60',
                 modalities=MODALITIES, use_skeleton: bool = True,
                 max_bodies: int = 2, select: str = 'motion',
                 video_backend: str = 'auto', ntu25_2d: bool = False,
                 frame_tolerance: int = FRAME_TOLERANCE,
                 frame_tolerance_fraction: float = FRAME_TOLERANCE_FRACTION):
    """The annotation of one sample.

    Args:
        use_skeleton: False for samples without a usable skeleton (the
            official missing-skeleton list, no ``.skeleton`` file): keypoint
            fields are left out, and ``total_frames`` comes from the
            skeleton file if it can be read, else from the modalities
            (:data:`CLOCK_PRIORITY`).
        ntu25_2d: add ``keypoint_ntu25`` / ``keypoint_ntu25_score``.
        frame_tolerance, frame_tolerance_fraction: how far a modality's
            frame count may be from ``total_frames``
            (:func:`allowed_frame_difference`); a difference within it is
            recorded in ``ann['frame_mismatch']``.

    Returns:
        tuple: ``(annotation, has_bodies)``; ``has_bodies`` is False when the
        skeleton file lists no body at all, or is not used (then no keypoint
        fields either).

    Raises:
        AnnotationBuildError: naming the sample and the file at fault;
            :class:`FrameCountMismatchError` when a modality's frame count
            is beyond the tolerance.
    """
    raw_root = os.fspath(raw_root)
    info = parse_sample_name(name)
    num_classes = check_dataset(dataset)['num_classes']
    if info['action'] > num_classes:
        raise AnnotationBuildError(
            f'sample {name}: action {info["action"]} is not an {dataset} '
            f'class (1..{num_classes})')
    ann = dict(frame_dir=name, label=info['action'] - 1)

    num_frames, shapes, paths = {}, {}, {}
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
        paths[modality] = path

    skeleton_file = os.path.join(raw_root, SKELETON_DIR, f'{name}.skeleton')
    try:
        seq = read_skeleton(skeleton_file)
    except (ValueError, OSError) as error:
        if use_skeleton or not num_frames:
            raise AnnotationBuildError(
                f'sample {name}: skeleton {error}') from None
        seq = None  # no usable skeleton file: use the videos' clock

    if seq is not None:
        clock, total_frames = 'skeleton', seq.num_frames
    else:
        clock = next(m for m in CLOCK_PRIORITY if m in num_frames)
        total_frames = num_frames[clock]
    mismatch = {}
    for modality, count in num_frames.items():
        pair = check_frame_count(name, modality, paths[modality], count,
                                 total_frames, clock, frame_tolerance,
                                 frame_tolerance_fraction)
        if pair is not None:
            mismatch[modality] = pair

    image_shape = shapes.get('rgb', NTU_COLOR_SHAPE)
    ann['total_frames'] = total_frames
    ann['img_shape'] = tuple(image_shape)
    ann['original_shape'] = tuple(image_shape)
    ann['num_frames'] = num_frames
    ann['modality_shapes'] = shapes
    if mismatch:
        ann['frame_mismatch'] = mismatch

    has_bodies = use_skeleton and seq is not None and len(seq.bodies) > 0
    if has_bodies:
        ann.update(skeleton_keypoints(seq, image_shape, max_bodies, select,
                                      ntu25_2d))
    return ann, has_bodies


def _build_sample_job(name, raw_root, missing, cache_dir, options,
                      skip_bad=False):
    """Pool worker: one sample, through the cache when there is one.

    ``missing``: the samples to build without skeleton. Returns
    ``(name, (annotation, has_bodies), None)``; see :func:`common.cached_job`.
    """
    use_skeleton = name not in missing
    stamp = (raw_root, options, use_skeleton,
             _source_stamp(raw_root, name, options['modalities']))
    return cached_job(
        name, functools.partial(build_sample, name, raw_root,
                                use_skeleton=use_skeleton, **options),
        stamp, cache_dir, skip_bad)


# --------------------------------------------------------------------------
# The whole dataset
# --------------------------------------------------------------------------
#: modality -> (folder under raw_root, suffix of its entries, is a folder)
_LISTED_ENTRIES = {
    'skeleton': (SKELETON_DIR, '.skeleton', False),
    'rgb': (MODALITY_PATHS['rgb'][0], '_rgb.avi', False),
    'depth': (MODALITY_PATHS['depth'][0], '', True),
    'ir': (MODALITY_PATHS['ir'][0], '_ir.avi', False),
}


def scan_samples(raw_root, dataset: str = 'ntu60',
                 modalities=MODALITIES) -> dict:
    """Which files each sample of a dataset has under ``raw_root``.

    The samples are the union over the skeleton folder and the folders of
    ``modalities`` (``nturgb+d_rgb/*_rgb.avi``, ``nturgb+d_depth_masked/
    <name>/``, ``nturgb+d_ir/*_ir.avi``); ntu60 takes setups 1-17, ntu120
    every setup there is.

    Returns:
        dict: sample name -> frozenset of what it has, among ``'skeleton'``
        and ``modalities``; sorted by name.

    Raises:
        FileNotFoundError: none of these folders exists.
    """
    max_setup = check_dataset(dataset)['max_setup']
    if dataset == 'ntu120':
        max_setup = None
    raw_root = os.fspath(raw_root)
    present = {}
    folders = []
    for what in ('skeleton',) + tuple(modalities):
        folder, suffix, is_folder = _LISTED_ENTRIES[what]
        folder = os.path.join(raw_root, folder)
        if not os.path.isdir(folder):
            continue
        folders.append(folder)
        for entry in os.scandir(folder):
            if (entry.name.startswith('.') or entry.is_dir() != is_folder
                    or not entry.name.endswith(suffix)):
                continue  # temporaries, other files
            name = entry.name[:len(entry.name) - len(suffix)]
            try:
                info = parse_sample_name(name)
            except ValueError:
                logger.warning('ignoring %s: not an NTU sample name',
                               entry.path)
                continue
            if max_setup is None or info['setup'] <= max_setup:
                present.setdefault(name, set()).add(what)
    if not folders:
        expected = ', '.join(
            _LISTED_ENTRIES[what][0]
            for what in ('skeleton',) + tuple(modalities))
        raise FileNotFoundError(
            f'no NTU folder under {raw_root} (expected {expected})')
    if not os.path.isdir(os.path.join(raw_root, SKELETON_DIR)):
        logger.warning('no skeleton folder %s: no sample has a skeleton',
                       os.path.join(raw_root, SKELETON_DIR))
    return {name: frozenset(present[name]) for name in sorted(present)}


def list_samples(raw_root, dataset: str = 'ntu60',
                 modalities=MODALITIES) -> list[str]:
    """Names of a dataset's samples, sorted (see :func:`scan_samples`)."""
    return list(scan_samples(raw_root, dataset, modalities))


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


#: Why samples are left out: summary key -> how the log says it.
LEFT_OUT_REASONS = {
    'missing_skeleton_list': 'are on the official missing-skeleton list',
    'no_skeleton_file': 'have no .skeleton file',
    'no_bodies': 'have no body in their skeleton file',
    'bad': 'are bad (--skip-bad)',
}


def _log_summary(summary, left_out, skipped, mismatched, keep_missing):
    """Logs the end-of-build summary (see :func:`build_annotations`)."""
    lacking = ', '.join(f'{what} {count}' for what, count
                        in summary['lacking'].items() if count)
    logger.info('%d samples found, %d kept%s', summary['found'],
                summary['kept'],
                f'; samples lacking a modality: {lacking}' if lacking else '')
    for reason, text in LEFT_OUT_REASONS.items():
        names = [n for n, r in left_out.items() if r == reason]
        if not names or reason == 'bad':
            continue
        hint = ('' if keep_missing else ' (keep them, without keypoints, '
                'with --keep-missing-skeletons)')
        logger.warning('left out %d samples that %s%s: %s', len(names), text,
                       hint, some(names))
    if summary['kept_without_keypoints']:
        logger.info('%d kept samples have no keypoint fields (no usable '
                    'skeleton)', summary['kept_without_keypoints'])
    counts = summary['frame_mismatch']
    if counts['within_tolerance']:
        logger.info('%d samples have a modality whose frame count differs '
                    'from total_frames within the tolerance (recorded in '
                    "their 'frame_mismatch'): %s",
                    counts['within_tolerance'], some(mismatched))
    if counts['rejected']:
        logger.warning('%d samples rejected: a frame count beyond the '
                       'tolerance', counts['rejected'])
    if skipped:
        logger.warning('skipped %d bad samples (--skip-bad):\n%s',
                       len(skipped), '\n'.join(skipped.values()))


def build_annotations(raw_root, out_file, dataset: str = 'ntu60',
                      modalities=MODALITIES,
                      keep_missing_skeletons: bool = False,
                      num_workers: int | None = None, max_bodies: int = 2,
                      select: str = 'motion', video_backend: str = 'auto',
                      cache_dir=None, ntu25_2d: bool = False,
                      skip_bad: bool = False,
                      frame_tolerance: int = FRAME_TOLERANCE,
                      frame_tolerance_fraction: float =
                      FRAME_TOLERANCE_FRACTION) -> dict:
    """Converts an NTU raw tree into one annotation pkl.

    Args:
        raw_root: folder with ``nturgb+d_skeletons``, ``nturgb+d_rgb``,
            ``nturgb+d_depth_masked``, ``nturgb+d_ir``.
        out_file: the pkl to write (atomically).
        dataset: ``'ntu60'`` (setups 1-17, splits xsub/xview) or
            ``'ntu120'`` (all setups, splits xsub/xset).
        modalities: which of ``'rgb'``, ``'depth'``, ``'ir'`` to probe (and
            to list samples from); a sample without the file simply lacks
            that modality's keys.
        keep_missing_skeletons: keep the samples without a usable skeleton
            (official missing-skeleton list, no ``.skeleton`` file, no body
            in it), without keypoint fields, instead of leaving them out.
        num_workers: processes (default: CPU count); 0 or 1 runs in-process.
        max_bodies: bodies kept per sample (``M``).
        select: ``'motion'`` or ``'order'``, see :func:`skeleton.to_arrays`.
        video_backend: ``'auto'``, ``'decord'`` or ``'cv2'``.
        cache_dir: if given, each sample's annotation is kept there and
            reused by a later run while its input files and the options are
            unchanged (bad samples are not cached).
        ntu25_2d: also store all 25 NTU joints in 2D RGB pixel coordinates
            (``keypoint_ntu25`` ``[M, T, 25, 2]``, ``keypoint_ntu25_score``).
        skip_bad: leave bad samples out (listed with their reason in
            ``meta['skipped']``) instead of stopping at the first.
        frame_tolerance, frame_tolerance_fraction: a modality's frame count
            may differ from ``total_frames`` by
            ``max(frame_tolerance, frame_tolerance_fraction * total_frames)``
            frames (recorded in ``frame_mismatch``); more is an error.

    Returns:
        The dict written to ``out_file``.

    Raises:
        AnnotationBuildError: (without ``skip_bad``) a sample's skeleton is
            malformed, one of its modality files is unreadable, or its frame
            count is beyond the tolerance (the message names sample and
            file).
        FileNotFoundError: no NTU folder under ``raw_root``, or no skeleton
            folder while skeleton-less samples are not kept.
    """
    check_dataset(dataset)
    modalities = tuple(modalities)
    unknown = [m for m in modalities if m not in MODALITY_PATHS]
    if unknown:
        raise ValueError(f'unknown modalities {unknown}; choose from '
                         f'{list(MODALITY_PATHS)}')
    if frame_tolerance < 0 or not 0 <= frame_tolerance_fraction < 1:
        raise ValueError(
            f'frame_tolerance must be >= 0 and frame_tolerance_fraction in '
            f'[0, 1), got {frame_tolerance} and {frame_tolerance_fraction}')
    raw_root = os.path.abspath(os.fspath(raw_root))
    if num_workers is None:
        num_workers = os.cpu_count() or 1

    presence = scan_samples(raw_root, dataset, modalities)
    names = list(presence)
    skeleton_dir = os.path.join(raw_root, SKELETON_DIR)
    if not keep_missing_skeletons and not os.path.isdir(skeleton_dir):
        raise FileNotFoundError(
            f'no skeleton folder {skeleton_dir} (expected <raw_root>/'
            f'{SKELETON_DIR}/*.skeleton); to build annotations without '
            f'skeletons use --keep-missing-skeletons')
    logger.info('%s: %d samples under %s', dataset, len(names), raw_root)
    if not names:
        logger.warning('no %s sample found in %s', dataset, raw_root)
    lacking = {what: sum(what not in have for have in presence.values())
               for what in ('skeleton',) + modalities}

    # samples without a usable skeleton: built without keypoints, if kept
    official = missing_skeleton_samples(dataset)
    left_out, without_skeleton = {}, set()
    for name in names:
        if name in official:
            reason = 'missing_skeleton_list'
        elif 'skeleton' not in presence[name]:
            reason = 'no_skeleton_file'
        else:
            continue
        without_skeleton.add(name)
        if not keep_missing_skeletons:
            left_out[name] = reason
    todo = [name for name in names if name not in left_out]

    options = dict(dataset=dataset, modalities=modalities,
                   max_bodies=max_bodies, select=select,
                   video_backend=video_backend, ntu25_2d=ntu25_2d,
                   frame_tolerance=frame_tolerance,
                   frame_tolerance_fraction=frame_tolerance_fraction)
    job = functools.partial(
        _build_sample_job, raw_root=raw_root,
        missing=frozenset(without_skeleton),
        cache_dir=None if cache_dir is None else os.fspath(cache_dir),
        options=options, skip_bad=skip_bad)

    annotations, skipped, mismatched, rejected = [], {}, [], 0
    for name, result, error in run_jobs(job, todo, num_workers):
        if error is not None:  # only with skip_bad
            skipped[name] = str(error)
            left_out[name] = 'bad'
            rejected += isinstance(error, FrameCountMismatchError)
            continue
        ann, has_bodies = result
        if name not in without_skeleton and not has_bodies:
            if not keep_missing_skeletons:
                left_out[name] = 'no_bodies'
                continue
        annotations.append(ann)
        if 'frame_mismatch' in ann:
            mismatched.append(name)

    summary = dict(
        found=len(names), kept=len(annotations), lacking=lacking,
        left_out={reason: sum(r == reason for r in left_out.values())
                  for reason in LEFT_OUT_REASONS},
        kept_without_keypoints=sum('keypoint' not in ann
                                   for ann in annotations),
        frame_mismatch=dict(within_tolerance=len(mismatched),
                            rejected=rejected))
    _log_summary(summary, left_out, skipped, mismatched,
                 keep_missing_skeletons)

    kept = [ann['frame_dir'] for ann in annotations]
    meta = dict(dataset=dataset, raw_root=raw_root,
                modalities=list(modalities), keypoint_source='ntu_color',
                summary=summary, skipped=skipped)
    return write_annotations(out_file, make_splits(kept, dataset),
                             annotations, meta)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build the annotation pkl of NTU RGB+D 60/120 '
        '(docs/data_format.md).')
    parser.add_argument('--raw-root', required=True,
                        help='folder holding nturgb+d_skeletons etc.')
    parser.add_argument('--dataset', choices=('ntu60', 'ntu120'),
                        default='ntu60')
    parser.add_argument('--out', dest='out_file', metavar='PKL',
                        required=True, help='output .pkl')
    parser.add_argument('--modalities', nargs='+', choices=MODALITIES,
                        default=list(MODALITIES))
    parser.add_argument('--keep-missing-skeletons', action='store_true',
                        help='keep the samples without a usable skeleton '
                        '(official missing-skeleton list, no .skeleton file, '
                        'no body in it) without keypoint fields, e.g. for '
                        'RGB/depth-only models (without a .skeleton file, '
                        'total_frames is the depth, else IR, else RGB frame '
                        'count)')
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
    parser.add_argument('--skip-bad', action='store_true',
                        help='leave bad samples (malformed skeleton, '
                        'unreadable file, frame count beyond the tolerance) '
                        "out, list them in the pkl's meta['skipped'] and go "
                        'on; without it the first one stops the build')
    add_frame_tolerance_arguments(
        parser, 'the skeleton frame count (total_frames)')
    return parser.parse_args(argv)


def main(argv=None):
    return run_cli(build_annotations, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
