"""Build the annotation pkls of Toyota Smarthome (trimmed), CS and CV.

Usage, from the repository root::

    python -m data_prep.toyota_smarthome.build_annotations \\
        --raw-root data/toyota_smarthome --splits-dir SPLITS_DIR

writes ``data/toyota_smarthome_cs.pkl`` (cross-subject, 31 classes, splits
``cs_train`` / ``cs_val`` / ``cs_test``) and ``data/toyota_smarthome_cv.pkl``
(cross-view, 19 classes, splits ``cv1_*`` and ``cv2_*``), in the layout of
``docs/data_format.md``. The two protocols label the clips differently (31 vs
19 classes), so each has its own pkl (``--protocols cs cv``, ``--out`` with a
``{protocol}`` placeholder); every clip is read once for both.

What is read (``--raw-root``):

* ``mp4/<Activity>_pPP_rRR_vVV_cCC.mp4`` (``--video-dir``): the trimmed RGB
  clips. ``<Activity>`` is the class (coarse[.fine]), ``pPP`` the subject,
  ``cCC`` the camera. Each video is probed: frames that really decode, size,
  and the frame rate its container claims (``ann['fps']``); nothing about
  them is assumed.
* LCR-Net skeletons, either release: v1.1 ``<clip>.json`` (in ``json/``) or
  v1.2 ``<clip>_pose3d.json``, found anywhere under the raw root outside the
  video folder (or under ``--skeleton-dir``). With both for a clip, v1.2 is
  used (``--skeleton-version`` forces one). Which one each clip used is in
  ``ann['skeleton_version']`` and counted in the summary. The JSON is
  ``{"K": .., "njts": 13, "frames": [[{"pose2d": [26], "pose3d": [39]}, ..],
  ..]}``: one list of detected persons per frame, ``[]`` when nobody is
  detected; coordinates are coordinate-major (``pose2d = [x0..x12,
  y0..y12]``, ``pose3d = [x0..x12, y0..y12, z0..z12]``).
* Split lists (``--splits-dir``; default ``<raw-root>/splits`` when it
  exists): one clip name per line (``.mp4`` or not), the files of the I3D
  baseline: ``train_CS.txt``, ``validation_CS.txt``, ``test_CS.txt``,
  ``train_CV1.txt``, ``test_CV1.txt``, ``train_CV2.txt``,
  ``validation_CV2.txt`` (:data:`SPLIT_FILES` lists the accepted names; CV1
  and CV2 share the validation camera and the test camera, so a missing
  ``validation_CV1.txt`` / ``test_CV2.txt`` is taken from the other). A
  split without a file is derived from the name fields (:data:`SPLIT_RULES`:
  CS by subject, CV by camera) and the log says so; a split from a file is
  compared with that rule and disagreements are logged.

What is written, per clip (joint order LCR-Net-13, layout ``'lcrnet13'``:
R ankle, L ankle, R knee, L knee, R hip, L hip, R wrist, L wrist, R elbow,
L elbow, R shoulder, L shoulder, head):

* ``keypoint_lcrnet13`` ``[M, T, 13, 2]`` (``pose2d``, RGB pixels) and
  ``keypoint_lcrnet13_score`` ``[M, T, 13]``: 1 for a detected person, 0
  where the slot is empty;
* ``keypoint_3d`` ``[M, T, 13, 3]`` (``pose3d``, LCR-Net's 3D pose);
* ``keypoint`` ``[M, T, 17, 2]`` / ``keypoint_score``: COCO-17 from the same
  2D joints (:data:`LCRNET_TO_COCO`: head -> nose, shoulders, elbows,
  wrists, hips, knees, ankles; the eyes and ears, which LCR-Net does not
  have, are zeros with score 0), so that the EPAM-Net configs run on
  LCR-Net poses; ``meta['keypoint_source'] = 'lcrnet'``. The paper used
  HRNet-w32 poses: ``python -m data_prep.pose_extraction`` replaces
  ``keypoint`` / ``keypoint_score`` with them (``keypoint_source='hrnet'``).

``T`` (``total_frames``) is the skeleton's frame count; the video's decodable
frame count must be within ``max(--frame-tolerance,
--frame-tolerance-fraction * T)`` of it (a difference is recorded in
``frame_mismatch``), else the clip is bad. A frame without anybody is zeros
with score 0 in every slot. ``M`` is the largest number of persons in one
frame of the clip, at most ``--max-persons`` (2; Toyota Smarthome shows one
person, LCR-Net sometimes detects a second): in a frame with more, those
with the highest ``cumscore`` (or ``score``; without either, the first
listed) are kept. LCR-Net detects per frame without identities, so slots
are assigned by following each person's 2D centre from frame to frame
(minimum total distance).

Left out, counted in ``meta['summary']['left_out']``, listed with the reason
in ``meta['left_out']`` and logged: clips of a class no protocol maps
(``Pour.Fromcup``: I3D's lists name 14 of them, the published 16,115 clips
exclude them), clips listed in a split file without a video, clips in none
of the protocol's splits, and clips without a usable skeleton: no JSON, or a
JSON with no person in any frame or with an empty ``frames`` list -- unless
``--keep-missing-skeletons``, which keeps them without keypoint fields
(``total_frames`` = the video's frame count), e.g. for HRNet extraction.

Bad clips -- unreadable video, a malformed skeleton JSON (``njts`` other
than 13, a pose of the wrong length), a frame count beyond the tolerance --
stop the build with an :class:`AnnotationBuildError` naming the clip and the
file, or with ``--skip-bad`` are left out and listed in ``meta['skipped']``.
Parallel workers, progress bar, ``--cache-dir`` and the atomic write come
from :mod:`data_prep.common`.

Classes: alphabetical, as the I3D baseline numbers them (its
``_name_to_int`` minus 1); 2s-AGCN for daily living swaps ``Usetablet`` and
``Usetelephone``, this converter does not. The metric of the protocols is
the mean per-class accuracy (``AccMetric``'s ``acc/mean1``).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections import Counter

import numpy as np

from ..common import (FRAME_TOLERANCE, FRAME_TOLERANCE_FRACTION,
                      add_frame_tolerance_arguments,
                      AnnotationBuildError, ModalityFileError,
                      add_common_arguments, atomic_pickle_dump, build_all,
                      check_frame_count, check_splits, file_stamp,
                      probe_video, probe_video_fps, run_cli, some)

logger = logging.getLogger(__name__)

DATASET = 'toyota_smarthome'
#: cross-subject classes, alphabetical (label = index)
CS_CLASSES = (
    'Cook.Cleandishes', 'Cook.Cleanup', 'Cook.Cut', 'Cook.Stir',
    'Cook.Usestove', 'Cutbread', 'Drink.Frombottle', 'Drink.Fromcan',
    'Drink.Fromcup', 'Drink.Fromglass', 'Eat.Attable', 'Eat.Snack', 'Enter',
    'Getup', 'Laydown', 'Leave', 'Makecoffee.Pourgrains',
    'Makecoffee.Pourwater', 'Maketea.Boilwater', 'Maketea.Insertteabag',
    'Pour.Frombottle', 'Pour.Fromcan', 'Pour.Fromkettle', 'Readbook',
    'Sitdown', 'Takepills', 'Uselaptop', 'Usetablet', 'Usetelephone', 'Walk',
    'WatchTV')
#: cross-view classes (those seen by the cross-view cameras), alphabetical
CV_CLASSES = (
    'Cutbread', 'Drink.Frombottle', 'Drink.Fromcan', 'Drink.Fromcup',
    'Drink.Fromglass', 'Eat.Attable', 'Eat.Snack', 'Enter', 'Getup', 'Leave',
    'Pour.Frombottle', 'Pour.Fromcan', 'Readbook', 'Sitdown', 'Takepills',
    'Uselaptop', 'Usetablet', 'Usetelephone', 'Walk')
#: protocol -> its classes and benchmarks (split name prefixes)
PROTOCOLS = {
    'cs': dict(classes=CS_CLASSES, benchmarks=('cs', )),
    'cv': dict(classes=CV_CLASSES, benchmarks=('cv1', 'cv2')),
}
SPLIT_PARTS = ('train', 'val', 'test')
#: benchmark -> (name field, {part: values}): the split of a clip when no
#: split file gives it (the I3D lists follow these rules)
SPLIT_RULES = {
    'cs': ('subject', dict(train=(3, 4, 6, 7, 9, 12, 13, 15, 17),
                           val=(19, 25), test=(2, 10, 11, 14, 16, 18, 20))),
    'cv1': ('camera', dict(train=(1, ), val=(5, ), test=(2, ))),
    'cv2': ('camera', dict(train=(1, 3, 4, 6, 7), val=(5, ), test=(2, ))),
}
#: (benchmark, part) -> split file names tried in ``--splits-dir`` (case
#: does not matter), first found wins. I3D ships train/validation/test_CS,
#: train/test_CV1, train/validation_CV2; its training script reads
#: ``*_sub_CS.txt``. CV1 and CV2 share validation (camera 5) and test
#: (camera 2) lists.
SPLIT_FILES = {
    ('cs', 'train'): ('train_CS.txt', 'train_sub_CS.txt'),
    ('cs', 'val'): ('validation_CS.txt', 'validation_sub_CS.txt',
                    'val_CS.txt'),
    ('cs', 'test'): ('test_CS.txt', 'test_sub_CS.txt'),
    ('cv1', 'train'): ('train_CV1.txt', ),
    ('cv1', 'val'): ('validation_CV1.txt', 'val_CV1.txt',
                     'validation_CV2.txt', 'val_CV2.txt'),
    ('cv1', 'test'): ('test_CV1.txt', 'test_CV2.txt'),
    ('cv2', 'train'): ('train_CV2.txt', ),
    ('cv2', 'val'): ('validation_CV2.txt', 'val_CV2.txt',
                     'validation_CV1.txt', 'val_CV1.txt'),
    ('cv2', 'test'): ('test_CV2.txt', 'test_CV1.txt'),
}

CLIP_PATTERN = (r'(?P<activity>[A-Za-z]+(?:\.[A-Za-z]+)*)_p(?P<subject>\d+)'
                r'_r(?P<repetition>\d+)_v(?P<view>\d+)_c(?P<camera>\d+)')
CLIP_NAME = re.compile(CLIP_PATTERN)
VIDEO_FILE = re.compile(CLIP_PATTERN + r'\.mp4', re.IGNORECASE)
#: v1.1 ``<clip>.json``, v1.2 ``<clip>_pose3d.json``
SKELETON_FILE = re.compile(r'(?P<clip>' + CLIP_PATTERN +
                           r')(?P<pose3d>_pose3d)?\.json')
SKELETON_VERSIONS = ('v1.1', 'v1.2')

#: LCR-Net-13 joint order (layout 'lcrnet13')
LCRNET_JOINTS = ('right_ankle', 'left_ankle', 'right_knee', 'left_knee',
                 'right_hip', 'left_hip', 'right_wrist', 'left_wrist',
                 'right_elbow', 'left_elbow', 'right_shoulder',
                 'left_shoulder', 'head')
NUM_JOINTS = len(LCRNET_JOINTS)
#: COCO-17 joint -> LCR-Net joint (-1: none, zeros with score 0): nose <-
#: head, eyes and ears none, then L/R shoulder, elbow, wrist, hip, knee, ankle
LCRNET_TO_COCO = (12, -1, -1, -1, -1, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
KEYPOINT_LAYOUTS = dict(keypoint='coco17', keypoint_lcrnet13='lcrnet13',
                        keypoint_3d='lcrnet13')
#: how deep under the raw root skeleton JSONs are searched for (without
#: ``--skeleton-dir``): ``json/``, ``<zip folder>/json/`` ...
SKELETON_SEARCH_DEPTH = 3
#: a clip whose detected 2D joints lie mostly outside its video frame is
#: counted (``pose2d`` in another pixel space would show there)
OUTSIDE_FRAME_FRACTION = 0.5

#: why clips are left out: reason -> how the log says it
LEFT_OUT_REASONS = {
    'unmapped_class': 'are of a class no protocol maps (e.g. Pour.Fromcup)',
    'no_video': 'are listed in a split file but have no video',
    'not_in_splits': "are in none of the protocol's splits",
    'no_skeleton_file': 'have no skeleton JSON',
    'no_person': 'have no person in any skeleton frame (or no frame)',
    'bad': 'are bad (--skip-bad)',
}


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------
def parse_clip_name(name: str) -> dict | None:
    """``{'activity', 'subject', 'repetition', 'view', 'camera'}`` of a clip
    name (``Walk_p25_r12_v15_c06``; ints but the activity), or None."""
    match = CLIP_NAME.fullmatch(name)
    if match is None:
        return None
    info = {k: int(v) for k, v in match.groupdict().items()
            if k != 'activity'}
    info['activity'] = match.group('activity')
    return info


def protocol_label(name: str, protocol: str) -> int | None:
    """The label of a clip in ``protocol`` (index in its classes), or None
    when its class is not one of them."""
    classes = PROTOCOLS[protocol]['classes']
    info = parse_clip_name(name)
    if info is None or info['activity'] not in classes:
        return None
    return classes.index(info['activity'])


def is_mapped(name: str) -> bool:
    """Whether some protocol has the clip's class."""
    return any(protocol_label(name, p) is not None for p in PROTOCOLS)


