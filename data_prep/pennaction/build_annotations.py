"""Build the annotation pkl of PennAction.

Usage, from the repository root::

    python -m data_prep.pennaction.build_annotations \\
        --raw-root data/Penn_Action --out data/pennaction_annotations.pkl

What is read. The download unpacked as it comes (``--raw-root`` is the
``Penn_Action`` folder, or the folder holding it)::

    Penn_Action/frames/0001/000001.jpg ...   the frames of sequence 0001
    Penn_Action/labels/0001.mat              its labels (MATLAB v5)

A sample is a sequence ``NNNN`` with both a label file and a frame folder;
a label file without a frame folder, or a frame folder without a label
file, is left out and reported (counted in ``meta['summary']['left_out']``,
named in ``meta['left_out']``). The label file's fields (dataset README):
``action`` (the class name, a char array), ``pose`` (coarse view, e.g.
``'back'``), ``x``, ``y`` (``[T, 13]`` pixels), ``visibility``
(``[T, 13]``, 1 = visible), ``train`` (1 = train, -1 = test), ``bbox``
(``[T, 4]``), ``dimensions`` (``[H W T]``) and ``nframes``.

What is written (``docs/data_format.md``), per sample:

* ``frame_dir`` ``'0001'``; ``label``: the index of ``action`` in
  :data:`CLASSES` (alphabetical; an unknown name is an error naming the
  ``.mat``).
* ``total_frames``: ``T``, the rows of ``x`` / ``y`` (the label clock);
  ``rgb_path`` ``'frames/0001'`` (relative to ``meta['raw_root']``, the
  ``Penn_Action`` folder), ``rgb_frames`` its image file names in frame
  order (numeric sort, numbers contiguous), ``num_frames['rgb']`` their
  count, ``img_shape`` / ``original_shape`` / ``modality_shapes['rgb']``
  the size of the frames.
* ``keypoint`` ``[1, T, 13, 2]`` float32: ``x``, ``y`` in pixels of the
  frames; ``keypoint_score`` ``[1, T, 13]``: ``visibility`` as 1.0 / 0.0.
  Joints whose ``x`` or ``y`` is NaN are stored as ``(0, 0)`` with score 0
  (the project's "missing" convention) and counted. Joint order
  (``meta['keypoint_layouts']['keypoint'] = 'pennaction13'``): 0 head,
  1 left shoulder, 2 right shoulder, 3 left elbow, 4 right elbow, 5 left
  wrist, 6 right wrist, 7 left hip, 8 right hip, 9 left knee, 10 right
  knee, 11 left ankle, 12 right ankle -- left / right pairs (1, 2), (3, 4)
  ... (11, 12), the flip pairs of
  ``configs/_base_/datasets/deformable_transformer_pennaction.py``.
* ``bbox`` ``[T, 4]`` float32 as the label file gives it; a ``bbox`` with
  another number of rows than ``T`` is cut to ``T`` rows, or completed with
  rows of NaN (no box), and counted. ``view``: the ``pose`` string.

Splits: ``'train'`` / ``'test'`` from each label file's ``train`` field
(the official protocol; the names the configs use).

Frame counts and bad input. The frame folder's images are counted and its
first and last image must decode (:func:`common.probe_frame_files`). That
count is compared with ``T`` and with ``nframes``
(:func:`common.check_frame_count`): a difference within
``max(frame_tolerance, frame_tolerance_fraction * T)`` frames (default
``max(2, 5%)``) is recorded in ``frame_mismatch`` (against ``T``); a larger
one is an :class:`~data_prep.common.FrameCountMismatchError` naming the
sample, the folder and both counts. An unreadable ``.mat``, a missing
field, ``x`` / ``y`` / ``visibility`` of different shapes or without 13
joints, a ``train`` value other than 1 / -1, an unknown action, an
unreadable first or last frame or a gap in the frame numbers are
:class:`~data_prep.common.AnnotationBuildError` naming the sample and the
file. Without ``--skip-bad`` the first bad sample stops the build and no
pkl is written; with it bad samples are left out and listed in
``meta['skipped']``. ``dimensions`` is checked against the frame size: the
order found (``[H W T]`` as the notes infer, or ``[W H T]``) is counted in
the summary, and a ``dimensions`` that matches neither is a warning (the
keypoints are in the pixels of the frames as they are).

At the end a summary is logged and stored in ``meta['summary']``: samples
found, kept, per split, left out (and why), frame-count differences within
the tolerance, NaN joints, bbox row mismatches, ``dimensions`` orders.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import sys

import numpy as np

from ..common import (FRAME_TOLERANCE, FRAME_TOLERANCE_FRACTION,
                      AnnotationBuildError, FrameCountMismatchError,
                      ModalityFileError, add_common_arguments,
                      add_frame_tolerance_arguments, allowed_frame_difference,
                      build_all, check_frame_count, file_stamp, natural_key,
                      probe_frame_files, run_cli, some, write_annotations)

logger = logging.getLogger(__name__)

#: The 15 actions, alphabetical; label = index.
CLASSES = ('baseball_pitch', 'baseball_swing', 'bench_press', 'bowl',
           'clean_and_jerk', 'golf_swing', 'jump_rope', 'jumping_jacks',
           'pullup', 'pushup', 'situp', 'squat', 'strum_guitar',
           'tennis_forehand', 'tennis_serve')
#: The 13 annotated joints, in the order of the label files' columns.
JOINTS = ('head', 'left_shoulder', 'right_shoulder', 'left_elbow',
          'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
          'right_hip', 'left_knee', 'right_knee', 'left_ankle',
          'right_ankle')
LAYOUT = 'pennaction13'
FRAMES_DIR, LABELS_DIR = 'frames', 'labels'
#: ``train`` field -> split name (the configs' splits).
SPLIT_OF_TRAIN_FLAG = {1: 'train', -1: 'test'}
SPLITS = ('train', 'test')
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png')
REQUIRED_FIELDS = ('action', 'x', 'y', 'visibility', 'train', 'nframes')
#: Why samples are left out: summary key -> how the log says it.
LEFT_OUT_REASONS = {
    'no_frames': 'have a label file but no frame folder',
    'no_label': 'have a frame folder but no label file',
    'bad': 'are bad (--skip-bad)',
}


# --------------------------------------------------------------------------
# Reading the raw files
# --------------------------------------------------------------------------
def find_dataset_root(raw_root) -> str:
    """The folder holding ``frames/`` and ``labels/``: ``raw_root`` itself
    or its ``Penn_Action`` subfolder.

    Raises:
        FileNotFoundError: neither holds a ``labels`` folder.
    """
    raw_root = os.path.abspath(os.fspath(raw_root))
    for root in (raw_root, os.path.join(raw_root, 'Penn_Action')):
        if os.path.isdir(os.path.join(root, LABELS_DIR)):
            return root
    raise FileNotFoundError(
        f'no PennAction labels folder under {raw_root} (expected '
        f'{LABELS_DIR}/NNNN.mat and {FRAMES_DIR}/NNNN/ there or in '
        f'{raw_root}/Penn_Action)')


def mat_string(value) -> str:
    """A MATLAB char array as loaded by ``scipy.io.loadmat`` (``array(
    ['bowl'], dtype='<U4')``, a 2D char matrix, or character codes) as a
    stripped string."""
    array = np.asarray(value)
    if array.dtype.kind in 'US':
        parts = [p.decode() if isinstance(p, bytes) else str(p)
                 for p in array.reshape(-1)]
        return ''.join(parts).strip()
    if array.dtype.kind in 'iuf' and array.size:
        return ''.join(map(chr, array.astype(np.int64).reshape(-1))).strip()
    if array.dtype == object and array.size == 1:
        return mat_string(array.reshape(-1)[0])
    raise ValueError(f'not a string: {value!r}')


def mat_scalar(value) -> float:
    """The number in a MATLAB scalar (``[[1]]``)."""
    array = np.asarray(value, dtype=np.float64).reshape(-1)
    if array.size != 1:
        raise ValueError(f'expected one number, got shape '
                         f'{np.shape(value)}')
    return float(array[0])


def read_label_file(path) -> dict:
    """The fields of a label ``.mat``.

    Returns:
        dict: ``action`` (str), ``view`` (str or None), ``x``, ``y``
        (float64 ``[T, 13]``), ``visibility`` (float64 ``[T, 13]``),
        ``train`` (1 or -1), ``nframes`` (int), ``bbox`` (float64
        ``[N, 4]`` or None), ``dimensions`` (float64 ``[3]`` or None).

    Raises:
        AnnotationBuildError: unreadable file, missing field or a field of
            the wrong shape or value (the message names the file).
    """
    from scipy.io import loadmat
    path = os.fspath(path)
    try:
        mat = loadmat(path)
    except NotImplementedError as error:  # v7.3 (HDF5)
        raise AnnotationBuildError(
            f'{path}: not a MATLAB v5 file ({error})') from None
    except Exception as error:  # scipy's MatReadError, ValueError, OSError
        raise AnnotationBuildError(
            f'{path}: unreadable label file ({type(error).__name__}: '
            f'{error})') from None
    missing = [field for field in REQUIRED_FIELDS if field not in mat]
    if missing:
        raise AnnotationBuildError(
            f'{path}: no field {", ".join(missing)} (fields: '
            f'{", ".join(k for k in mat if not k.startswith("__"))})')
    try:
        out = dict(action=mat_string(mat['action']),
                   view=mat_string(mat['pose']) if 'pose' in mat else None,
                   train=mat_scalar(mat['train']),
                   nframes=mat_scalar(mat['nframes']))
        for field in ('x', 'y', 'visibility'):
            out[field] = np.asarray(mat[field], np.float64)
        out['bbox'] = (np.asarray(mat['bbox'], np.float64)
                       if 'bbox' in mat else None)
        out['dimensions'] = (np.asarray(mat['dimensions'],
                                        np.float64).reshape(-1)
                             if 'dimensions' in mat else None)
    except (TypeError, ValueError) as error:
        raise AnnotationBuildError(f'{path}: {error}') from None
    shapes = {f: out[f].shape for f in ('x', 'y', 'visibility')}
    if (len(set(shapes.values())) != 1 or out['x'].ndim != 2
            or out['x'].shape[1] != len(JOINTS)):
        raise AnnotationBuildError(
            f'{path}: x, y and visibility must be [T, {len(JOINTS)}] '
            f'arrays of one shape, got {shapes}')
    if out['train'] not in SPLIT_OF_TRAIN_FLAG:
        raise AnnotationBuildError(
            f'{path}: train must be 1 (train) or -1 (test), got '
            f'{out["train"]:g}')
    out['train'] = int(out['train'])
    if out['nframes'] != int(out['nframes']) or out['nframes'] < 0:
        raise AnnotationBuildError(
            f'{path}: nframes must be a count, got {out["nframes"]:g}')
    out['nframes'] = int(out['nframes'])
    if out['bbox'] is not None and (out['bbox'].ndim != 2
                                    or out['bbox'].shape[1] != 4):
        raise AnnotationBuildError(
            f'{path}: bbox must be [T, 4], got {out["bbox"].shape}')
    return out


def list_frame_files(folder) -> list[str]:
    """The image files of a frame folder in frame order (numeric sort).

    Raises:
        ModalityFileError: no image, or numbered names with a gap (a
            missing frame would shift every later one against the labels).
    """
    folder = os.fspath(folder)
    files = sorted((entry.name for entry in os.scandir(folder)
                    if entry.is_file()
                    and entry.name.lower().endswith(IMAGE_SUFFIXES)),
                   key=natural_key)
    if not files:
        raise ModalityFileError(f'{folder}: no frame images '
                                f'({"/".join(IMAGE_SUFFIXES)})')
    numbers = [re.fullmatch(r'\D*(\d+)', os.path.splitext(name)[0])
               for name in files]
    if all(numbers):
        numbers = [int(match.group(1)) for match in numbers]
        expected = range(numbers[0], numbers[0] + len(numbers))
        if numbers != list(expected):
            missing = sorted(set(range(numbers[0], numbers[-1] + 1))
                             - set(numbers))
            raise ModalityFileError(
                f'{folder}: frame numbers {numbers[0]}..{numbers[-1]} have '
                f'gaps (missing {missing[:5]}'
                f'{" ..." if len(missing) > 5 else ""}) or repeats')
    return files


# --------------------------------------------------------------------------
# One sample
# --------------------------------------------------------------------------
def label_path(name: str) -> str:
    return f'{LABELS_DIR}/{name}.mat'


def frame_folder(name: str) -> str:
    return f'{FRAMES_DIR}/{name}'


def joint_arrays(labels: dict):
    """``(keypoint [1, T, 13, 2], keypoint_score [1, T, 13], NaN joint
    count)`` from the label fields; NaN joints are ``(0, 0)``, score 0."""
    keypoint = np.stack([labels['x'], labels['y']], -1)[None]
    score = (np.nan_to_num(labels['visibility'], nan=0.) > 0)[None]
    nan = np.isnan(keypoint).any(-1)
    keypoint[nan] = 0.
    score = score & ~nan
    return (keypoint.astype(np.float32), score.astype(np.float32),
            int(nan.sum()))


def fit_rows(array: np.ndarray, rows: int) -> np.ndarray:
    """``array`` cut to ``rows`` rows or completed with rows of NaN."""
    if len(array) >= rows:
        return array[:rows]
    pad = np.full((rows - len(array), ) + array.shape[1:], np.nan)
    return np.concatenate([array, pad])


def dimensions_order(dimensions, image_shape) -> str:
    """``'HWT'``, ``'WHT'``, ``'other'`` (neither) or ``'absent'``: how
    ``dimensions`` gives the frame size ``(H, W)``."""
    if dimensions is None or len(dimensions) < 2:
        return 'absent'
    if not np.isfinite(dimensions[:2]).all():
        return 'other'
    first = (int(round(dimensions[0])), int(round(dimensions[1])))
    if first == tuple(image_shape):
        return 'HWT'
    if first == tuple(image_shape)[::-1]:
        return 'WHT'
    return 'other'


def build_sample(name: str, root: str,
                 frame_tolerance: int = FRAME_TOLERANCE,
                 frame_tolerance_fraction: float = FRAME_TOLERANCE_FRACTION):
    """The annotation of sequence ``name`` (``'0001'``).

    Returns:
        tuple: ``(annotation, split, stats)``; ``split`` is ``'train'`` or
        ``'test'``, ``stats`` the sample's counts for the summary
        (``nan_joints``, ``bbox_rows`` (None when they match ``T``),
        ``dimensions`` order).

    Raises:
        AnnotationBuildError: naming the sample and the file at fault;
            :class:`~data_prep.common.FrameCountMismatchError` when the
            frame count is beyond the tolerance of ``T`` or ``nframes``.
    """
    mat_file = os.path.join(root, label_path(name))
    try:
        labels = read_label_file(mat_file)
    except AnnotationBuildError as error:
        raise AnnotationBuildError(f'sample {name}: {error}') from None
    if labels['action'] not in CLASSES:
        raise AnnotationBuildError(
            f'sample {name}: {mat_file}: unknown action '
            f'{labels["action"]!r}; PennAction has {", ".join(CLASSES)}')

    folder = os.path.join(root, frame_folder(name))
    try:
        files = list_frame_files(folder)
        count, image_shape = probe_frame_files(folder, files)
    except (ModalityFileError, OSError) as error:
        raise AnnotationBuildError(f'sample {name}: rgb {error}') from None

    total_frames = labels['x'].shape[0]
    if total_frames < 1:
        raise AnnotationBuildError(f'sample {name}: {mat_file}: x and y '
                                   f'have no row (no frame)')
    mismatch = check_frame_count(name, 'rgb', folder, count, total_frames,
                                 'label (x / y rows)', frame_tolerance,
                                 frame_tolerance_fraction)
    nframes = labels['nframes']
    allowed = allowed_frame_difference(nframes, frame_tolerance,
                                       frame_tolerance_fraction)
    if abs(count - nframes) > allowed:
        raise FrameCountMismatchError(
            f'sample {name}: rgb {folder} has {count} frames but the label '
            f'file {mat_file} says nframes = {nframes}: {count - nframes:+d} '
            f'frames, beyond the tolerance of {allowed:g} '
            f'(--frame-tolerance, --frame-tolerance-fraction)')

    keypoint, score, nan_joints = joint_arrays(labels)
    ann = dict(frame_dir=name, label=CLASSES.index(labels['action']),
               total_frames=total_frames, img_shape=tuple(image_shape),
               original_shape=tuple(image_shape), num_frames=dict(rgb=count),
               modality_shapes=dict(rgb=tuple(image_shape)),
               rgb_path=frame_folder(name), rgb_frames=files,
               keypoint=keypoint, keypoint_score=score)
    if mismatch is not None:
        ann['frame_mismatch'] = dict(rgb=mismatch)
    bbox_rows = None
    if labels['bbox'] is not None:
        if len(labels['bbox']) != total_frames:
            bbox_rows = len(labels['bbox'])
        ann['bbox'] = fit_rows(labels['bbox'], total_frames).astype(
            np.float32)
    if labels['view'] is not None:
        ann['view'] = labels['view']
    split = SPLIT_OF_TRAIN_FLAG[labels['train']]
    stats = dict(nan_joints=nan_joints, bbox_rows=bbox_rows,
                 dimensions=dimensions_order(labels['dimensions'],
                                             image_shape))
    return ann, split, stats


def sample_stamp(name, root, frame_tolerance, frame_tolerance_fraction):
    """The cache stamp: the options and the sample's input files."""
    return (frame_tolerance, frame_tolerance_fraction,
            file_stamp(root, [label_path(name), frame_folder(name)]))


