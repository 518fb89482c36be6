"""Build the annotation pkl of PKU-MMD phase 1 (untrimmed, 51 actions).

Usage, from the repository root::

    python -m data_prep.pku_mmd.build_annotations --raw-root data/pku_mmd \\
        --out data/pku_mmd_annotations.pkl

What is read (paths relative to ``--raw-root``; the first existing spelling
of each folder is used and logged):

* ``Label/Train_Label_PKU_final/NNNN-V.txt`` (or ``Train_Label_PKU_final/``,
  ``Label/``): one action instance per row, ``action,start,end,confidence``
  (integers, no header; ``action`` 1-51, ``confidence`` 1 slight / 2
  strong). ``NNNN`` is the sequence (0002-0364), ``V`` the camera (``L``,
  ``M``, ``R``). The label files define the samples: one per row.
* ``Data/RGB_VIDEO/NNNN-V.avi``, ``Data/DEPTH_VIDEO/NNNN-V.avi``,
  ``Data/IR_VIDEO/NNNN-V.avi`` (or the same folders without ``Data/``): the
  long recordings, 30 fps. Depth is read as a video (its first channel).
* ``Data/PKU_Skeleton_Renew/NNNN-V.txt`` (or ``PKU_Skeleton_Renew/``,
  ``Data/Skeleton/``, ``Skeleton/``, ``Data/SKELETON/``, ``SKELETON/``):
  one line per frame of 150 numbers (space-separated; commas are accepted
  too) = 2 bodies x 25 joints x (x, y, z), camera space in metres, the
  second body all zeros when absent. The joints are Kinect v2's, in NTU RGB+D
  order (layout ``'ntu25'``): 1 spine base, 2 spine mid, 3 neck, 4 head,
  5-8 left shoulder / elbow / wrist / hand, 9-12 the same right, 13-16 left
  hip / knee / ankle / foot, 17-20 the same right, 21 spine shoulder,
  22 / 23 left hand tip / thumb, 24 / 25 right hand tip / thumb.
* ``Split/cross-subject.txt`` and ``Split/cross-view.txt`` (or the raw root
  itself, or ``--split-dir``): ``Training videos:`` then a comma-separated
  list of ``NNNN-V``, then ``Validataion videos:`` (sic; ``Validation`` is
  accepted too) then the list. They make the splits ``xsub_train`` /
  ``xsub_val`` and ``xview_train`` / ``xview_val``: a clip belongs where its
  video is listed. No view or subject is hard-coded.

What is written: one annotation per label row (docs/data_format.md), named
as MMNet / TSMF name them, ``F{sequence:03}V{view:03}C{action:03}L{row:03}``
(view 1 = L, 2 = M, 3 = R; ``row`` = the row's 1-based position in its
label file, blank lines not counted), ``label = action - 1``. The clip is a
frame range of the long files, not a copy: ``frame_offset = start``,
``total_frames = end - start + 1`` and ``num_frames[m] = total_frames`` for
every modality that has a file. Frame numbers: a label row's ``start`` and
``end`` are taken as 0-based frame indices of the recordings, ``end``
included -- MMNet extracts the frames as ``0.jpg, 1.jpg, ...`` and reads
``range(start, end + 1)`` of them (the release does not say).
``keypoint_3d`` ``[M, T, 25, 3]`` is the skeleton's lines ``start .. end``
(line ``i`` = frame ``i``, 0-based): a body all zeros over the clip is
dropped (``M`` = 2, 1 or 0 for the clip), and a frame where a kept body is
absent is zeros (there is no per-joint confidence in the release, so no
score array is written). ``sequence`` (``'NNNN-V'``) and ``confidence`` are
kept in each annotation. There are no 2D keypoints in the release:
``data_prep.pose_extraction`` adds HRNet ``keypoint`` / ``keypoint_score``
(needed by EPAM-Net and the TSMF student).

Every long file is probed once per video (not per clip) for the frames that
really decode (:func:`data_prep.common.probe_video`), and the videos'
counts are compared with the skeleton's line count (the clock; without a
skeleton file: depth, else IR, else RGB) with the converters' tolerance
(``max(--frame-tolerance, --frame-tolerance-fraction * frames)``); within
it the counts are recorded in ``meta['sequences'][video]['frame_mismatch']``,
beyond it the video is bad. A clip's frames are the same indices in every
file (no proportional mapping: all modalities run at 30 fps from the
recording's start).

Clips without skeleton (the six MMNet lists, F089V00{1,2,3}C023L001,
F043V001C001L021, F133V002C033L013, F241V003C001L025, and in general a clip
whose skeleton lines are all zeros, or whose video has no skeleton file) are
kept without keypoint fields, counted and named in
``meta['summary']['without_skeleton']``: configs that need the skeleton
leave them out at load time (``missing_modality=dict(skeleton='skip')``, as
the TSMF configs do), RGB / depth / IR-only configs keep them. A clip with
no file at all (no skeleton, no video) is left out and reported.

Bad input. A malformed label row, a skeleton line with a count other than
150 or a non-number (the error names the file and the line), an unreadable
video, or a video whose frame count is beyond the tolerance stops the build
with an :class:`AnnotationBuildError`; so does a label row whose ``end`` is
past the end of one of its video's files (``end >= frames``: the error
names the label file, the row and the file). With ``--skip-bad`` a bad row
leaves out its clip and a bad video all its clips; each is listed in
``meta['skipped']`` (key: the clip name, or ``NNNN-V`` for a whole video)
and counted. An empty (0-byte) video or skeleton file, as ``0191-L`` /
``0192-L`` are reported to be, is treated as absent and listed in
``meta['summary']['empty_files']``. Labelled videos on neither list of a
split file, listed videos without a label file and videos / skeletons
without a label file are logged and listed in the summary.

Parallel workers (one job per video), a progress bar, ``--cache-dir``
(resume) and the atomic write come from :mod:`data_prep.common`.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import sys

import numpy as np

from ..common import (FRAME_TOLERANCE, FRAME_TOLERANCE_FRACTION,
                      AnnotationBuildError, ModalityFileError,
                      add_common_arguments, add_frame_tolerance_arguments,
                      build_all, check_frame_count, file_stamp, probe_video,
                      run_cli, some, write_annotations)

logger = logging.getLogger(__name__)

DATASET = 'pku_mmd'
NUM_CLASSES = 51
MODALITIES = ('rgb', 'depth', 'ir')
#: camera letter of a video name -> the view number of the clip names
VIEWS = {'L': 1, 'M': 2, 'R': 3}
NUM_BODIES, NUM_JOINTS = 2, 25
VALUES_PER_LINE = NUM_BODIES * NUM_JOINTS * 3
#: (H, W) of PKU-MMD's RGB videos, the ``img_shape`` of clips without RGB
RGB_SHAPE = (1080, 1920)
#: Without a skeleton, the file whose frame count is the clock.
CLOCK_PRIORITY = ('depth', 'ir', 'rgb')
VIDEO_NAME = re.compile(r'(\d{4})-([LMR])')
#: Where each part of the release may be, relative to the raw root; the
#: first candidate that holds such files is used.
FOLDERS = {
    'label': ('Label/Train_Label_PKU_final', 'Train_Label_PKU_final',
              'Label'),
    'skeleton': ('Data/PKU_Skeleton_Renew', 'PKU_Skeleton_Renew',
                 'Data/Skeleton', 'Skeleton', 'Data/SKELETON', 'SKELETON'),
    'rgb': ('Data/RGB_VIDEO', 'RGB_VIDEO'),
    'depth': ('Data/DEPTH_VIDEO', 'DEPTH_VIDEO'),
    'ir': ('Data/IR_VIDEO', 'IR_VIDEO'),
}
SUFFIXES = dict(label='.txt', skeleton='.txt', rgb='.avi', depth='.avi',
                ir='.avi')
SPLIT_FOLDERS = ('Split', 'split', '.')
#: benchmark -> its split file
SPLIT_FILES = {'xsub': 'cross-subject.txt', 'xview': 'cross-view.txt'}
SPLIT_HEADER = re.compile(
    r'\s*(training|validataion|validation|testing|test)\s+videos?\s*:(.*)',
    re.IGNORECASE)
LABEL_ROW = re.compile(r'\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)'
                       r'\s*,?\s*')


# --------------------------------------------------------------------------
# Names and folders
# --------------------------------------------------------------------------
def clip_name(video: str, action: int, row: int) -> str:
    """MMNet / TSMF's clip name, e.g. ``F002V001C001L001``."""
    number, camera = VIDEO_NAME.fullmatch(video).groups()
    return f'F{int(number):03d}V{VIEWS[camera]:03d}C{action:03d}L{row:03d}'


