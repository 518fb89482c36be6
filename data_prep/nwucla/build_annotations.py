"""Build the annotation pkl of NW-UCLA (Northwestern-UCLA Multiview Action3D).

Usage, from the repository root::

    python -m data_prep.nwucla.build_annotations \\
        --raw-root data/nwucla_raw/multiview_action \\
        --out data/nwucla_annotations.pkl

What is read. ``--raw-root`` is the extracted ``multiview_action`` folder
(or the folder holding it): ``view_{1,2,3}/aAA_sSS_eEE/``, one folder per
trimmed clip, with per-frame files ``frame_<n>_tc_<t>_rgb.jpg`` (640x480),
``frame_<n>_tc_<t>_depth.png`` (320x240), ``frame_<n>_tc_<t>_depth_vis.jpg``
(an 8-bit rendering of the depth) and ``frame_<n>_tc_<t>_skeletons.txt``;
anything else in a clip folder (``fileList.txt``) is ignored. ``<n>`` is not
zero-padded, so frames are ordered by the value of ``<n>``
(``frame_9`` < ``frame_10``); the timestamps ``<t>`` differ between the
modalities of one frame, so the modalities are paired by ``<n>``.

Frame policy. A clip's frames are the frame numbers that every requested
modality (``--modalities``, default rgb, depth and skeleton) has a file for;
``total_frames`` is their count, the clock all modalities share, and
``num_frames`` is the same for every modality. A frame number that some
modality lacks is dropped from all of them; how many files of each modality
were left out is recorded in the sample's ``dropped_frames`` (only when
some were) and in ``meta['summary']['dropped_frames']``. Dropping more than
``max(frame_tolerance, frame_tolerance_fraction * n)`` of the ``n`` frame
numbers the clip has in any modality (default ``max(2, 5%)``, the tolerance
of the NTU converter) is a :class:`FrameCountMismatchError` naming the
sample, the folder and the frames each modality lacks. A clip with no file
at all of a requested modality lacks that modality (no ``<m>_path`` /
``keypoint_3d``; counted in ``meta['summary']['lacking']``), as an NTU
sample without the modality's file does; the dataset's ``missing_modality``
decides what training does with it.

What is written (docs/data_format.md), per sample:

* ``frame_dir``: ``aAA_sSS_eEE_vVV``, e.g. ``a01_s01_e00_v01`` (the clip
  folder name and the view, since the same clip name occurs in every view);
* ``label``: the action ids 01, 02, 03, 04, 05, 06, 08, 09, 11, 12 -> 0-9 in
  that order (:data:`ACTIONS`, names in :data:`CLASS_NAMES`); another id is
  a bad sample;
* ``rgb_path`` / ``depth_path``: the clip folder, relative to
  ``meta['raw_root']`` (the folder holding ``view_*``), with
  ``rgb_frames`` / ``depth_frames``, the frame file names in frame order,
  which :class:`MultiModalDecode` reads. Depth is ``depth.png`` by default
  (``--depth-source png``: as stored; its dtype is probed and recorded in
  ``meta['depth_format']`` and logged, a warning says so when the PNGs
  turn out to be 8-bit) or ``depth_vis.jpg`` (``--depth-source vis``: what
  ActionMAE's loader reads). ``MultiModalDecode`` keeps the first channel
  of a multi-channel depth image; ``DepthToJet`` normalises each frame
  min-max, so either source is jet-coloured the same way;
* ``img_shape`` / ``original_shape``: the RGB (H, W) (Kinect v1's 480x640
  without RGB), ``modality_shapes`` {rgb, depth};
* ``keypoint_3d`` ``[1, T, 20, 3]`` float32: the Kinect v1 skeleton in
  camera space (metres), joint order :data:`JOINT_NAMES` (layout
  ``'kinect_v1_20'``, recorded in ``meta['keypoint_layouts']``), and
  ``keypoint_3d_score`` ``[1, T, 20]``: joint state 2 (tracked) -> 1.0, 1
  (inferred) -> 0.5, 0 -> 0. NW-UCLA has no 2D pixel keypoints: no
  ``keypoint`` is written (``meta['keypoint_source']`` is None); HRNet's
  COCO-17 come from ``python -m data_prep.pose_extraction``.

Skeleton files: one header line (a single number, meaning unknown; a first
line that is itself a joint line is taken as one, for copies without the
header), then 20 lines ``x,y,z,state`` (commas or blanks). A file with only
the header is a frame without a person: zeros with score 0 (the project's
"missing" convention), counted in ``meta['summary']['frames_without_person']``.
Any other joint count, a line without four numbers, a non-finite value or a
state other than 0/1/2 is an error naming the file.

Splits. NW-UCLA ships no split file: its protocol is by view, as the papers
state it (cross-view: train views 1 + 2, test view 3). ``xview_train`` /
``xview_val`` (the names of configs/_base_/datasets/nwucla_xview_rgbd.py)
hold those views, and ``view_1`` / ``view_2`` / ``view_3`` each view alone
(for the other train/test view combinations).

Bad samples (unknown action id, unreadable or odd-sized frame, malformed
skeleton file, duplicate frame number, frames dropped beyond the tolerance)
stop the build with an :class:`AnnotationBuildError` naming the sample and
the file, and no pkl is written; with ``--skip-bad`` they are left out,
listed with their reason in ``meta['skipped']``, counted in
``meta['summary']['left_out']['bad']`` and logged. Samples are built in
parallel (``--num-workers``), with a progress bar, cached per sample with
``--cache-dir`` (reused while the clip folder's files and the options are
unchanged), and the pkl is written atomically (``data_prep.common``).
"""
from __future__ import annotations