# --------------------------------------------------------------------------
# LCR-Net skeletons
# --------------------------------------------------------------------------
def read_lcrnet_json(path) -> list[tuple]:
    """The detections of each frame of an LCR-Net skeleton JSON.

    Returns:
        list: per frame ``(pose2d [P, 13, 2], pose3d [P, 13, 3], rank [P])``
        float32; ``rank`` is each person's ``cumscore`` (or ``score``), or
        ``-index`` when the file gives none (keeps the listed order).

    Raises:
        ValueError: not JSON, no ``frames`` list, ``njts`` other than 13,
            or a person whose poses do not have 13 joints; the message names
            the file (and the frame).
    """
    path = os.fspath(path)
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as error:
        raise ValueError(f'{path}: unreadable skeleton JSON ({error})') \
            from None
    if not isinstance(data, dict) or not isinstance(data.get('frames'),
                                                     list):
        raise ValueError(f'{path}: expected a JSON object with a "frames" '
                         'list (LCR-Net skeleton)')
    njts = data.get('njts', NUM_JOINTS)
    if njts != NUM_JOINTS:
        raise ValueError(f'{path}: njts={njts}, expected {NUM_JOINTS} '
                         '(LCR-Net-13 joints)')
    frames = []
    for t, persons in enumerate(data['frames']):
        if not isinstance(persons, list):
            raise ValueError(f'{path}: frame {t} is not a list of persons')
        pose2d = np.zeros((len(persons), NUM_JOINTS, 2), np.float32)
        pose3d = np.zeros((len(persons), NUM_JOINTS, 3), np.float32)
        rank = np.zeros(len(persons), np.float32)
        for i, person in enumerate(persons):
            try:
                # coordinate-major: [x0..x12, y0..y12(, z0..z12)]
                xy = np.asarray(person['pose2d'], np.float32)
                xyz = np.asarray(person['pose3d'], np.float32)
                pose2d[i] = xy.reshape(2, NUM_JOINTS).T
                pose3d[i] = xyz.reshape(3, NUM_JOINTS).T
            except (KeyError, TypeError, ValueError, AttributeError):
                raise ValueError(
                    f'{path}: frame {t}, person {i}: expected "pose2d" with '
                    f'{2 * NUM_JOINTS} and "pose3d" with {3 * NUM_JOINTS} '
                    f'numbers (njts={NUM_JOINTS})') from None
            rank[i] = _person_score(person, -i)
        frames.append((pose2d, pose3d, rank))
    return frames