def _video_files(folder: str, suffix: str, warn: bool = False) -> dict:
    """``{'NNNN-V': file name}`` of the release's files in ``folder``
    (``warn``: log the other files)."""
    found, other = {}, []
    for entry in os.scandir(folder):
        if entry.name.startswith('.') or not entry.is_file():
            continue
        stem, ext = os.path.splitext(entry.name)
        if ext.lower() == suffix and VIDEO_NAME.fullmatch(stem):
            found[stem] = entry.name
        else:
            other.append(entry.name)
    if other and warn:
        logger.warning('%s: ignoring %d files not named NNNN-V%s: %s', folder,
                       len(other), suffix, some(sorted(other), 5))
    return found


def find_folders(raw_root: str, modalities=MODALITIES) -> dict:
    """``{part: folder relative to raw_root, or None}`` for the label and
    skeleton folders and the requested modalities' video folders.

    Raises:
        FileNotFoundError: no label folder, or no skeleton folder.
    """
    folders = {}
    for part in ('label', 'skeleton') + tuple(modalities):
        folders[part] = None
        for candidate in FOLDERS[part]:
            path = os.path.join(raw_root, candidate)
            if os.path.isdir(path) and _video_files(path, SUFFIXES[part]):
                folders[part] = candidate
                break
        if folders[part] is not None:
            logger.info('%s: %s', part, os.path.join(raw_root, folders[part]))
        elif part in ('label', 'skeleton'):
            expected = ', '.join(f'{c}/NNNN-V{SUFFIXES[part]}'
                                 for c in FOLDERS[part])
            raise FileNotFoundError(
                f'no PKU-MMD {part} files under {raw_root} (expected one of '
                f'{expected})')
        else:
            logger.warning('no %s videos under %s (expected %s): the clips '
                           'have no %s', part, raw_root,
                           ' or '.join(f'{c}/NNNN-V.avi'
                                       for c in FOLDERS[part]), part)
    return folders