import argparse
import functools
import logging
import os
import re
import sys
from collections import Counter

import numpy as np

from ..common import (FRAME_TOLERANCE, FRAME_TOLERANCE_FRACTION,
                      AnnotationBuildError, FrameCountMismatchError,
                      ModalityFileError, add_common_arguments,
                      add_frame_tolerance_arguments, allowed_frame_difference,
                      build_all, check_splits, file_stamp, natural_key,
                      probe_frame_files, read_image, run_cli, some,
                      write_annotations)

logger = logging.getLogger(__name__)

DATASET_FOLDER = 'multiview_action'
#: the NW-UCLA action ids, in label order (label = index)
ACTIONS = (1, 2, 3, 4, 5, 6, 8, 9, 11, 12)
CLASS_NAMES = ('pick up with one hand', 'pick up with two hands',
               'drop trash', 'walk around', 'sit down', 'stand up',
               'donning', 'doffing', 'throw', 'carry')
LABEL_OF_ACTION = {action: label for label, action in enumerate(ACTIONS)}
VIEWS = (1, 2, 3)
#: cross-view protocol: split name -> views
XVIEW_SPLITS = {'xview_train': (1, 2), 'xview_val': (3, )}

VIEW_FOLDER = re.compile(r'view_(\d+)')
CLIP_FOLDER = re.compile(r'a(\d{2})_s(\d{2})_e(\d{2})')
SAMPLE_NAME = re.compile(r'a(\d{2})_s(\d{2})_e(\d{2})_v(\d{2})')
#: frame file -> (frame number, timestamp, kind)
FRAME_FILE = re.compile(
    r'frame_(\d+)_tc_(\d+)_(rgb\.jpg|depth\.png|depth_vis\.jpg|'
    r'skeletons\.txt)')
KIND_OF_SUFFIX = {'rgb.jpg': 'rgb', 'depth.png': 'depth',
                  'depth_vis.jpg': 'depth_vis', 'skeletons.txt': 'skeleton'}

MODALITIES = ('rgb', 'depth', 'skeleton')
IMAGE_MODALITIES = ('rgb', 'depth')
#: --depth-source -> the frame-file kind read as depth
DEPTH_SOURCES = {'png': 'depth', 'vis': 'depth_vis'}
#: (H, W) of Kinect v1's colour camera, img_shape of a clip without RGB
KINECT_V1_COLOR_SHAPE = (480, 640)