# --------------------------------------------------------------------------
# The dataset
# --------------------------------------------------------------------------
def _names(folder, suffix='', dirs=False):
    if not os.path.isdir(folder):
        return set()
    return {entry.name[:len(entry.name) - len(suffix)]
            for entry in os.scandir(folder)
            if (entry.is_dir() if dirs else entry.is_file())
            and entry.name.endswith(suffix) and not entry.name.startswith('.')}


def scan_samples(root):
    """``(names, left_out)``: the sequences with a label file and a frame
    folder (sorted), and ``{name: 'no_frames' | 'no_label'}`` of the
    unpaired ones."""
    labels = _names(os.path.join(root, LABELS_DIR), '.mat')
    frames = _names(os.path.join(root, FRAMES_DIR), dirs=True)
    left_out = {n: 'no_frames' for n in labels - frames}
    left_out.update({n: 'no_label' for n in frames - labels})
    return sorted(labels & frames, key=natural_key), dict(
        sorted(left_out.items(), key=lambda item: natural_key(item[0])))


def _log_summary(summary, left_out, mismatched):
    logger.info('%d sequences found, %d kept (train %d, test %d)',
                summary['found'], summary['kept'], summary['split']['train'],
                summary['split']['test'])
    for reason, text in LEFT_OUT_REASONS.items():
        names = [n for n, r in left_out.items() if r == reason]
        if names and reason != 'bad':  # build_all logged the bad ones
            logger.warning('left out %d sequences that %s: %s', len(names),
                           text, some(names))
    if mismatched:
        logger.info('%d sequences have a frame count that differs from '
                    "their labels' within the tolerance (recorded in "
                    "'frame_mismatch'): %s", len(mismatched),
                    some(mismatched))
    nan = summary['nan_joints']
    if nan['joints']:
        logger.warning('%d joints of %d sequences have NaN x / y: stored as '
                       '(0, 0) with keypoint_score 0', nan['joints'],
                       nan['samples'])
    if summary['bbox_rows_mismatch']:
        logger.warning('%d sequences have a bbox with another number of rows '
                       'than x / y: cut, or completed with NaN rows',
                       summary['bbox_rows_mismatch'])
    orders = summary['dimensions']
    logger.info("label field 'dimensions' found as %s",
                ', '.join(f'{order} in {count}' for order, count
                          in orders.items() if count) or 'nothing')
    if orders['other']:
        logger.warning("%d sequences have a 'dimensions' that is not their "
                       'frame size (keypoints are taken as pixels of the '
                       'frames as they are)', orders['other'])