def find_split_dir(raw_root: str, split_dir=None) -> str:
    """The folder holding ``cross-subject.txt`` and ``cross-view.txt``."""
    candidates = ([split_dir] if split_dir is not None else
                  [os.path.join(raw_root, c) for c in SPLIT_FOLDERS])
    for folder in candidates:
        if all(os.path.isfile(os.path.join(folder, f))
               for f in SPLIT_FILES.values()):
            return os.path.normpath(folder)
    raise FileNotFoundError(
        f'no PKU-MMD split files {" and ".join(SPLIT_FILES.values())} in '
        f'{" or ".join(candidates)} (the release has them in Split/; '
        f'another folder: --split-dir)')


# --------------------------------------------------------------------------
# Reading the release's text files
# --------------------------------------------------------------------------
def read_split_file(path) -> tuple[list, list]:
    """``(training videos, validation videos)`` of a split file.

    The file has a ``Training videos:`` header, then a comma-separated list
    of ``NNNN-V``, then ``Validataion videos:`` (sic, or ``Validation`` /
    ``Test``) and its list; a list may also start on its header's line.

    Raises:
        AnnotationBuildError: a name that is not ``NNNN-V``, names before the
            first header, a missing list, or a video in both lists (naming
            the file and the line).
    """
    path = os.fspath(path)
    lists, current = {}, None
    with open(path, encoding='utf-8-sig') as f:
        for line_no, line in enumerate(f, 1):
            header = SPLIT_HEADER.match(line)
            if header:
                kind = header.group(1).lower()
                current = 'train' if kind == 'training' else 'val'
                if current in lists:
                    raise AnnotationBuildError(
                        f'{path}, line {line_no}: a second {header.group(1)} '
                        'list')
                lists[current] = []
                if kind != 'training':
                    logger.debug('%s: validation header spelled %r', path,
                                 header.group(1))
                line = header.group(2)
            for token in line.split(','):
                token = token.strip()
                if not token:
                    continue
                if current is None:
                    raise AnnotationBuildError(
                        f'{path}, line {line_no}: {token!r} before the '
                        '"Training videos:" header')
                if not VIDEO_NAME.fullmatch(token):
                    raise AnnotationBuildError(
                        f'{path}, line {line_no}: {token!r} is not a video '
                        'name NNNN-V (V = L, M or R)')
                lists[current].append(token)
    missing = [k for k in ('train', 'val') if k not in lists]
    if missing:
        raise AnnotationBuildError(
            f'{path}: no {" and no ".join(missing)} list (expected the lines '
            '"Training videos:" and "Validataion videos:", each followed by '
            'a comma-separated list of NNNN-V)')
    both = sorted(set(lists['train']) & set(lists['val']))
    if both:
        raise AnnotationBuildError(
            f'{path}: {len(both)} videos are in both lists: {some(both)}')
    return lists['train'], lists['val']