#: Kinect v1 joints in file order (layout 'kinect_v1_20' of
#: mmar_ext.datasets.skeleton_layouts; left / right: the subject's sides)
JOINT_NAMES = (
    'hip_center', 'spine', 'shoulder_center', 'head',
    'left_shoulder', 'left_elbow', 'left_wrist', 'left_hand',
    'right_shoulder', 'right_elbow', 'right_wrist', 'right_hand',
    'left_hip', 'left_knee', 'left_ankle', 'left_foot',
    'right_hip', 'right_knee', 'right_ankle', 'right_foot')
NUM_JOINTS = len(JOINT_NAMES)
KEYPOINT_LAYOUT = 'kinect_v1_20'
#: keypoint_3d_score of joint state 0 / 1 (inferred) / 2 (tracked)
SCORE_OF_STATE = np.array([0., 0.5, 1.], np.float32)


# --------------------------------------------------------------------------
# Names and folders
# --------------------------------------------------------------------------
def parse_sample_name(name: str) -> dict:
    """``'a01_s02_e03_v01'`` -> ``dict(action=1, subject=2, repetition=3,
    view=1)``.

    Raises:
        ValueError: not an NW-UCLA sample name.
    """
    match = SAMPLE_NAME.fullmatch(name)
    if match is None:
        raise ValueError(f'{name!r} is not an NW-UCLA sample name '
                         '(aAA_sSS_eEE_vVV)')
    action, subject, repetition, view = map(int, match.groups())
    return dict(action=action, subject=subject, repetition=repetition,
                view=view)


def find_dataset_root(raw_root) -> str:
    """The absolute folder holding ``view_*``: ``raw_root`` itself or its
    ``multiview_action`` folder.

    Raises:
        FileNotFoundError: neither holds a ``view_<n>`` folder.
    """
    raw_root = os.path.abspath(os.fspath(raw_root))
    for root in (raw_root, os.path.join(raw_root, DATASET_FOLDER)):
        if os.path.isdir(root) and any(
                VIEW_FOLDER.fullmatch(entry) for entry in os.listdir(root)):
            return root
    raise FileNotFoundError(
        f'no NW-UCLA view folder under {raw_root} (expected view_1, view_2, '
        f'view_3 in it or in {DATASET_FOLDER}/)')


def scan_clips(root) -> dict:
    """``{sample name: clip folder relative to root}`` of every clip folder
    ``view_<v>/aAA_sSS_eEE``, sorted by name; other entries are ignored
    with a warning."""
    clips, ignored = {}, []
    for view_entry in sorted(os.scandir(root), key=lambda e: e.name):
        match = VIEW_FOLDER.fullmatch(view_entry.name)
        if not view_entry.is_dir() or match is None:
            continue
        view = int(match.group(1))
        if view not in VIEWS:
            ignored.append(view_entry.path)
            continue
        for entry in os.scandir(view_entry.path):
            if entry.is_dir() and CLIP_FOLDER.fullmatch(entry.name):
                clips[f'{entry.name}_v{view:02d}'] = \
                    f'{view_entry.name}/{entry.name}'
            else:
                ignored.append(entry.path)
    if ignored:
        logger.warning('ignoring %d entries that are not NW-UCLA view / clip '
                       'folders: %s', len(ignored), some(sorted(ignored)))
    return dict(sorted(clips.items()))


def list_frame_files(folder) -> dict:
    """``{kind: {frame number: file name}}`` of a clip folder (kinds
    ``'rgb'``, ``'depth'``, ``'depth_vis'``, ``'skeleton'``).

    Raises:
        ModalityFileError: two files of one kind share a frame number.
    """
    files = {kind: {} for kind in KIND_OF_SUFFIX.values()}
    for name in os.listdir(folder):
        match = FRAME_FILE.fullmatch(name)
        if match is None:
            continue
        number, kind = int(match.group(1)), KIND_OF_SUFFIX[match.group(3)]
        other = files[kind].setdefault(number, name)
        if other != name:
            first, second = sorted((other, name), key=natural_key)
            raise ModalityFileError(
                f'{folder}: two {kind} files of frame {number}: {first} and '
                f'{second}')
    return files


