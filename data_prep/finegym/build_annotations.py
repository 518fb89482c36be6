"""Build the annotation pkl of FineGYM Gym99 from the user's YouTube videos.

Usage, from the repository root::

    python -m data_prep.finegym.build_annotations \\
        --videos-dir data/finegym/videos --ann-dir data/finegym/annotations \\
        --out data/finegym_annotations.pkl

What is read:

* ``<videos_dir>/<yt_id>.mp4`` (or ``.mkv`` / ``.webm``): the YouTube
  videos, as the user crawled them (FineGYM ships no video).
* in ``--ann-dir`` (or given one by one): the annotation JSON
  ``finegym_annotation_info_v1.1.json`` (else ``_v1.0``), the element lists
  ``gym99_train_element_v1.1.txt`` (else ``_v1.0``, else without version)
  and ``gym99_val_element.txt``, and the class names
  ``gym99_categories.txt`` (else MMAction2's ``label_map_gym99.txt``). The
  file found of each is logged and stored in ``meta['sources']``.

  The JSON is ``{yt_id: {"E_ssssss_eeeeee": {"timestamps": [[s, e]],
  "segments": {"A_aaaa_bbbb": {"timestamps": [[s, e], ...]}, ...} | null}}}``:
  event times in seconds in the video, sub-action times in seconds from the
  event's start. A list line is ``<yt_id>_E_ssssss_eeeeee_A_aaaa_bbbb
  <label>`` (the YouTube id may itself hold ``_`` and ``-``); a categories
  line ``Clabel: 0; set: 1; Glabel: 1; (VT) round-off, ...`` (or just the
  name, one per line, in label order).

What is written: one annotation per list id (``frame_dir`` = the id,
``label`` = the list's 0-98), the splits ``gym99_train`` / ``gym99_val``
(the two lists, in their order), ``meta['class_names']`` from the categories
file. The sample's frames are those of its sub-action in the original video:

* times: the event's first timestamp pair gives its start ``E`` (seconds in
  the video); a sub-action of several stages (vault: run, flight, landing;
  ``"timestamps": [[s1, e1], [s2, e2], ...]``) spans from its first start to
  its last end, ``s = s1``, ``e = e_last`` (as MMAction2's
  ``trim_subaction.py``). The times of the JSON are used, not the rounded
  seconds of the id.
* frames: ``start = round((E + s) * fps)``, ``stop = round((E + e) *
  fps)`` (halves up), the clip is frames ``start .. stop - 1`` -- the end
  is exclusive, ``stop - start`` frames, what ``ffmpeg -ss E+s -t e-s``
  keeps (frames whose time lies in ``[E + s, E + e)``). ``fps`` is the
  frame rate the video's container states (OpenCV, to 1/1000 fps: under
  half a frame off after three hours at 29.97 fps); YouTube videos have a
  constant one. Frame count, size and frame rate are probed once per
  video.
* by default the range is stored, nothing is re-encoded: ``rgb_path`` =
  the long video (relative to ``meta['raw_root']`` = ``videos_dir``),
  ``frame_offset = start``, ``total_frames = num_frames['rgb'] = stop -
  start`` (``MultiModalDecode`` and ``data_prep.pose_extraction`` read
  frames ``frame_offset ..`` of the video).
* with ``trim_dir`` (``--trim-dir``), each sub-action is written as a clip
  of its own, ``<trim_dir>/<frame_dir>.mp4`` (decoded with decord, else
  OpenCV; written with OpenCV's ``mp4v`` at the video's frame rate and
  size, no ffmpeg needed). ``rgb_path`` is then the clip, relative to
  ``meta['raw_root']`` = ``trim_dir``, without ``frame_offset``. A clip is
  written to a temporary file, checked (its frame count and size decode
  back) and renamed, so a clip under its final name is complete; a re-run
  keeps the clips already there (checked the same way) and writes the
  others.

Keypoints: none by default (``meta['keypoint_source'] = None``); the paper's
HRNet poses come from ``python -m data_prep.pose_extraction`` on this pkl
(it honours ``frame_offset``). ``poses`` (``--poses gym_hrnet.pkl``) merges
PYSKL's released HRNet poses instead: a PoseDataset pkl whose
``annotations`` have ``frame_dir``, ``keypoint`` ``[M, T, 17, 2]``,
``keypoint_score`` ``[M, T, 17]``, ``img_shape``, ``total_frames``. Its
``frame_dir`` may be the list id or the id without ``E_`` / ``A_``
(``<yt_id>_ssssss_eeeeee_aaaa_bbbb``, seen in derived pkls); both are
matched. The keypoints are rescaled from the pose pkl's ``img_shape`` to the
user's video (YouTube serves several resolutions). Their frame count must
equal the clip's (``T == stop - start``); with ``pose_frame_tolerance``
(``--pose-frame-tolerance N``) a difference of up to ``N`` frames is mapped
proportionally (pose frame ``min(t * T // n, T - 1)`` for clip frame ``t``,
as ``MultiModalDecode`` maps modalities) and recorded in
``frame_mismatch['pose'] = (T, n)``. Keypoint joint order: COCO-17 (nose,
left eye, right eye, left ear, right ear, left / right shoulder, elbow,
wrist, hip, knee, ankle), ``meta['keypoint_layouts'] = {'keypoint':
'coco17'}``, ``meta['keypoint_source'] = 'pyskl_hrnet'``.

Bad input:

* a video that is not there: its samples are left out, counted and reported
  (YouTube crawls are incomplete: videos are taken down), by default a
  skip, not an error -- the summary logs how many samples and videos are
  missing, ``meta['summary']['videos']`` counts them and
  ``meta['missing_videos']`` lists the YouTube ids; ``require_videos``
  (``--require-videos``) makes it an error.
* a list id that is not in the JSON (unknown video, event, sub-action, or an
  event without segments), an unreadable video, a frame range past the end
  of the video (or empty), a sample without poses or with another frame
  count in the ``poses`` pkl: an :class:`AnnotationBuildError` naming the
  sample and the file, and no pkl is written; with ``skip_bad``
  (``--skip-bad``) such samples are left out, counted and listed with their
  reason in ``meta['skipped']``.
* malformed list or categories lines, a label outside the classes, an id
  listed with two labels: an error naming the file and line.

The samples are built per video, in parallel worker processes with a
progress bar (one step per video), each video's result cached with
``--cache-dir`` (reused while the video, the options and its samples are
unchanged); the pkl is written atomically.
"""
from __future__ import annotations