def _person_score(person: dict, default: float) -> float:
    """A detection's ``cumscore`` (or ``score``) if it is a number, else
    ``default``."""
    score = person.get('cumscore', person.get('score'))
    try:
        return float(score)
    except (TypeError, ValueError):
        return default


def _assign_slots(last_centres: np.ndarray, centres: np.ndarray):
    """Slot of each detection: the assignment with the least total distance
    of the detections' 2D centres to the slots' last centres (a slot never
    filled costs more than any distance)."""
    from scipy.optimize import linear_sum_assignment
    distance = np.linalg.norm(centres[:, None] - last_centres[None], axis=-1)
    cost = np.where(np.isnan(distance), 1e12, distance)
    rows, slots = linear_sum_assignment(cost)
    return slots[np.argsort(rows)]


def lcrnet_arrays(frames, max_persons: int = 2):
    """``(pose2d [M, T, 13, 2], pose3d [M, T, 13, 3], present [M, T])`` of
    the frames of :func:`read_lcrnet_json`; ``M`` is the most persons in one
    frame, at most ``max_persons`` (0 when nobody is ever detected)."""
    num_frames = len(frames)
    num_persons = min(max_persons, max((len(f[0]) for f in frames),
                                       default=0))
    pose2d = np.zeros((num_persons, num_frames, NUM_JOINTS, 2), np.float32)
    pose3d = np.zeros((num_persons, num_frames, NUM_JOINTS, 3), np.float32)
    present = np.zeros((num_persons, num_frames), bool)
    last_centres = np.full((num_persons, 2), np.nan, np.float32)
    for t, (xy, xyz, rank) in enumerate(frames):
        if not len(xy) or not num_persons:
            continue
        keep = np.argsort(-rank, kind='stable')[:num_persons]
        centres = xy[keep].mean(axis=1)
        slots = _assign_slots(last_centres, centres)
        pose2d[slots, t], pose3d[slots, t] = xy[keep], xyz[keep]
        present[slots, t] = True
        last_centres[slots] = centres
    return pose2d, pose3d, present