def read_labels(path) -> list[tuple]:
    """The rows of a label file: ``[(row, action, start, end, confidence,
    line_no), ...]``, ``row`` counting from 1 over the non-blank lines.

    Raises:
        AnnotationBuildError: a row that is not four integers, an action
            outside 1-51, ``start < 0`` or ``end < start`` (naming the file
            and the line).
    """
    path = os.fspath(path)
    rows = []
    with open(path, encoding='utf-8-sig') as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            match = LABEL_ROW.fullmatch(line.rstrip('\r\n'))
            where = f'{path}, line {line_no}'
            if match is None:
                raise AnnotationBuildError(
                    f'{where}: expected "action,start,end,confidence" '
                    f'(integers), got {line.strip()!r}')
            action, start, end, confidence = map(int, match.groups())
            if not 1 <= action <= NUM_CLASSES:
                raise AnnotationBuildError(
                    f'{where}: action {action} is not a PKU-MMD class '
                    f'(1..{NUM_CLASSES})')
            if start < 0 or end < start:
                raise AnnotationBuildError(
                    f'{where}: bad frame range start={start}, end={end}')
            rows.append((len(rows) + 1, action, start, end, confidence,
                         line_no))
    return rows


def read_skeleton(path) -> np.ndarray:
    """The skeleton file as float32 ``[T, 2, 25, 3]`` (bodies in file
    order, an absent body all zeros); blank lines at the end are ignored.

    Raises:
        AnnotationBuildError: a line without exactly 150 numbers, a blank
            line before the last frame, or a value that is not a finite
            number (naming the file and the line).
    """
    path = os.fspath(path)
    with open(path, encoding='utf-8-sig') as f:
        lines = f.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    data = np.empty((len(lines), VALUES_PER_LINE), np.float32)
    for i, line in enumerate(lines):
        values = line.replace(',', ' ').split()
        if len(values) != VALUES_PER_LINE:
            raise AnnotationBuildError(
                f'{path}, line {i + 1}: {len(values)} values, expected '
                f'{VALUES_PER_LINE} ({NUM_BODIES} bodies x {NUM_JOINTS} '
                'joints x (x, y, z))')
        try:
            data[i] = np.asarray(values, dtype=np.float32)
        except ValueError:
            raise AnnotationBuildError(
                f'{path}, line {i + 1}: not a list of numbers: '
                f'{line[:60]!r}...') from None
        if not np.isfinite(data[i]).all():
            raise AnnotationBuildError(
                f'{path}, line {i + 1}: a value is not finite')
    return data.reshape(-1, NUM_BODIES, NUM_JOINTS, 3)