import argparse
import glob
import json
import logging
import math
import os
import pickle
import re
import sys
import time

import numpy as np

from ..common import (AnnotationBuildError, ModalityFileError,
                      add_common_arguments, build_all, check_splits,
                      file_stamp, probe_video, probe_video_fps, run_cli, some,
                      write_annotations)

logger = logging.getLogger(__name__)

DATASET = 'finegym_gym99'
NUM_CLASSES = 99
SPLITS = ('gym99_train', 'gym99_val')
VIDEO_EXTENSIONS = ('.mp4', '.mkv', '.webm')
#: candidate names of each annotation file, the first found is used
ANNOTATION_FILES = {
    'annotation': ('finegym_annotation_info_v1.1.json',
                   'finegym_annotation_info_v1.0.json',
                   'finegym_annotation_info.json'),
    'gym99_train': ('gym99_train_element_v1.1.txt',
                    'gym99_train_element_v1.0.txt',
                    'gym99_train_element.txt'),
    'gym99_val': ('gym99_val_element.txt', 'gym99_val_element_v1.1.txt',
                  'gym99_val_element_v1.0.txt'),
    'categories': ('gym99_categories.txt', 'label_map_gym99.txt'),
}
ELEMENT_ID = re.compile(r'(?P<video>.+)_(?P<event>E_\d+_\d+)_'
                        r'(?P<action>A_\d+_\d+)')
CATEGORY_LINE = re.compile(r'Clabel:\s*(\d+)\s*;\s*set:\s*(\d+)\s*;\s*'
                           r'Glabel:\s*(\d+)\s*;\s*(.*)')
#: temporary clips of a killed run older than this are removed
STALE_TMP_SECONDS = 600
#: frames decoded at once when trimming
TRIM_CHUNK = 32


# --------------------------------------------------------------------------
# Annotation files
# --------------------------------------------------------------------------
def find_annotation_files(ann_dir=None, **given) -> dict:
    """Paths of ``annotation``, ``gym99_train``, ``gym99_val`` and
    ``categories``: ``given[key]`` if not None, else the first of
    :data:`ANNOTATION_FILES` found in ``ann_dir``. The categories file may
    be missing (None; labels then get no names), the others must exist.

    Raises:
        FileNotFoundError: naming the file (or the candidates) not found.
    """
    found = {}
    for key, candidates in ANNOTATION_FILES.items():
        path = given.get(key)
        if path is None and ann_dir is not None:
            path = next((os.path.join(ann_dir, c) for c in candidates
                         if os.path.isfile(os.path.join(ann_dir, c))), None)
        if path is not None and not os.path.isfile(path):
            raise FileNotFoundError(f'{key} file {path} not found')
        if path is None and key != 'categories':
            where = f' in {ann_dir}' if ann_dir is not None else ''
            raise FileNotFoundError(
                f'no {key} file{where} (expected one of '
                f'{", ".join(candidates)}, or pass it explicitly)')
        found[key] = None if path is None else os.path.abspath(path)
    for key, path in found.items():
        logger.info('%s: %s', key, path or 'not found (labels stay unnamed)')
    return found