def skeleton_keypoints(pose2d, pose3d, present) -> dict:
    """The keypoint fields of an annotation (see the module docstring)."""
    score = np.repeat(present[..., None], NUM_JOINTS, -1).astype(np.float32)
    coco = np.asarray(LCRNET_TO_COCO)
    has = coco >= 0
    keypoint = np.zeros(pose2d.shape[:2] + (len(coco), 2), np.float32)
    keypoint_score = np.zeros(pose2d.shape[:2] + (len(coco), ), np.float32)
    keypoint[:, :, has] = pose2d[:, :, coco[has]]
    keypoint_score[:, :, has] = score[:, :, coco[has]]
    return dict(keypoint=keypoint, keypoint_score=keypoint_score,
                keypoint_lcrnet13=pose2d.astype(np.float32),
                keypoint_lcrnet13_score=score,
                keypoint_3d=pose3d.astype(np.float32))


# --------------------------------------------------------------------------
# One clip
# --------------------------------------------------------------------------
def build_sample(name: str, raw_root, video_path: str,
                 skeleton_path: str | None, options: dict):
    """The annotation of one clip, without its label (protocol dependent).

    Args:
        video_path, skeleton_path: relative to ``raw_root``; no skeleton
            (None) gives no keypoint fields.
        options: ``max_persons``, ``video_backend``, ``frame_tolerance``,
            ``frame_tolerance_fraction``, ``skeleton_version`` (of the file).

    Returns:
        tuple: ``(annotation, stats)``; ``stats['has_person']`` is False
        when the skeleton has no person in any frame (or no frame, or no
        skeleton is given): the annotation then has no keypoint fields.

    Raises:
        AnnotationBuildError: naming the clip and the file at fault.
    """
    raw_root = os.fspath(raw_root)
    video_file = os.path.join(raw_root, video_path)
    try:
        num_frames, shape = probe_video(video_file, options['video_backend'])
        fps = probe_video_fps(video_file)
    except (ModalityFileError, OSError) as error:
        raise AnnotationBuildError(f'sample {name}: rgb {error}') from None

    frames = None
    if skeleton_path is not None:
        skeleton_file = os.path.join(raw_root, skeleton_path)
        try:
            frames = read_lcrnet_json(skeleton_file)
        except ValueError as error:
            raise AnnotationBuildError(
                f'sample {name}: skeleton {error}') from None
    pose2d, pose3d, present = lcrnet_arrays(frames or [],
                                            options['max_persons'])
    has_person = bool(present.any())
    stats = dict(has_person=has_person, frames_without_person=0,
                 outside_frame=False)

    ann = dict(frame_dir=name)
    if has_person:
        total_frames = len(frames)
        mismatch = check_frame_count(
            name, 'rgb', video_file, num_frames, total_frames, 'skeleton',
            options['frame_tolerance'], options['frame_tolerance_fraction'])
    else:
        total_frames, mismatch = num_frames, None
    ann.update(total_frames=total_frames, img_shape=tuple(shape),
               original_shape=tuple(shape), num_frames=dict(rgb=num_frames),
               modality_shapes=dict(rgb=tuple(shape)), rgb_path=video_path,
               fps=fps)
    if mismatch is not None:
        ann['frame_mismatch'] = dict(rgb=mismatch)
    if not has_person:
        return ann, stats

    ann.update(skeleton_path=skeleton_path,
               skeleton_version=options['skeleton_version'])
    ann.update(skeleton_keypoints(pose2d, pose3d, present))
    stats['frames_without_person'] = int((~present.any(0)).sum())
    joints = pose2d[present]  # [N, 13, 2] of the detected persons
    inside = ((joints[..., 0] >= 0) & (joints[..., 0] < shape[1]) &
              (joints[..., 1] >= 0) & (joints[..., 1] < shape[0]))
    stats['outside_frame'] = bool(inside.mean() < 1 - OUTSIDE_FRAME_FRACTION)
    return ann, stats