def read_class_names(path) -> list[str]:
    """51 class names from a text file, one per line in label order; a
    line ``<action id>,<name>`` (or tab-separated, as copied from
    ``Actions.xlsx``) puts the name at that id."""
    names = {}
    with open(path, encoding='utf-8-sig') as f:
        lines = [line.strip() for line in f if line.strip()]
    for i, line in enumerate(lines, 1):
        match = re.fullmatch(r'(\d+)\s*[,\t]\s*(.+)', line)
        action, name = (int(match.group(1)), match.group(2).strip()) \
            if match else (i, line)
        names[action] = name
    if sorted(names) != list(range(1, NUM_CLASSES + 1)):
        raise ValueError(f'{path}: expected the names of actions 1..'
                         f'{NUM_CLASSES}, got {len(names)} lines / ids '
                         f'{some(map(str, sorted(names)))}')
    return [names[a] for a in range(1, NUM_CLASSES + 1)]


# --------------------------------------------------------------------------
# One video: all its clips
# --------------------------------------------------------------------------
def clip_keypoints(skeleton: np.ndarray, start: int, end: int):
    """``keypoint_3d`` ``[M, T, 25, 3]`` of frames ``start..end``: the bodies
    not all zeros over the clip, in file order; None when there is none."""
    clip = skeleton[start:end + 1]
    present = np.abs(clip).reshape(len(clip), NUM_BODIES, -1).max(-1) > 0
    bodies = [b for b in range(NUM_BODIES) if present[:, b].any()]
    if not bodies:
        return None
    return np.ascontiguousarray(clip[:, bodies].transpose(1, 0, 2, 3))


def _part_path(folders: dict, part: str, video: str):
    folder = folders.get(part)
    return None if folder is None else f'{folder}/{video}{SUFFIXES[part]}'


def _video_inputs(video: str, folders: dict, modalities) -> list:
    """Relative paths of a video's input files (for the cache stamp)."""
    parts = ('label', 'skeleton') + tuple(modalities)
    return [p for p in (_part_path(folders, part, video) for part in parts)
            if p is not None]


def _stamp(video, raw_root, folders, options):
    return (raw_root, sorted(folders.items()), sorted(options.items()),
            file_stamp(raw_root, _video_inputs(video, folders,
                                               options['modalities'])))