def parse_element_id(name: str):
    """``(yt_id, event_id, action_id)`` of a list id
    ``<yt_id>_E_ssssss_eeeeee_A_aaaa_bbbb``.

    Raises:
        ValueError: not such an id.
    """
    match = ELEMENT_ID.fullmatch(name)
    if match is None:
        raise ValueError(f'{name!r} is not a FineGYM element id '
                         '(<yt_id>_E_ssssss_eeeeee_A_aaaa_bbbb)')
    return match.group('video'), match.group('event'), match.group('action')


def short_element_id(name: str) -> str:
    """The id without ``E_`` / ``A_`` (``<yt_id>_ssssss_eeeeee_aaaa_bbbb``),
    the ``frame_dir`` style of some released pose pkls."""
    video, event, action = parse_element_id(name)
    return f'{video}_{event[2:]}_{action[2:]}'


def read_element_list(path, num_classes: int = NUM_CLASSES) -> list:
    """``[(id, label), ...]`` of a Gym99 list file, in its order; an id
    listed twice with the same label is kept once.

    Raises:
        AnnotationBuildError: a malformed line, a label outside
            ``0 .. num_classes - 1``, or an id listed with two labels,
            naming the file and the line.
    """
    entries, seen = [], {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            where = f'{path}, line {number}'
            if len(fields) != 2 or not fields[1].lstrip('-').isdigit():
                raise AnnotationBuildError(
                    f'{where}: expected "<element id> <label>", got '
                    f'{line.strip()!r}')
            name, label = fields[0], int(fields[1])
            try:
                parse_element_id(name)
            except ValueError as error:
                raise AnnotationBuildError(f'{where}: {error}') from None
            if not 0 <= label < num_classes:
                raise AnnotationBuildError(
                    f'{where}: label {label} of {name} is not a Gym99 class '
                    f'(0..{num_classes - 1})')
            if name in seen:
                if seen[name] != label:
                    raise AnnotationBuildError(
                        f'{where}: {name} listed again with label {label} '
                        f'(was {seen[name]})')
                logger.warning('%s: %s listed twice; kept once', where, name)
                continue
            seen[name] = label
            entries.append((name, label))
    return entries


def read_categories(path) -> list:
    """Class names, index = label, from ``gym99_categories.txt`` lines
    ``Clabel: 0; set: 1; Glabel: 1; (VT) round-off, ...`` (or one name per
    line, in label order).

    Raises:
        AnnotationBuildError: the labels are not ``0 .. K - 1`` each once.
    """
    with open(path) as f:
        lines = [line.strip() for line in f if line.strip()]
    parsed = [CATEGORY_LINE.fullmatch(line) for line in lines]
    if not any(parsed):
        return lines  # one name per line
    names = {}
    for number, (line, match) in enumerate(zip(lines, parsed), 1):
        if match is None:
            raise AnnotationBuildError(
                f'{path}: line {number} is not "Clabel: <label>; set: ...; '
                f'Glabel: ...; <name>": {line!r}')
        label = int(match.group(1))
        if label in names:
            raise AnnotationBuildError(f'{path}: label {label} listed twice')
        names[label] = match.group(4).strip()
    if sorted(names) != list(range(len(names))):
        raise AnnotationBuildError(
            f'{path}: the labels are not 0..{len(names) - 1} (missing '
            f'{sorted(set(range(max(names) + 1)) - set(names))[:10]})')
    return [names[label] for label in range(len(names))]


def sub_action_times(annotation: dict, name: str, json_path) -> tuple:
    """``(event start, sub-action start, sub-action end)`` in seconds of a
    list id: the event's start in the video, the sub-action's first start
    and last end from the event's start.

    Raises:
        AnnotationBuildError: the id, its event or sub-action is not in the
            JSON, or their timestamps are malformed.
    """
    video, event, action = parse_element_id(name)
    where = f'sample {name}: '
    events = annotation.get(video)
    if events is None:
        raise AnnotationBuildError(
            f'{where}video {video} is not in {json_path}')
    event_info = events.get(event)
    if event_info is None:
        raise AnnotationBuildError(
            f'{where}event {event} of video {video} is not in {json_path}')
    segments = event_info.get('segments')
    if not segments or action not in segments:
        raise AnnotationBuildError(
            f'{where}sub-action {action} is not among the segments of event '
            f'{video}/{event} in {json_path}'
            + (' (its segments are null)' if not segments else ''))
    try:
        event_start = float(event_info['timestamps'][0][0])
        stages = segments[action]['timestamps']
        sub_start, sub_end = float(stages[0][0]), float(stages[-1][1])
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise AnnotationBuildError(
            f'{where}malformed timestamps of {video}/{event}/{action} in '
            f'{json_path} ({type(error).__name__}: {error})') from None
    return event_start, sub_start, sub_end


def to_frame(seconds: float, fps: float) -> int:
    """Nearest frame index of a time (halves up)."""
    return int(math.floor(seconds * fps + 0.5))


def frame_range(event_start: float, sub_start: float, sub_end: float,
                fps: float) -> tuple:
    """``(start, stop)``: the sub-action is frames ``start .. stop - 1`` of
    the video (the end exclusive)."""
    return (to_frame(event_start + sub_start, fps),
            to_frame(event_start + sub_end, fps))


def find_video(videos_dir, yt_id: str):
    """File name of a YouTube video in ``videos_dir`` (the first of
    :data:`VIDEO_EXTENSIONS` there), or None."""
    for extension in VIDEO_EXTENSIONS:
        if os.path.isfile(os.path.join(videos_dir, yt_id + extension)):
            return yt_id + extension
    return None


# --------------------------------------------------------------------------
# Trimming
# --------------------------------------------------------------------------
class RangeReader:
    """Frames of a video by ranges, as BGR arrays: decord (frame-accurate
    seeking) when installed and ``backend`` allows, else OpenCV."""

    def __init__(self, path, backend: str = 'auto'):
        self.path = os.fspath(path)
        if backend == 'auto':
            try:
                import decord  # noqa: F401
                backend = 'decord'
            except ImportError:
                backend = 'cv2'
        self.backend = backend
        if backend == 'decord':
            import decord
            try:
                self._reader = decord.VideoReader(self.path, num_threads=1)
            except Exception as error:  # decord raises its own DECORDError
                raise ModalityFileError(
                    f'{self.path}: unreadable video ({error})') from None

    def frames(self, start: int, stop: int):
        """Yields frames ``start .. stop - 1``."""
        if self.backend == 'decord':
            for first in range(start, stop, TRIM_CHUNK):
                indices = list(range(first, min(first + TRIM_CHUNK, stop)))
                try:
                    batch = self._reader.get_batch(indices).asnumpy()
                except Exception as error:
                    raise ModalityFileError(
                        f'{self.path}: cannot decode frames {indices[0]}..'
                        f'{indices[-1]} ({error})') from None
                for frame in batch:
                    yield np.ascontiguousarray(frame[..., ::-1])
            return
        import cv2
        capture = cv2.VideoCapture(self.path)
        try:
            if start:
                capture.set(cv2.CAP_PROP_POS_FRAMES, start)
            for index in range(start, stop):
                ok, frame = capture.read()
                if not ok or frame is None:
                    raise ModalityFileError(
                        f'{self.path}: cannot decode frame {index}')
                yield frame
        finally:
            capture.release()


def clip_is_complete(path, num_frames: int, shape, backend='auto') -> bool:
    """True when the clip decodes to ``num_frames`` frames of ``shape``."""
    if not os.path.isfile(path):
        return False
    try:
        return probe_video(path, backend) == (num_frames, tuple(shape))
    except ModalityFileError:
        return False


def write_clip(frames, path, fps: float, shape, num_frames: int,
               backend: str = 'auto') -> None:
    """Writes ``frames`` (BGR, all of ``shape``) to the mp4 ``path``
    (OpenCV ``mp4v``), atomically: a temporary file next to it is written,
    checked to decode back to ``num_frames`` frames of ``shape``, then
    renamed.

    Raises:
        ModalityFileError: the writer cannot be opened, a frame has another
            size, or the written clip does not decode back.
    """
    import cv2
    folder, base = os.path.split(os.fspath(path))
    tmp_path = os.path.join(
        folder, f'.tmp_{os.path.splitext(base)[0]}_{os.getpid()}.mp4')
    height, width = shape
    writer = cv2.VideoWriter(tmp_path, cv2.VideoWriter_fourcc(*'mp4v'),
                             float(fps), (int(width), int(height)))
    try:
        if not writer.isOpened():
            raise ModalityFileError(f'{tmp_path}: OpenCV cannot write mp4v')
        for frame in frames:
            if frame.shape[:2] != (height, width):
                raise ModalityFileError(
                    f'{path}: frame of {frame.shape[1]}x{frame.shape[0]} in '
                    f'a {width}x{height} video')
            writer.write(frame)
        writer.release()
        got = probe_video(tmp_path, backend)
        if got != (num_frames, (height, width)):
            raise ModalityFileError(
                f'{path}: the written clip decodes to {got[0]} frames of '
                f'{got[1][1]}x{got[1][0]}, expected {num_frames} of '
                f'{width}x{height}')
        os.replace(tmp_path, path)
    finally:
        writer.release()
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)