def _sample_stamp(name, raw_root, video_path, skeleton_path, options):
    """Cache stamp of a clip: the options and its input files."""
    return (tuple(sorted(options.items())),
            file_stamp(raw_root, [video_path] + (
                [skeleton_path] if skeleton_path else [])))


# --------------------------------------------------------------------------
# Finding the files
# --------------------------------------------------------------------------
def scan_videos(raw_root: str, video_dir: str) -> dict:
    """``{clip name: path relative to raw_root}`` of the clip videos."""
    folder = os.path.join(raw_root, video_dir)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f'no video folder {folder} (expected <raw_root>/mp4/<Activity>_'
            'pPP_rRR_vVV_cCC.mp4 from toyota_smarthome_mp4.tar.gz; see '
            '--video-dir)')
    videos, odd = {}, []
    for entry in sorted(os.listdir(folder)):
        if VIDEO_FILE.fullmatch(entry):
            videos[os.path.splitext(entry)[0]] = f'{video_dir}/{entry}'
        elif not entry.startswith('.'):
            odd.append(entry)
    if odd:
        logger.warning('%d files in %s are not named <Activity>_pPP_rRR_vVV_'
                       'cCC.mp4 and are ignored: %s', len(odd), folder,
                       some(odd))
    return videos


def index_skeletons(raw_root: str, video_dir: str,
                    skeleton_dir: str | None = None,
                    skeleton_version: str = 'auto') -> dict:
    """``{clip name: (relative path, version)}`` of the skeleton JSONs.

    Searched under ``skeleton_dir`` (relative to ``raw_root``) or, without
    it, under ``raw_root`` down to :data:`SKELETON_SEARCH_DEPTH` folders,
    but not in the video folder nor in folders named ``depth*`` (the depth
    download's many files). v1.2 (``_pose3d.json``) wins over v1.1 unless
    ``skeleton_version`` says.

    Raises:
        ValueError: two files of the same version for one clip (pass
            ``--skeleton-dir``).
        FileNotFoundError: ``skeleton_dir`` is not a folder.
    """
    if skeleton_dir is not None:
        search = os.path.join(raw_root, skeleton_dir)
        if not os.path.isdir(search):
            raise FileNotFoundError(f'no skeleton folder {search}')
    else:
        search = raw_root
    skip = os.path.normpath(os.path.join(raw_root, video_dir))
    found: dict = {}
    for folder, subfolders, files in os.walk(search):
        if os.path.normpath(folder) == skip:
            subfolders[:] = []
            continue
        below = os.path.relpath(folder, search)
        depth = 0 if below == '.' else below.count(os.sep) + 1
        subfolders[:] = sorted(
            s for s in subfolders if skeleton_dir is not None or (
                depth < SKELETON_SEARCH_DEPTH
                and not s.lower().startswith('depth')))
        for entry in files:
            match = SKELETON_FILE.fullmatch(entry)
            if match is None:
                continue
            version = 'v1.2' if match.group('pose3d') else 'v1.1'
            if skeleton_version not in ('auto', version):
                continue
            relative = os.path.relpath(os.path.join(folder, entry), raw_root)
            relative = relative.replace(os.sep, '/')
            per_version = found.setdefault(match.group('clip'), {})
            if version in per_version:
                raise ValueError(
                    f'two {version} skeletons of clip {match.group("clip")}: '
                    f'{per_version[version]} and {relative}; choose the '
                    'folder with --skeleton-dir')
            per_version[version] = relative
    both = [n for n, v in found.items() if len(v) > 1]
    if both:
        logger.info('%d clips have both a v1.1 and a v1.2 skeleton: using '
                    'v1.2 (--skeleton-version v1.1 for the other)', len(both))
    return {name: max(((path, version) for version, path in v.items()),
                      key=lambda item: item[1])
            for name, v in found.items()}


def read_split_file(path) -> list[str]:
    """Clip names of a split list: one per line (a path, ``.mp4`` or not;
    more columns after a space or comma are ignored); blank lines and
    ``#`` comments skipped.

    Raises:
        ValueError: a line that is not a clip name, naming file and line.
    """
    names = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            entry = re.split(r'[\s,]+', line)[0].replace('\\', '/')
            name = entry.rsplit('/', 1)[-1]
            stem, ext = os.path.splitext(name)
            if ext.lower() in ('.mp4', '.json', '.avi'):
                name = stem
            if parse_clip_name(name) is None:
                raise ValueError(f'{path}, line {number}: {line!r} is not a '
                                 'clip name <Activity>_pPP_rRR_vVV_cCC')
            names.append(name)
    return names