def build_video(video: str, raw_root: str, folders: dict,
                options: dict) -> dict:
    """The clips of one long video (one per row of its label file).

    Every file of the video is probed (videos) or read (skeleton) once.

    Args:
        video: ``'NNNN-V'``.
        folders: :func:`find_folders`.
        options: ``modalities``, ``video_backend``, ``frame_tolerance``,
            ``frame_tolerance_fraction``, ``skip_bad`` (a bad row is left out
            and reported instead of raising).

    Returns:
        dict: ``clips`` (annotations), ``skipped`` (``{clip: reason}``),
        ``no_data`` (clips without any file), ``info`` (per-file frame
        counts and shapes, ``frame_mismatch``, ``empty`` files).

    Raises:
        AnnotationBuildError: a malformed label or skeleton file, an
            unreadable video, a frame count beyond the tolerance, or (without
            ``skip_bad``) a row past the end of one of the files.
    """
    label_rel = _part_path(folders, 'label', video)
    rows = read_labels(os.path.join(raw_root, label_rel))
    files, counts, shapes, empty = {}, {}, {}, []
    for modality in options['modalities']:
        relative = _part_path(folders, modality, video)
        path = None if relative is None else os.path.join(raw_root, relative)
        if path is None or not os.path.isfile(path):
            continue
        if os.path.getsize(path) == 0:
            empty.append(relative)
            continue
        try:
            counts[modality], shapes[modality] = probe_video(
                path, options['video_backend'])
        except (ModalityFileError, OSError) as error:
            raise AnnotationBuildError(
                f'video {video}: {modality} {error}') from None
        files[modality] = relative
    skeleton = None
    relative = _part_path(folders, 'skeleton', video)
    path = os.path.join(raw_root, relative)
    if os.path.isfile(path):
        skeleton = read_skeleton(path)
        if len(skeleton):
            files['skeleton'] = relative
            counts['skeleton'] = len(skeleton)
        else:
            empty.append(relative)
            skeleton = None

    clock = next((m for m in ('skeleton', ) + CLOCK_PRIORITY if m in counts),
                 None)
    mismatch = {}
    for modality in MODALITIES:
        if modality in counts and modality != clock:
            pair = check_frame_count(
                video, modality, os.path.join(raw_root, files[modality]),
                counts[modality], counts[clock], clock,
                options['frame_tolerance'],
                options['frame_tolerance_fraction'])
            if pair is not None:
                mismatch[modality] = pair
    info = dict(label_file=label_rel, files=files, num_frames=counts,
                modality_shapes=shapes, clock=clock, empty=empty,
                frame_mismatch=mismatch)
    result = dict(clips=[], skipped={}, no_data=[], info=info)

    image_shape = tuple(shapes.get('rgb', RGB_SHAPE))
    for row, action, start, end, confidence, line_no in rows:
        name = clip_name(video, action, row)
        if clock is None:
            result['no_data'].append(name)
            continue
        short = [f'{m} {files[m]} has {n} frames (0..{n - 1})'
                 for m, n in counts.items() if end >= n]
        if short:
            message = (
                f'{os.path.join(raw_root, label_rel)}, row {row} (line '
                f'{line_no}: {action},{start},{end},{confidence}): clip '
                f'{name} of video {video} ends at frame {end}, past the end '
                f'of the files: {"; ".join(short)}')
            if not options['skip_bad']:
                raise AnnotationBuildError(message)
            result['skipped'][name] = message
            continue
        length = end - start + 1
        ann = dict(frame_dir=name, label=action - 1, total_frames=length,
                   frame_offset=start, img_shape=image_shape,
                   original_shape=image_shape,
                   num_frames={m: length for m in shapes},
                   modality_shapes=dict(shapes), sequence=video,
                   confidence=confidence)
        for modality in shapes:
            ann[f'{modality}_path'] = files[modality]
        if skeleton is not None:
            keypoint_3d = clip_keypoints(skeleton, start, end)
            if keypoint_3d is not None:
                ann['keypoint_3d'] = keypoint_3d
        result['clips'].append(ann)
    return result


# --------------------------------------------------------------------------
# The dataset
# --------------------------------------------------------------------------
def _log_summary(summary: dict) -> None:
    logger.info('%d videos with labels, %d clips found, %d kept',
                summary['videos'], summary['found'], summary['kept'])
    lacking = ', '.join(f'{m} {n}' for m, n in summary['lacking'].items()
                        if n)
    if lacking:
        logger.info('kept clips lacking a modality: %s', lacking)
    if summary['videos_without_skeleton']:
        logger.warning('%d labelled videos have no (or an empty) skeleton '
                       'file: %s', len(summary['videos_without_skeleton']),
                       some(summary['videos_without_skeleton']))
    names = summary['without_skeleton']
    if names:
        logger.warning(
            '%d clips have no skeleton frame (kept without keypoint_3d; '
            "configs with missing_modality=dict(skeleton='skip') leave them "
            'out): %s', len(names), some(names))
    if summary['no_data']:
        logger.warning('left out %d clips without any file: %s',
                       len(summary['no_data']), some(summary['no_data']))
    if summary['empty_files']:
        logger.warning('%d empty files, treated as absent: %s',
                       len(summary['empty_files']),
                       some(summary['empty_files']))
    if summary['unlabelled_videos']:
        logger.warning('%d videos / skeleton files have no label file: %s',
                       len(summary['unlabelled_videos']),
                       some(summary['unlabelled_videos']))
    for benchmark, videos in summary['not_in_split'].items():
        if videos:
            logger.warning(
                '%d labelled videos are on neither list of %s (their clips '
                'are in no %s split): %s', len(videos),
                SPLIT_FILES[benchmark], benchmark, some(videos))
    for benchmark, videos in summary['listed_without_labels'].items():
        if videos:
            logger.warning('%d videos listed in %s have no label file: %s',
                           len(videos), SPLIT_FILES[benchmark], some(videos))
    counts = summary['frame_mismatch']
    if counts['within_tolerance']:
        logger.info('%d videos have files whose frame counts differ within '
                    "the tolerance (meta['sequences'][video]"
                    "['frame_mismatch'])", counts['within_tolerance'])
    if any(summary['skipped'].values()):
        logger.warning('skipped (--skip-bad): %d clips, %d whole videos',
                       summary['skipped']['clips'],
                       summary['skipped']['videos'])