def remove_stale_clips(trim_dir) -> None:
    """Removes temporary clips of killed runs (older than
    :data:`STALE_TMP_SECONDS`; a live one is being written now)."""
    now = time.time()
    for path in glob.glob(os.path.join(os.fspath(trim_dir), '.tmp_*.mp4')):
        try:
            if now - os.path.getmtime(path) > STALE_TMP_SECONDS:
                os.unlink(path)
        except OSError:
            pass


# --------------------------------------------------------------------------
# One video
# --------------------------------------------------------------------------
def build_video(yt_id: str, video_name: str, samples: tuple, videos_dir,
                trim_dir=None, video_backend: str = 'auto',
                skip_bad: bool = False) -> dict:
    """The annotations of the samples of one video.

    Args:
        yt_id: the YouTube id.
        video_name: its file in ``videos_dir``.
        samples: ``(name, label, event_start, sub_start, sub_end)`` each
            (:func:`sub_action_times`).
        trim_dir: write each sample as ``<trim_dir>/<name>.mp4`` (kept if
            already there and complete).
        skip_bad: collect a bad sample in the result's ``bad`` instead of
            raising.

    Returns:
        dict: ``annotations`` (list), ``bad`` (``{name: reason}``) and
        ``trimmed`` (``{'written': n, 'kept': n}`` clips).

    Raises:
        AnnotationBuildError: the video is unreadable (naming it and its
            samples), or (without ``skip_bad``) a sample's range is empty or
            runs past the end of the video, or its clip cannot be written.
    """
    path = os.path.join(os.fspath(videos_dir), video_name)
    names = [sample[0] for sample in samples]
    try:
        video_frames, shape = probe_video(path, video_backend)
        fps = probe_video_fps(path)
    except (ModalityFileError, OSError) as error:
        raise AnnotationBuildError(
            f'video {yt_id}: {error} (its samples: {some(names)})') from None
    if fps is None:
        raise AnnotationBuildError(
            f'video {yt_id}: {path} states no frame rate, needed to turn the '
            f'annotation times into frames (its samples: {some(names)})')
    annotations, bad = [], {}
    trimmed = dict(written=0, kept=0)
    reader = None
    for name, label, event_start, sub_start, sub_end in samples:
        start, stop = frame_range(event_start, sub_start, sub_end, fps)
        span = (f'{event_start + sub_start:.3f}-{event_start + sub_end:.3f} '
                f's = frames {start}..{stop - 1} at {fps:g} fps')
        try:
            if start < 0 or stop <= start:
                raise AnnotationBuildError(
                    f'sample {name}: empty or negative frame range ({span}) '
                    f'in {path}')
            if stop > video_frames:
                raise AnnotationBuildError(
                    f'sample {name}: its range ({span}) runs past the end of '
                    f'{path}, which has {video_frames} decodable frames')
            num = stop - start
            ann = dict(frame_dir=name, label=int(label), total_frames=num,
                       img_shape=shape, original_shape=shape,
                       num_frames=dict(rgb=num),
                       modality_shapes=dict(rgb=shape))
            if trim_dir is None:
                ann.update(rgb_path=video_name, frame_offset=start)
            else:
                clip = os.path.join(os.fspath(trim_dir), f'{name}.mp4')
                if clip_is_complete(clip, num, shape, video_backend):
                    trimmed['kept'] += 1
                else:
                    if reader is None:
                        reader = RangeReader(path, video_backend)
                    try:
                        write_clip(reader.frames(start, stop), clip, fps,
                                   shape, num, video_backend)
                    except ModalityFileError as error:
                        raise AnnotationBuildError(
                            f'sample {name}: trimming {span} of {path}: '
                            f'{error}') from None
                    trimmed['written'] += 1
                ann['rgb_path'] = f'{name}.mp4'
        except AnnotationBuildError as error:
            if not skip_bad:
                raise
            bad[name] = str(error)
            continue
        annotations.append(ann)
    return dict(annotations=annotations, bad=bad, trimmed=trimmed)