def build_annotations(raw_root, out_file, num_workers: int | None = None,
                      cache_dir=None, skip_bad: bool = False,
                      frame_tolerance: int = FRAME_TOLERANCE,
                      frame_tolerance_fraction: float =
                      FRAME_TOLERANCE_FRACTION) -> dict:
    """Converts the PennAction download into one annotation pkl.

    Args:
        raw_root: the ``Penn_Action`` folder (``frames/``, ``labels/``) or
            the folder holding it.
        out_file: the pkl to write (atomically).
        num_workers: processes (default: CPU count); 0 or 1 in-process.
        cache_dir: per-sample cache, reused while the sample's label file,
            frame folder and the options are unchanged.
        skip_bad: leave bad samples out (listed in ``meta['skipped']``)
            instead of stopping at the first.
        frame_tolerance, frame_tolerance_fraction: how far the frame count
            may be from ``T`` and ``nframes``.

    Returns:
        The dict written to ``out_file``.

    Raises:
        AnnotationBuildError: (without ``skip_bad``) a bad sample.
        FileNotFoundError: no ``labels`` folder under ``raw_root``.
    """
    if frame_tolerance < 0 or not 0 <= frame_tolerance_fraction < 1:
        raise ValueError(
            f'frame_tolerance must be >= 0 and frame_tolerance_fraction in '
            f'[0, 1), got {frame_tolerance} and {frame_tolerance_fraction}')
    root = find_dataset_root(raw_root)
    names, left_out = scan_samples(root)
    logger.info('PennAction: %d sequences with labels and frames under %s',
                len(names), root)
    if not names:
        logger.warning('no PennAction sequence found in %s', root)

    items = [(name, (name, root, frame_tolerance, frame_tolerance_fraction))
             for name in names]
    results, skipped = build_all(items, build_sample, sample_stamp,
                                 cache_dir, num_workers, skip_bad)
    left_out.update({name: 'bad' for name in skipped})

    annotations, splits, mismatched = [], {s: [] for s in SPLITS}, []
    nan = dict(samples=0, joints=0)
    bbox_rows, orders = 0, dict(HWT=0, WHT=0, other=0, absent=0)
    for ann, split, stats in results.values():
        annotations.append(ann)
        splits[split].append(ann['frame_dir'])
        if 'frame_mismatch' in ann:
            mismatched.append(ann['frame_dir'])
        nan['samples'] += stats['nan_joints'] > 0
        nan['joints'] += stats['nan_joints']
        bbox_rows += stats['bbox_rows'] is not None
        orders[stats['dimensions']] += 1

    summary = dict(
        found=len(names) + sum(r != 'bad' for r in left_out.values()),
        kept=len(annotations),
        split={s: len(members) for s, members in splits.items()},
        left_out={reason: sum(r == reason for r in left_out.values())
                  for reason in LEFT_OUT_REASONS},
        frame_mismatch=dict(within_tolerance=len(mismatched)),
        nan_joints=nan, bbox_rows_mismatch=bbox_rows, dimensions=orders)
    _log_summary(summary, left_out, mismatched)

    meta = dict(dataset='pennaction', raw_root=root, modalities=['rgb'],
                keypoint_source='pennaction_labels',
                keypoint_layouts=dict(keypoint=LAYOUT),
                class_names=list(CLASSES), summary=summary, skipped=skipped,
                left_out=left_out)
    return write_annotations(out_file, splits, annotations, meta)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build the annotation pkl of PennAction '
        '(docs/data_format.md).')
    parser.add_argument('--raw-root', required=True,
                        help='the Penn_Action folder (frames/, labels/) or '
                        'the folder holding it')
    parser.add_argument('--out', dest='out_file', metavar='PKL',
                        required=True, help='output .pkl')
    add_common_arguments(parser)
    add_frame_tolerance_arguments(
        parser, 'the label rows')
    return parser.parse_args(argv)


def main(argv=None):
    return run_cli(build_annotations, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