def build_annotations(raw_root, out_file, modalities=MODALITIES,
                      split_dir=None, class_names_file=None,
                      num_workers: int | None = None,
                      video_backend: str = 'auto', cache_dir=None,
                      skip_bad: bool = False,
                      frame_tolerance: int = FRAME_TOLERANCE,
                      frame_tolerance_fraction: float =
                      FRAME_TOLERANCE_FRACTION) -> dict:
    """Converts the PKU-MMD phase 1 release into one annotation pkl.

    Args:
        raw_root: the extracted release (``Data/``, ``Label/``, ``Split/``).
        out_file: the pkl to write (atomically).
        modalities: which of ``'rgb'``, ``'depth'``, ``'ir'`` to probe; a
            clip whose video lacks a file has no ``<m>_path``.
        split_dir: folder of ``cross-subject.txt`` / ``cross-view.txt``
            (default: ``Split/`` or the raw root).
        class_names_file: optional text file of the 51 class names
            (:func:`read_class_names`); default ``action_1`` ...
        num_workers: processes (default: CPU count); 0 or 1 in-process.
        video_backend: ``'auto'``, ``'decord'`` or ``'cv2'`` (probing).
        cache_dir: per-video cache: a rerun reuses the videos whose files
            and options are unchanged.
        skip_bad: leave bad clips / videos out (``meta['skipped']``)
            instead of stopping at the first.
        frame_tolerance, frame_tolerance_fraction: how far a video's frame
            count may be from its skeleton's (see the module docstring).

    Returns:
        The dict written to ``out_file``.
    """
    modalities = tuple(modalities)
    unknown = [m for m in modalities if m not in MODALITIES]
    if unknown:
        raise ValueError(f'unknown modalities {unknown}; choose from '
                         f'{list(MODALITIES)}')
    if frame_tolerance < 0 or not 0 <= frame_tolerance_fraction < 1:
        raise ValueError(
            f'frame_tolerance must be >= 0 and frame_tolerance_fraction in '
            f'[0, 1), got {frame_tolerance} and {frame_tolerance_fraction}')
    raw_root = os.path.abspath(os.fspath(raw_root))
    class_names = (read_class_names(class_names_file) if class_names_file
                   else [f'action_{a}' for a in range(1, NUM_CLASSES + 1)])
    folders = find_folders(raw_root, modalities)
    split_folder = find_split_dir(raw_root, split_dir)
    split_lists = {b: read_split_file(os.path.join(split_folder, f))
                   for b, f in SPLIT_FILES.items()}

    videos = sorted(_video_files(os.path.join(raw_root, folders['label']),
                                 '.txt', warn=True))
    others = set()
    for part in ('skeleton', ) + modalities:
        if folders[part] is not None:
            others |= set(_video_files(os.path.join(raw_root, folders[part]),
                                       SUFFIXES[part], warn=True))
    unlabelled = sorted(others - set(videos))
    logger.info('%s: %d labelled videos under %s', DATASET, len(videos),
                raw_root)

    options = dict(modalities=modalities, video_backend=video_backend,
                   frame_tolerance=frame_tolerance,
                   frame_tolerance_fraction=frame_tolerance_fraction,
                   skip_bad=skip_bad)
    items = [(video, (video, raw_root, folders, options)) for video in videos]
    results, bad_videos = build_all(
        items, build_video, stamp_of=_stamp, cache_dir=cache_dir,
        num_workers=num_workers, skip_bad=skip_bad)

    annotations, skipped, no_data, sequences = [], dict(bad_videos), [], {}
    found = 0
    for video in videos:
        if video not in results:
            continue
        result = results[video]
        annotations += result['clips']
        skipped.update(result['skipped'])
        no_data += result['no_data']
        found += (len(result['clips']) + len(result['skipped'])
                  + len(result['no_data']))
        sequences[video] = dict(
            result['info'],
            clips=[a['frame_dir'] for a in result['clips']])

    labelled = set(videos)
    splits, not_in_split, listed_without_labels = {}, {}, {}
    for benchmark, (train, val) in split_lists.items():
        for part, members in (('train', set(train)), ('val', set(val))):
            splits[f'{benchmark}_{part}'] = [
                a['frame_dir'] for a in annotations
                if a['sequence'] in members]
        listed = set(train) | set(val)
        not_in_split[benchmark] = sorted(labelled - listed)
        listed_without_labels[benchmark] = sorted(listed - labelled)

    summary = dict(
        videos=len(videos), found=found, kept=len(annotations),
        lacking={m: sum(f'{m}_path' not in a for a in annotations)
                 for m in modalities},
        without_skeleton=[a['frame_dir'] for a in annotations
                          if 'keypoint_3d' not in a],
        videos_without_skeleton=[v for v, s in sequences.items()
                                 if 'skeleton' not in s['files']],
        no_data=no_data,
        empty_files=sorted(f for s in sequences.values()
                           for f in s['empty']),
        unlabelled_videos=unlabelled,
        not_in_split=not_in_split,
        listed_without_labels=listed_without_labels,
        frame_mismatch=dict(within_tolerance=sum(
            bool(s['frame_mismatch']) for s in sequences.values())),
        skipped=dict(clips=len(skipped) - len(bad_videos),
                     videos=len(bad_videos)))
    _log_summary(summary)

    meta = dict(dataset=DATASET, raw_root=raw_root,
                modalities=list(modalities), keypoint_source=None,
                keypoint_layouts={'keypoint_3d': 'ntu25'},
                class_names=class_names,
                folders={k: v for k, v in folders.items() if v is not None},
                split_files={b: os.path.join(split_folder, f)
                             for b, f in SPLIT_FILES.items()},
                frame_base='0-based, end inclusive: frame_offset = start, '
                'total_frames = end - start + 1',
                sequences=sequences, summary=summary, skipped=skipped)
    return write_annotations(out_file, splits, annotations, meta)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build the annotation pkl of PKU-MMD phase 1 (one '
        'sample per label row, stored as a frame range of its video; '
        'docs/data_format.md).')
    parser.add_argument('--raw-root', required=True,
                        help='the extracted release (Data/, Label/, Split/)')
    parser.add_argument('--out', dest='out_file', metavar='PKL',
                        required=True, help='output .pkl')
    parser.add_argument('--modalities', nargs='+', choices=MODALITIES,
                        default=list(MODALITIES))
    parser.add_argument('--split-dir', default=None,
                        help='folder of cross-subject.txt / cross-view.txt '
                        '(default: <raw-root>/Split or the raw root)')
    parser.add_argument('--class-names', dest='class_names_file',
                        default=None, metavar='TXT',
                        help='the 51 class names, one per line in action '
                        'order (or "<id>,<name>" lines, e.g. copied from '
                        'Actions.xlsx); default action_1 ... action_51')
    parser.add_argument('--video-backend', choices=('auto', 'decord', 'cv2'),
                        default='auto')
    add_frame_tolerance_arguments(
        parser, "the video's skeleton frame count")
    add_common_arguments(parser)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    return run_cli(build_annotations, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