def find_split_file(splits_dir, benchmark: str, part: str):
    """The first of :data:`SPLIT_FILES` in ``splits_dir`` (any case), or
    None."""
    if splits_dir is None:
        return None
    present = {entry.lower(): entry for entry in os.listdir(splits_dir)}
    for candidate in SPLIT_FILES[(benchmark, part)]:
        if candidate.lower() in present:
            return os.path.join(splits_dir, present[candidate.lower()])
    return None


def rule_part(name: str, benchmark: str) -> str | None:
    """The part (train / val / test) of :data:`SPLIT_RULES` a clip falls
    in, or None."""
    field, parts = SPLIT_RULES[benchmark]
    value = parse_clip_name(name)[field]
    return next((p for p, values in parts.items() if value in values), None)


def _describe_rule(benchmark: str, part: str) -> str:
    field, parts = SPLIT_RULES[benchmark]
    return f'{field}s {", ".join(map(str, parts[part]))}'


def make_splits(protocol: str, names, splits_dir=None):
    """The splits of a protocol, from split files or the name fields.

    Args:
        names: the clips (videos) of the protocol's classes, for the splits
            derived from the name fields.

    Returns:
        tuple: ``(splits, sources)``: ``{'<benchmark>_<part>': [names]}``
        (as listed: they may name clips of other classes or without video)
        and ``{split: 'file <path>' | 'derived: <rule>'}``.
    """
    splits, sources = {}, {}
    for benchmark in PROTOCOLS[protocol]['benchmarks']:
        for part in SPLIT_PARTS:
            split = f'{benchmark}_{part}'
            path = find_split_file(splits_dir, benchmark, part)
            if path is None:
                splits[split] = [n for n in names
                                 if rule_part(n, benchmark) == part]
                sources[split] = f'derived: {_describe_rule(benchmark, part)}'
                continue
            listed = read_split_file(path)
            splits[split] = listed
            sources[split] = f'file {path}'
            odd = [n for n in listed if is_mapped(n)
                   and rule_part(n, benchmark) != part]
            if odd:
                logger.warning(
                    '%s (%s): %d of its clips are not of %s: %s', split,
                    path, len(odd), _describe_rule(benchmark, part),
                    some(odd))
        files = [s for s in sources if s.startswith(f'{benchmark}_')]
        logger.info('%s splits: %s', benchmark, '; '.join(
            f'{s} {sources[s]}' for s in files))
    return splits, sources


# --------------------------------------------------------------------------
# The whole dataset
# --------------------------------------------------------------------------
def _protocol_members(protocol, videos, splits_dir, left_out):
    """The splits of a protocol restricted to its classes and to clips with
    a video; fills ``left_out`` (name -> reason) with the rest."""
    classes = PROTOCOLS[protocol]['classes']
    names = [n for n in videos
             if parse_clip_name(n)['activity'] in classes]
    listed, sources = make_splits(protocol, names, splits_dir)
    splits, foreign = {}, {}
    for split, members in listed.items():
        kept = []
        for name in members:
            if not is_mapped(name):
                left_out[name] = 'unmapped_class'
            elif protocol_label(name, protocol) is None:
                foreign.setdefault(split, []).append(name)
            elif name not in videos:
                left_out[name] = 'no_video'
            else:
                kept.append(name)
        splits[split] = kept
    for split, others in foreign.items():
        logger.warning('%s: %d listed clips are of classes outside the %d %s '
                       'classes, left out: %s', split, len(others),
                       len(classes), protocol.upper(), some(others))
    in_splits = set().union(*splits.values())
    for name in videos:
        if not is_mapped(name):
            left_out[name] = 'unmapped_class'
        elif name in names and name not in in_splits:
            left_out[name] = 'not_in_splits'
    return names, splits, sources


def _log_summary(protocol, summary, left_out, skipped):
    logger.info('%s: %d clips of its classes found, %d kept', protocol,
                summary['found'], summary['kept'])
    for reason, text in LEFT_OUT_REASONS.items():
        names = sorted(n for n, r in left_out.items() if r == reason)
        if names and reason != 'bad':
            logger.warning('%s: left out %d clips that %s: %s', protocol,
                           len(names), text, some(names))
    if skipped:
        logger.warning('%s: skipped %d bad clips (--skip-bad)', protocol,
                       len(skipped))
    logger.info('%s: skeletons %s; %d kept clips without keypoint fields; '
                '%d clips have frames without a person (%d frames, zeros '
                'with score 0); frame rates %s; sizes %s', protocol,
                summary['skeleton_versions'],
                summary['kept_without_keypoints'],
                summary['frames_without_person']['clips'],
                summary['frames_without_person']['frames'], summary['fps'],
                summary['resolutions'])
    if summary['frame_mismatch']['within_tolerance']:
        logger.info('%s: %d clips have a video frame count that differs '
                    "from the skeleton's within the tolerance (recorded in "
                    "'frame_mismatch')", protocol,
                    summary['frame_mismatch']['within_tolerance'])
    if summary['pose2d_outside_frame']:
        logger.warning('%s: in %d clips most 2D joints lie outside the video '
                       'frame: are the LCR-Net pose2d in this video\'s pixel '
                       'space?', protocol, summary['pose2d_outside_frame'])