def _video_stamp(yt_id, video_name, samples, videos_dir, trim_dir=None,
                 video_backend='auto', skip_bad=False):
    """Cache stamp of a video's job: options, samples, input files (and
    the clips, with ``trim_dir``)."""
    stamp = (video_backend, skip_bad, trim_dir, samples,
             file_stamp(videos_dir, [video_name]))
    if trim_dir is not None:
        stamp += (file_stamp(trim_dir, [f'{s[0]}.mp4' for s in samples]), )
    return stamp


# --------------------------------------------------------------------------
# Poses
# --------------------------------------------------------------------------
def load_poses(path) -> dict:
    """``{frame_dir: annotation}`` of a PoseDataset pkl (a dict with
    ``annotations``, or the list itself)."""
    with open(path, 'rb') as f:
        data = pickle.load(f)
    annotations = data.get('annotations') if isinstance(data, dict) else data
    if not isinstance(annotations, (list, tuple)) or not all(
            isinstance(a, dict) and 'frame_dir' in a for a in annotations):
        raise AnnotationBuildError(
            f'{path}: not a PoseDataset pkl (a list of annotations with '
            "'frame_dir', or a dict with such 'annotations')")
    return {str(a['frame_dir']): a for a in annotations}


def pose_fields(ann: dict, pose: dict, poses_file,
                frame_tolerance: int = 0) -> dict:
    """The keypoint fields of ``ann`` from its entry ``pose`` of a
    PoseDataset pkl: rescaled to ``ann['img_shape']``, on the clip's
    ``total_frames`` frames.

    Raises:
        AnnotationBuildError: missing or malformed arrays, or a frame count
            that differs by more than ``frame_tolerance``.
    """
    name = ann['frame_dir']
    where = f'sample {name}: poses of {poses_file} (frame_dir ' \
            f'{pose["frame_dir"]})'
    if 'keypoint' not in pose or 'keypoint_score' not in pose:
        raise AnnotationBuildError(f'{where} have no keypoint / '
                                   'keypoint_score')
    keypoint = np.asarray(pose['keypoint'], np.float32)
    score = np.asarray(pose['keypoint_score'], np.float32)
    if keypoint.ndim != 4 or keypoint.shape[2:] != (17, 2) or \
            score.shape != keypoint.shape[:3]:
        raise AnnotationBuildError(
            f'{where}: expected keypoint [M, T, 17, 2] and keypoint_score '
            f'[M, T, 17], got {keypoint.shape} and {score.shape}')
    total = ann['total_frames']
    length = keypoint.shape[1]
    fields = {}
    if length != total:
        if abs(length - total) > frame_tolerance:
            raise AnnotationBuildError(
                f'{where} have {length} frames but the clip has {total} '
                f'({ann["rgb_path"]}'
                + (f' from frame {ann["frame_offset"]}'
                   if 'frame_offset' in ann else '')
                + '); --pose-frame-tolerance maps a small difference')
        inds = np.minimum(np.arange(total) * length // total, length - 1)
        keypoint, score = keypoint[:, inds], score[:, inds]
        fields['frame_mismatch'] = dict(ann.get('frame_mismatch') or {},
                                        pose=(length, total))
    pose_shape = pose.get('img_shape')
    if pose_shape is not None and tuple(pose_shape) != tuple(
            ann['img_shape']):
        (pose_h, pose_w), (height, width) = pose_shape, ann['img_shape']
        keypoint = keypoint * np.array([width / pose_w, height / pose_h],
                                       np.float32)
    fields.update(keypoint=keypoint.astype(np.float32),
                  keypoint_score=score.astype(np.float32))
    return fields


def merge_poses(annotations: list, poses_file, skip_bad: bool = False,
                frame_tolerance: int = 0) -> tuple:
    """Adds the keypoints of ``poses_file`` to the annotations (in place).

    Returns:
        tuple: ``(annotations kept, {name: reason} of those left out)``
        (only with ``skip_bad``; else the first bad one raises).
    """
    poses = load_poses(poses_file)
    kept, bad = [], {}
    rescaled = 0
    for ann in annotations:
        name = ann['frame_dir']
        pose = poses.get(name) or poses.get(short_element_id(name))
        try:
            if pose is None:
                raise AnnotationBuildError(
                    f'sample {name}: no poses in {poses_file} (frame_dir '
                    f'{name} or {short_element_id(name)}; it has e.g. '
                    f'{some(list(poses)[:3], 3)})')
            fields = pose_fields(ann, pose, poses_file, frame_tolerance)
        except AnnotationBuildError as error:
            if not skip_bad:
                raise
            bad[name] = str(error)
            continue
        rescaled += pose.get('img_shape') is not None and tuple(
            pose['img_shape']) != tuple(ann['img_shape'])
        ann.update(fields)
        kept.append(ann)
    if rescaled:
        logger.info('%d samples: keypoints rescaled from the pose pkl\'s '
                    'img_shape to the video\'s', rescaled)
    return kept, bad


# --------------------------------------------------------------------------
# The whole dataset
# --------------------------------------------------------------------------
def build_annotations(videos_dir, out_file, ann_dir=None,
                      annotation_file=None, train_list=None, val_list=None,
                      categories_file=None, trim_dir=None, poses=None,
                      num_workers: int | None = None, cache_dir=None,
                      skip_bad: bool = False, require_videos: bool = False,
                      video_backend: str = 'auto',
                      pose_frame_tolerance: int = 0) -> dict:
    """Converts FineGYM Gym99 into one annotation pkl (see the module
    docstring).

    Args:
        videos_dir: folder of the YouTube videos ``<yt_id>.mp4``.
        out_file: the pkl to write (atomically).
        ann_dir: folder of the annotation files (found by their names);
            ``annotation_file``, ``train_list``, ``val_list``,
            ``categories_file`` override them one by one.
        trim_dir: write each sample as its own clip there (default: store
            frame ranges of the videos).
        poses: a PoseDataset pkl (PYSKL's ``gym_hrnet.pkl``) to merge.
        num_workers: processes (default: CPU count); 0 or 1 in-process.
        cache_dir: per-video cache, so that an interrupted run resumes.
        skip_bad: leave bad samples out (``meta['skipped']``) instead of
            stopping at the first.
        require_videos: a missing video is an error (default: its samples
            are left out and reported).
        video_backend: ``'auto'``, ``'decord'`` or ``'cv2'``.
        pose_frame_tolerance: frames the poses may differ from a clip's
            length (mapped proportionally).

    Returns:
        The dict written to ``out_file``.

    Raises:
        AnnotationBuildError: a bad sample (without ``skip_bad``), a
            malformed list or categories file, a missing video with
            ``require_videos``.
        FileNotFoundError: an annotation file or ``videos_dir`` not found.
    """
    videos_dir = os.path.abspath(os.fspath(videos_dir))
    if not os.path.isdir(videos_dir):
        raise FileNotFoundError(f'videos folder {videos_dir} not found')
    files = find_annotation_files(
        ann_dir, annotation=annotation_file, gym99_train=train_list,
        gym99_val=val_list, categories=categories_file)
    class_names = (read_categories(files['categories'])
                   if files['categories'] else None)
    num_classes = len(class_names) if class_names else NUM_CLASSES
    if num_classes != NUM_CLASSES:
        logger.warning('%s names %d classes, Gym99 has %d',
                       files['categories'], num_classes, NUM_CLASSES)
    try:
        with open(files['annotation']) as f:
            annotation = json.load(f)
    except json.JSONDecodeError as error:
        raise AnnotationBuildError(
            f'{files["annotation"]}: not a JSON file ({error})') from None
    if not isinstance(annotation, dict):
        raise AnnotationBuildError(
            f'{files["annotation"]}: expected {{yt_id: {{event_id: ...}}}}, '
            f'got a {type(annotation).__name__}')

    # the samples of the lists, in list order, each once
    labels, splits = {}, {}
    for split in SPLITS:
        entries = read_element_list(files[split], num_classes)
        splits[split] = [name for name, _ in entries]
        for name, label in entries:
            if labels.setdefault(name, label) != label:
                raise AnnotationBuildError(
                    f'{name} has label {label} in {files[split]} but '
                    f'{labels[name]} in the other list')
    both = set(splits[SPLITS[0]]) & set(splits[SPLITS[1]])
    if both:
        logger.warning('%d ids are in both lists: %s', len(both), some(both))
    names = list(labels)
    logger.info('%d samples listed (%s)', len(names), ', '.join(
        f'{split} {len(members)}' for split, members in splits.items()))

    # their times; samples per video
    skipped, by_video = {}, {}
    for name in names:
        try:
            times = sub_action_times(annotation, name, files['annotation'])
        except AnnotationBuildError as error:
            if not skip_bad:
                raise
            skipped[name] = str(error)
            continue
        yt_id = parse_element_id(name)[0]
        by_video.setdefault(yt_id, []).append((name, labels[name]) + times)
    missing = sorted(v for v in by_video if find_video(videos_dir, v) is None)
    missing_samples = sum(len(by_video[v]) for v in missing)
    if missing:
        message = (f'{len(missing)} of the {len(by_video)} videos are not in '
                   f'{videos_dir} ({missing_samples} samples): '
                   f'{some(missing)}')
        if require_videos:
            raise AnnotationBuildError(
                message + ' (without --require-videos their samples are '
                'left out)')
        logger.warning('%s; their samples are left out (YouTube crawls are '
                       'incomplete; --require-videos makes this an error)',
                       message)

    if trim_dir is not None:
        trim_dir = os.path.abspath(os.fspath(trim_dir))
        os.makedirs(trim_dir, exist_ok=True)
        remove_stale_clips(trim_dir)
    items = [(yt_id, (yt_id, find_video(videos_dir, yt_id),
                      tuple(by_video[yt_id]), videos_dir, trim_dir,
                      video_backend, skip_bad))
             for yt_id in sorted(by_video) if yt_id not in missing]
    results, bad_videos = build_all(
        items, build_video, stamp_of=_video_stamp, cache_dir=cache_dir,
        num_workers=num_workers, skip_bad=skip_bad)
    built, trimmed = {}, dict(written=0, kept=0)
    for yt_id, result in results.items():
        built.update((ann['frame_dir'], ann) for ann in result['annotations'])
        skipped.update(result['bad'])
        for key in trimmed:
            trimmed[key] += result['trimmed'][key]
    for yt_id, reason in bad_videos.items():
        skipped.update((sample[0], reason) for sample in by_video[yt_id])

    annotations = [built[name] for name in names if name in built]
    keypoint_source, layouts = None, {}
    if poses is not None:
        annotations, bad_poses = merge_poses(annotations, poses, skip_bad,
                                             pose_frame_tolerance)
        skipped.update(bad_poses)
        keypoint_source, layouts = 'pyskl_hrnet', dict(keypoint='coco17')
    if trim_dir is not None:
        logger.info('clips in %s: %d written, %d already there', trim_dir,
                    trimmed['written'], trimmed['kept'])

    summary = dict(
        found=len(names), kept=len(annotations),
        left_out=dict(missing_video=missing_samples, bad=len(skipped)),
        videos=dict(listed=len(by_video),
                    found=len(by_video) - len(missing),
                    missing=len(missing)),
        with_keypoints=sum('keypoint' in ann for ann in annotations),
        pose_frame_mismatch=sum('pose' in (ann.get('frame_mismatch') or {})
                                for ann in annotations))
    if trim_dir is not None:
        summary['trimmed'] = trimmed
    logger.info('%d samples listed, %d kept; left out: %d of missing videos '
                '(%d videos), %d bad', summary['found'], summary['kept'],
                missing_samples, len(missing), len(skipped))
    if skipped:
        logger.warning('skipped %d bad samples (--skip-bad):\n%s',
                       len(skipped), '\n'.join(skipped.values()))

    kept = [ann['frame_dir'] for ann in annotations]
    meta = dict(dataset=DATASET,
                raw_root=trim_dir if trim_dir is not None else videos_dir,
                modalities=['rgb'], keypoint_source=keypoint_source,
                keypoint_layouts=layouts, class_names=class_names,
                sources=dict(files, videos=videos_dir, poses=None if poses
                             is None else os.path.abspath(poses)),
                summary=summary, skipped=skipped, missing_videos=missing)
    return write_annotations(out_file, check_splits(splits, kept),
                             annotations, meta)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build the annotation pkl of FineGYM Gym99 '
        '(docs/data_format.md) from the YouTube videos and the annotation '
        'files.')
    parser.add_argument('--videos-dir', required=True,
                        help='folder of the YouTube videos <yt_id>.mp4 '
                        '(.mkv, .webm)')
    parser.add_argument('--ann-dir', default=None,
                        help='folder of finegym_annotation_info_v1.1.json, '
                        'gym99_train_element_v1.1.txt, gym99_val_element.txt,'
                        ' gym99_categories.txt (v1.0 names accepted)')
    parser.add_argument('--annotation-file', default=None,
                        help='the annotation JSON (instead of --ann-dir)')
    parser.add_argument('--train-list', default=None)
    parser.add_argument('--val-list', default=None)
    parser.add_argument('--categories', dest='categories_file',
                        default=None)
    parser.add_argument('--out', dest='out_file', metavar='PKL',
                        required=True, help='output .pkl')
    parser.add_argument('--trim-dir', default=None,
                        help='write each sub-action as its own mp4 clip there '
                        '(resumable) instead of storing frame ranges of the '
                        'videos')
    parser.add_argument('--poses', default=None,
                        help="merge the HRNet poses of PYSKL's gym_hrnet.pkl "
                        '(default: none; run data_prep.pose_extraction)')
    parser.add_argument('--pose-frame-tolerance', type=int, default=0,
                        metavar='FRAMES',
                        help='frames the --poses may differ from a clip '
                        '(mapped proportionally; default: %(default)s)')
    parser.add_argument('--require-videos', action='store_true',
                        help='a missing video is an error (default: its '
                        'samples are left out and reported)')
    parser.add_argument('--video-backend', choices=('auto', 'decord', 'cv2'),
                        default='auto')
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    if args.ann_dir is None and None in (args.annotation_file,
                                         args.train_list, args.val_list):
        parser.error('pass --ann-dir, or --annotation-file, --train-list '
                     'and --val-list')
    return args


def main(argv=None):
    return run_cli(build_annotations, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