# --------------------------------------------------------------------------
# Skeletons
# --------------------------------------------------------------------------
def _numbers(line: str) -> list[str]:
    return [part for part in re.split(r'[,\s]+', line.strip()) if part]


def read_skeleton_file(path):
    """One frame's skeleton: ``(xyz [20, 3] float32, state [20] int64)``,
    or None when the file holds only its header (no person).

    Raises:
        ModalityFileError: naming the file: unreadable, empty, a joint count
            other than 20, a line that is not four numbers, a non-finite
            value or a joint state other than 0, 1, 2.
    """
    try:
        with open(path, encoding='ascii') as f:
            lines = [line for line in f.read().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as error:
        raise ModalityFileError(
            f'{path}: unreadable skeleton file ({error})') from None
    if not lines:
        raise ModalityFileError(f'{path}: empty skeleton file')
    if len(_numbers(lines[0])) != 4:
        lines = lines[1:]  # the header line
    if not lines:
        return None
    if len(lines) != NUM_JOINTS:
        raise ModalityFileError(
            f'{path}: {len(lines)} joint lines, expected {NUM_JOINTS} '
            '(Kinect v1: x,y,z,state after one header line)')
    values = np.empty((NUM_JOINTS, 4), np.float64)
    for index, line in enumerate(lines):
        parts = _numbers(line)
        try:
            if len(parts) != 4:
                raise ValueError
            values[index] = [float(part) for part in parts]
        except ValueError:
            raise ModalityFileError(
                f'{path}: joint line {index + 1} {line.strip()!r} is not '
                'x,y,z,state') from None
    if not np.isfinite(values).all():
        raise ModalityFileError(f'{path}: non-finite joint values')
    state = values[:, 3]
    if not np.isin(state, (0, 1, 2)).all():
        raise ModalityFileError(
            f'{path}: joint states {sorted(set(state.tolist()))}, expected '
            '0, 1 (inferred) or 2 (tracked)')
    return values[:, :3].astype(np.float32), state.astype(np.int64)


def read_skeletons(folder, files) -> dict:
    """``keypoint_3d`` ``[1, T, 20, 3]`` and ``keypoint_3d_score``
    ``[1, T, 20]`` (float32) of the skeleton files ``files`` (frame order),
    and ``frames_without_person``: how many held no person (zeros, score
    0)."""
    joints = np.zeros((1, len(files), NUM_JOINTS, 3), np.float32)
    scores = np.zeros((1, len(files), NUM_JOINTS), np.float32)
    empty = 0
    for t, name in enumerate(files):
        frame = read_skeleton_file(os.path.join(folder, name))
        if frame is None:
            empty += 1
            continue
        joints[0, t], scores[0, t] = frame[0], SCORE_OF_STATE[frame[1]]
    return dict(keypoint_3d=joints, keypoint_3d_score=scores,
                frames_without_person=empty)


# --------------------------------------------------------------------------
# One sample
# --------------------------------------------------------------------------
def image_format(path) -> str:
    """``'<dtype>, <c> channel(s)'`` of an image file, as stored."""
    image = read_image(path)
    channels = 1 if image.ndim == 2 else image.shape[2]
    return f'{image.dtype}, {channels} channel{"s" if channels > 1 else ""}'


def shared_frames(name: str, folder: str, present: dict,
                  frame_tolerance: int = FRAME_TOLERANCE,
                  frame_tolerance_fraction: float = FRAME_TOLERANCE_FRACTION):
    """The frame numbers all modalities of ``present`` (``{modality:
    {frame number: file}}``) share, sorted, and ``{modality: number of its
    files left out}``.

    Raises:
        FrameCountMismatchError: more frame numbers dropped than the
            tolerance allows (of the numbers any modality has), or none
            shared; the message names the sample, the folder and the
            frames each modality lacks.
    """
    union = set().union(*present.values())
    shared = sorted(set.intersection(*(set(f) for f in present.values())))
    allowed = allowed_frame_difference(len(union), frame_tolerance,
                                       frame_tolerance_fraction)
    if not shared or len(union) - len(shared) > allowed:
        lacks = '; '.join(
            f'{m} lacks {len(union) - len(f)} '
            f'({some(f"frame_{n}" for n in sorted(union - set(f)))})'
            for m, f in present.items() if len(f) < len(union))
        raise FrameCountMismatchError(
            f'sample {name}: {folder} has {len(union)} frame numbers but only '
            f'{len(shared)} of them have a file of every modality '
            f'({", ".join(present)}): {lacks}; dropping '
            f'{len(union) - len(shared)} frames is beyond the tolerance of '
            f'{allowed:g} (--frame-tolerance, --frame-tolerance-fraction)')
    dropped = {m: len(f) - len(shared) for m, f in present.items()}
    return shared, dropped


def build_sample(name: str, root, folder: str, modalities=MODALITIES,
                 depth_source: str = 'png',
                 frame_tolerance: int = FRAME_TOLERANCE,
                 frame_tolerance_fraction: float = FRAME_TOLERANCE_FRACTION):
    """The annotation of one clip.

    Args:
        name: the sample name ``aAA_sSS_eEE_vVV``.
        root: the folder holding ``view_*``.
        folder: the clip folder relative to ``root``.
        modalities: of ``'rgb'``, ``'depth'``, ``'skeleton'``.
        depth_source: ``'png'`` (``depth.png``) or ``'vis'``
            (``depth_vis.jpg``).

    Returns:
        tuple: ``(annotation, report)``; ``report`` has ``lacking`` (the
        requested modalities without any file), ``depth_format`` (see
        :func:`image_format`, None without depth) and
        ``frames_without_person``.

    Raises:
        AnnotationBuildError: naming the sample and the file at fault
            (:class:`FrameCountMismatchError` for frames dropped beyond the
            tolerance).
    """
    info = parse_sample_name(name)
    if info['action'] not in LABEL_OF_ACTION:
        raise AnnotationBuildError(
            f'sample {name}: action {info["action"]:02d} is not an NW-UCLA '
            f'class ({", ".join(f"{a:02d}" for a in ACTIONS)})')
    path = os.path.join(os.fspath(root), folder)
    try:
        files = list_frame_files(path)
    except (ModalityFileError, OSError) as error:
        raise AnnotationBuildError(f'sample {name}: {error}') from None
    kind_of = dict(rgb='rgb', depth=DEPTH_SOURCES[depth_source],
                   skeleton='skeleton')
    present = {m: files[kind_of[m]] for m in modalities if files[kind_of[m]]}
    lacking = [m for m in modalities if m not in present]
    if not present:
        raise AnnotationBuildError(
            f'sample {name}: {path} holds no frame file of '
            f'{", ".join(modalities)} (frame_<n>_tc_<t>_<kind>)')
    shared, dropped = shared_frames(name, path, present, frame_tolerance,
                                    frame_tolerance_fraction)

    ann = dict(frame_dir=name, label=LABEL_OF_ACTION[info['action']],
               total_frames=len(shared))
    num_frames, shapes = {}, {}
    report = dict(lacking=lacking, depth_format=None,
                  frames_without_person=0)
    for m in IMAGE_MODALITIES:
        if m not in present:
            continue
        frame_files = [present[m][n] for n in shared]
        try:
            num_frames[m], shapes[m] = probe_frame_files(path, frame_files)
            if m == 'depth':
                report['depth_format'] = image_format(
                    os.path.join(path, frame_files[0]))
        except (ModalityFileError, OSError) as error:
            raise AnnotationBuildError(
                f'sample {name}: {m} {error}') from None
        ann[f'{m}_path'] = folder
        ann[f'{m}_frames'] = frame_files
    image_shape = tuple(shapes.get('rgb', KINECT_V1_COLOR_SHAPE))
    ann.update(img_shape=image_shape, original_shape=image_shape,
               num_frames=num_frames, modality_shapes=shapes)
    if 'skeleton' in present:
        try:
            skeleton = read_skeletons(
                path, [present['skeleton'][n] for n in shared])
        except ModalityFileError as error:
            raise AnnotationBuildError(
                f'sample {name}: skeleton {error}') from None
        report['frames_without_person'] = skeleton.pop(
            'frames_without_person')
        ann.update(skeleton)
    if any(dropped.values()):
        ann['dropped_frames'] = dropped
    return ann, report


def sample_stamp(name, root, folder, options=()):
    """Cache stamp of a clip: the options and (path, size, mtime) of the
    clip folder and of every file in it."""
    path = os.path.join(root, folder)
    try:
        entries = sorted(os.listdir(path))
    except OSError:
        entries = []
    return (name, root, options,
            file_stamp(root, [folder] + [f'{folder}/{e}' for e in entries]))


# --------------------------------------------------------------------------
# The dataset
# --------------------------------------------------------------------------
def make_splits(names) -> dict:
    """``xview_train`` (views 1 + 2), ``xview_val`` (view 3) and
    ``view_1`` / ``view_2`` / ``view_3``."""
    view_of = {name: parse_sample_name(name)['view'] for name in names}
    splits = {split: [n for n in names if view_of[n] in views]
              for split, views in XVIEW_SPLITS.items()}
    for view in VIEWS:
        splits[f'view_{view}'] = [n for n in names if view_of[n] == view]
    return splits


def _log_summary(summary, depth_source):
    lacking = ', '.join(f'{m} {n}' for m, n in summary['lacking'].items()
                        if n)
    logger.info('%d clips found, %d kept (per view: %s)%s', summary['found'],
                summary['kept'], ', '.join(
                    f'view_{v} {n}' for v, n in summary['views'].items()),
                f'; clips lacking a modality: {lacking}' if lacking else '')
    dropped = summary['dropped_frames']
    if dropped['samples']:
        logger.info('%d clips had frame numbers that not every modality has '
                    '(within the tolerance): frame files left out per '
                    "modality %s (recorded in their 'dropped_frames')",
                    dropped['samples'], dropped['files'])
    if summary['frames_without_person']:
        logger.info('%d skeleton frames hold no person (zeros, score 0)',
                    summary['frames_without_person'])
    if summary['depth_format']:
        source = 'depth.png' if depth_source == 'png' else 'depth_vis.jpg'
        formats = summary['depth_format'].items()
        logger.info('depth frames (%s): %s', source, ', '.join(
            f'{fmt} ({n} clips)' for fmt, n in formats))
        if depth_source == 'png' and any(
                fmt.startswith('uint8') for fmt in summary['depth_format']):
            logger.warning('some depth.png frames are 8-bit (uint8), not '
                           '16-bit depth values')


def build_annotations(raw_root, out_file, modalities=MODALITIES,
                      depth_source: str = 'png',
                      num_workers: int | None = None, cache_dir=None,
                      skip_bad: bool = False,
                      frame_tolerance: int = FRAME_TOLERANCE,
                      frame_tolerance_fraction: float =
                      FRAME_TOLERANCE_FRACTION) -> dict:
    """Converts the NW-UCLA raw tree into one annotation pkl.

    Args:
        raw_root: the ``multiview_action`` folder (``view_1`` ...) or the
            folder holding it.
        out_file: the pkl to write (atomically).
        modalities: of ``'rgb'``, ``'depth'``, ``'skeleton'``: which to
            read; the frames of a clip are those all of them share.
        depth_source: ``'png'`` (``depth.png``, default) or ``'vis'``
            (``depth_vis.jpg``).
        num_workers: processes (default: CPU count); 0 or 1 in-process.
        cache_dir: per-sample cache (reused while the clip folder's files
            and the options are unchanged).
        skip_bad: leave bad samples out (``meta['skipped']``) instead of
            stopping at the first.
        frame_tolerance, frame_tolerance_fraction: how many frame numbers
            may be dropped because a modality lacks them
            (``max(frame_tolerance, frame_tolerance_fraction * n)``).

    Returns:
        The dict written to ``out_file``.

    Raises:
        AnnotationBuildError: (without ``skip_bad``) a bad sample, naming it
            and its file.
        FileNotFoundError: no ``view_<n>`` folder under ``raw_root``.
        ValueError: a bad option.
    """
    modalities = tuple(modalities)
    unknown = [m for m in modalities if m not in MODALITIES]
    if unknown or not modalities:
        raise ValueError(f'modalities must be some of {list(MODALITIES)}, '
                         f'got {list(modalities)}')
    if depth_source not in DEPTH_SOURCES:
        raise ValueError(f'depth_source must be one of '
                         f'{list(DEPTH_SOURCES)}, got {depth_source!r}')
    if frame_tolerance < 0 or not 0 <= frame_tolerance_fraction < 1:
        raise ValueError(
            f'frame_tolerance must be >= 0 and frame_tolerance_fraction in '
            f'[0, 1), got {frame_tolerance} and {frame_tolerance_fraction}')
    root = find_dataset_root(raw_root)
    clips = scan_clips(root)
    logger.info('nwucla: %d clip folders under %s', len(clips), root)
    if not clips:
        logger.warning('no NW-UCLA clip folder (view_<v>/aAA_sSS_eEE) in %s',
                       root)

    options = dict(modalities=modalities, depth_source=depth_source,
                   frame_tolerance=frame_tolerance,
                   frame_tolerance_fraction=frame_tolerance_fraction)
    results, skipped = build_all(
        [(name, (name, root, folder)) for name, folder in clips.items()],
        functools.partial(build_sample, **options),
        stamp_of=functools.partial(sample_stamp,
                                   options=tuple(sorted(options.items()))),
        cache_dir=cache_dir, num_workers=num_workers, skip_bad=skip_bad)

    annotations = [ann for ann, _ in results.values()]
    reports = [report for _, report in results.values()]
    kept = [ann['frame_dir'] for ann in annotations]
    dropped_files = Counter()
    for ann in annotations:
        dropped_files.update(ann.get('dropped_frames', {}))
    summary = dict(
        found=len(clips), kept=len(annotations),
        views={v: sum(parse_sample_name(n)['view'] == v for n in kept)
               for v in VIEWS},
        lacking={m: sum(m in r['lacking'] for r in reports)
                 for m in modalities},
        left_out=dict(bad=len(skipped)),
        dropped_frames=dict(
            samples=sum('dropped_frames' in ann for ann in annotations),
            files={m: dropped_files[m] for m in modalities}),
        frames_without_person=sum(r['frames_without_person']
                                  for r in reports),
        depth_format=dict(Counter(r['depth_format'] for r in reports
                                  if r['depth_format'] is not None)))
    _log_summary(summary, depth_source)

    meta = dict(
        dataset='nwucla', raw_root=root,
        modalities=[m for m in modalities if m in IMAGE_MODALITIES],
        keypoint_source=None,  # no 2D keypoints until pose extraction
        keypoint_layouts=({'keypoint_3d': KEYPOINT_LAYOUT}
                          if 'skeleton' in modalities else {}),
        class_names=list(CLASS_NAMES), depth_source=depth_source,
        depth_format=summary['depth_format'], summary=summary,
        skipped=skipped)
    splits = check_splits(make_splits(list(clips)), kept)
    return write_annotations(out_file, splits, annotations, meta)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build the annotation pkl of NW-UCLA Multiview Action3D '
        '(docs/data_format.md).')
    parser.add_argument('--raw-root', required=True,
                        help=f'the {DATASET_FOLDER} folder (view_1, view_2, '
                        'view_3) or the folder holding it')
    parser.add_argument('--out', dest='out_file', metavar='PKL',
                        required=True, help='output .pkl')
    parser.add_argument('--modalities', nargs='+', choices=MODALITIES,
                        default=list(MODALITIES),
                        help='what to read; the frames of a clip are those '
                        'all of them share (default: %(default)s)')
    parser.add_argument('--depth-source', choices=tuple(DEPTH_SOURCES),
                        default='png',
                        help='depth frames: the raw depth.png (default) or '
                        'the 8-bit rendering depth_vis.jpg (what ActionMAE '
                        'reads)')
    add_frame_tolerance_arguments(
        parser, "the clip's frame numbers (frames a modality lacks are "
        'dropped)')
    add_common_arguments(parser)
    return parser.parse_args(argv)


def main(argv=None):
    return run_cli(build_annotations, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