def _summary(names, annotations, stats, left_out):
    kept = [a for a in annotations if 'keypoint' in a]
    return dict(
        found=len(names), kept=len(annotations),
        skeleton_versions=dict(Counter(a['skeleton_version'] for a in kept)),
        left_out={reason: sum(r == reason for r in left_out.values())
                  for reason in LEFT_OUT_REASONS},
        kept_without_keypoints=len(annotations) - len(kept),
        frames_without_person=dict(
            clips=sum(stats[a['frame_dir']]['frames_without_person'] > 0
                      for a in kept),
            frames=sum(stats[a['frame_dir']]['frames_without_person']
                       for a in kept)),
        pose2d_outside_frame=sum(stats[a['frame_dir']]['outside_frame']
                                 for a in kept),
        frame_mismatch=dict(within_tolerance=sum('frame_mismatch' in a
                                                 for a in annotations)),
        fps=dict(Counter(a['fps'] for a in annotations)),
        resolutions=dict(Counter(f'{a["img_shape"][1]}x{a["img_shape"][0]}'
                                 for a in annotations)))


def _resolve_splits_dir(raw_root, splits_dir):
    if splits_dir is None:
        default = os.path.join(raw_root, 'splits')
        if os.path.isdir(default):
            logger.info('split lists from %s', default)
            return default
        logger.info('no --splits-dir (and no %s): every split is derived '
                    'from the clip names (CS by subject, CV by camera)',
                    default)
        return None
    for candidate in (splits_dir, os.path.join(raw_root, splits_dir)):
        if os.path.isdir(candidate):
            return os.path.abspath(candidate)
    raise FileNotFoundError(f'no split folder {splits_dir}')


def build_annotations(raw_root,
                      out_file='data/toyota_smarthome_{protocol}.pkl',
                      protocols=('cs', 'cv'), splits_dir=None,
                      video_dir: str = 'mp4', skeleton_dir: str | None = None,
                      skeleton_version: str = 'auto', max_persons: int = 2,
                      keep_missing_skeletons: bool = False,
                      video_backend: str = 'auto',
                      num_workers: int | None = None, cache_dir=None,
                      skip_bad: bool = False,
                      frame_tolerance: int = FRAME_TOLERANCE,
                      frame_tolerance_fraction: float =
                      FRAME_TOLERANCE_FRACTION) -> dict:
    """Converts the Toyota Smarthome download into one pkl per protocol.

    Args:
        raw_root: folder holding ``mp4/`` and the skeleton JSONs.
        out_file: the pkl to write; ``{protocol}`` in it is replaced by
            ``cs`` / ``cv`` (required with more than one protocol).
        protocols: of ``'cs'`` (31 classes, splits ``cs_train`` /
            ``cs_val`` / ``cs_test``) and ``'cv'`` (19 classes, ``cv1_*``,
            ``cv2_*``).
        splits_dir: folder of the split lists (:data:`SPLIT_FILES`); default
            ``<raw_root>/splits`` if it exists; a split without a file is
            derived from the clip names (:data:`SPLIT_RULES`).
        video_dir: the videos' folder under ``raw_root``.
        skeleton_dir: where the skeleton JSONs are (relative to
            ``raw_root``); default: searched under ``raw_root``.
        skeleton_version: ``'auto'`` (v1.2 where both), ``'v1.1'``,
            ``'v1.2'``.
        max_persons: at most this many persons per clip (``M``).
        keep_missing_skeletons: keep clips without a usable skeleton,
            without keypoint fields.
        video_backend: of :func:`common.probe_video`.
        num_workers, cache_dir, skip_bad: see :func:`common.build_all`.
        frame_tolerance, frame_tolerance_fraction: how far the video's
            frame count may be from the skeleton's.

    Returns:
        ``{protocol: the dict written}``.

    Raises:
        AnnotationBuildError: (without ``skip_bad``) a bad clip, naming it
            and its file.
        FileNotFoundError: no video folder / split folder.
        ValueError: bad arguments or split list lines.
    """
    protocols = tuple(dict.fromkeys(protocols))
    unknown = [p for p in protocols if p not in PROTOCOLS]
    if unknown or not protocols:
        raise ValueError(f'protocols must be among {list(PROTOCOLS)}, got '
                         f'{list(protocols)}')
    out_file = os.fspath(out_file)
    if len(protocols) > 1 and '{protocol}' not in out_file:
        raise ValueError(f'--out {out_file} must contain {{protocol}} to '
                         f'write the pkls of {", ".join(protocols)}')
    if skeleton_version not in ('auto', ) + SKELETON_VERSIONS:
        raise ValueError(f'skeleton_version must be auto, v1.1 or v1.2, got '
                         f'{skeleton_version!r}')
    if max_persons < 1:
        raise ValueError(f'max_persons must be >= 1, got {max_persons}')
    if frame_tolerance < 0 or not 0 <= frame_tolerance_fraction < 1:
        raise ValueError(
            f'frame_tolerance must be >= 0 and frame_tolerance_fraction in '
            f'[0, 1), got {frame_tolerance} and {frame_tolerance_fraction}')
    raw_root = os.path.abspath(os.fspath(raw_root))
    video_dir = video_dir.strip('/')
    splits_dir = _resolve_splits_dir(raw_root, splits_dir)

    videos = scan_videos(raw_root, video_dir)
    skeletons = index_skeletons(raw_root, video_dir, skeleton_dir,
                                skeleton_version)
    logger.info('%d clip videos and %d skeleton JSONs (%s) under %s',
                len(videos), len(skeletons), dict(Counter(
                    v for _, v in skeletons.values())), raw_root)

    plans = {}
    for protocol in protocols:
        left_out: dict = {}
        names, splits, sources = _protocol_members(protocol, videos,
                                                   splits_dir, left_out)
        plans[protocol] = (names, splits, sources, left_out)
    todo = sorted(set().union(*(
        set().union(*plan[1].values()) for plan in plans.values())))
    without_skeleton = [n for n in todo if n not in skeletons]
    if not keep_missing_skeletons:
        todo = [n for n in todo if n in skeletons]

    options = dict(max_persons=max_persons, video_backend=video_backend,
                   frame_tolerance=frame_tolerance,
                   frame_tolerance_fraction=frame_tolerance_fraction)
    items = []
    for name in todo:
        skeleton_path, version = skeletons.get(name, (None, None))
        items.append((name, (name, raw_root, videos[name], skeleton_path,
                             dict(options, skeleton_version=version))))
    results, skipped = build_all(items, build_sample, _sample_stamp,
                                 cache_dir, num_workers, skip_bad)

    written = {}
    for protocol in protocols:
        names, splits, sources, left_out = plans[protocol]
        classes = PROTOCOLS[protocol]['classes']
        members = set().union(*splits.values())
        annotations, stats, protocol_skipped = [], {}, {}
        for name in sorted(members):
            if name in skipped:
                left_out[name], protocol_skipped[name] = 'bad', skipped[name]
            elif name in without_skeleton and not keep_missing_skeletons:
                left_out[name] = 'no_skeleton_file'
            elif not results[name][1]['has_person'] and \
                    not keep_missing_skeletons and name in skeletons:
                left_out[name] = 'no_person'
            else:
                ann, stats[name] = results[name]
                annotations.append(dict(
                    frame_dir=name, label=protocol_label(name, protocol),
                    **{k: v for k, v in ann.items() if k != 'frame_dir'}))
        kept = [a['frame_dir'] for a in annotations]
        summary = _summary(names, annotations, stats, left_out)
        _log_summary(protocol, summary, left_out, protocol_skipped)
        meta = dict(
            dataset=DATASET, protocol=protocol, raw_root=raw_root,
            modalities=['rgb'], keypoint_source='lcrnet',
            keypoint_layouts=dict(KEYPOINT_LAYOUTS), class_names=list(classes),
            max_persons=max_persons, split_sources=sources, summary=summary,
            left_out=dict(sorted(left_out.items())),
            skipped=protocol_skipped)
        data = dict(split=check_splits(splits, kept), annotations=annotations,
                    meta=meta)
        path = out_file.replace('{protocol}', protocol)
        atomic_pickle_dump(data, path)
        logger.info('%s: wrote %d annotations to %s', protocol,
                    len(annotations), path)
        written[protocol] = data
    return written


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build the annotation pkls of Toyota Smarthome (trimmed) '
        '(docs/data_format.md), one per protocol.')
    parser.add_argument('--raw-root', required=True,
                        help='folder holding mp4/ and the skeleton JSONs')
    parser.add_argument('--out', dest='out_file', metavar='PKL',
                        default='data/toyota_smarthome_{protocol}'
                        '.pkl', help='output pkl; {protocol} becomes cs / cv '
                        '(default: %(default)s)')
    parser.add_argument('--protocols', nargs='+', choices=tuple(PROTOCOLS),
                        default=list(PROTOCOLS),
                        help='cs: 31 classes, cs_train/val/test; cv: 19 '
                        'classes, cv1_* and cv2_* (default: both)')
    parser.add_argument('--splits-dir', default=None,
                        help='folder of the split lists (train_CS.txt, '
                        'validation_CS.txt, test_CS.txt, train_CV1.txt, '
                        'test_CV1.txt, train_CV2.txt, validation_CV2.txt; '
                        'default <raw-root>/splits if it exists); a split '
                        'without a file is derived from the clip names')
    parser.add_argument('--video-dir', default='mp4',
                        help='folder of the .mp4 clips under --raw-root')
    parser.add_argument('--skeleton-dir', default=None,
                        help='folder of the skeleton JSONs under --raw-root '
                        '(default: searched under --raw-root)')
    parser.add_argument('--skeleton-version', default='auto',
                        choices=('auto', ) + SKELETON_VERSIONS,
                        help='v1.1 <clip>.json or v1.2 <clip>_pose3d.json '
                        '(auto: v1.2 where a clip has both)')
    parser.add_argument('--max-persons', type=int, default=2,
                        help='persons kept per clip (M)')
    parser.add_argument('--keep-missing-skeletons', action='store_true',
                        help='keep clips without a usable skeleton (no JSON, '
                        'no person in it) without keypoint fields')
    parser.add_argument('--video-backend', choices=('auto', 'decord', 'cv2'),
                        default='auto')
    add_frame_tolerance_arguments(
        parser, 'the skeleton frame count')
    add_common_arguments(parser)
    return parser.parse_args(argv)


def main(argv=None):
    return run_cli(build_annotations, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
