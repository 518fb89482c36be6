"""Pre-flight check of every file a multi-modal dataset will read.

A modality file deleted or damaged after the annotation pkl was built is
otherwise found only when its sample is decoded, mid-epoch. The check walks
the data infos of built datasets (:class:`MultiModalActionDataset` or any
MMEngine dataset / list of data-info dicts in the layout of
``docs/data_format.md``) and, for the modalities each sample requests only:

* videos (RGB / IR, and depth where it is a video): the file exists and
  opens, and holds exactly ``num_frames[m]`` decodable frames
  (``probe_video`` of ``data_prep.common``), or, for a clip that is a range
  of a longer recording (``frame_offset``), at least ``frame_offset +
  num_frames[m]``;
* NTU depth folders: the folder exists, its ``MDepth-%08d.png`` frames are
  numbered without gaps, the first is a 16-bit single-channel PNG, and there
  are exactly ``num_frames['depth']`` of them (``probe_depth_folder``);
* folders of per-frame images listed in ``<m>_frames`` (NW-UCLA, UWA3D,
  PennAction): the list has ``frame_offset + num_frames[m]`` entries or
  more, and its first and last image read (``probe_frame_files``);
* with ``full_decode``: every frame of the clip decodes (decord, as
  :class:`MultiModalDecode` reads them), every depth PNG reads, every listed
  image reads;
* pose (no file): ``keypoint`` and its companions are ``[M, T, ...]`` arrays
  of finite values with ``T == total_frames``.

All problems are collected and returned at once. Files are checked in a
process pool with a progress bar; a file that crashes its worker (a decoder
segfault) is reported instead of stopping the check.

Example::

    >>> from mmar_ext.datasets.data_check import check_dataset
    >>> problems = check_dataset(dataset, full_decode=True, workers=8)
    >>> for p in problems:
    ...     print(p.sample, p.modality, p.kind, p.path, p.message)
"""
import json
import os
import os.path as osp
import sys
import tempfile
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, replace
from itertools import islice
from typing import (Callable, Dict, Iterable, Iterator, List, Mapping,
                    Optional, Sequence, Tuple, Union)

import numpy as np

from .multimodal_dataset import ALL_MODALITIES, PATH_MODALITIES, modality_key
from .transforms.decoding import DEPTH_TEMPLATE, POSE_KEYS

#: Problem kinds.
MISSING = 'missing'          # file / folder / annotation field absent
UNREADABLE = 'unreadable'    # exists but cannot be opened or probed
FRAME_COUNT = 'frame_count'  # frame count differs from the annotation
DECODE = 'decode'            # a frame fails to decode (full decode)
POSE = 'pose'                # malformed keypoint arrays
CRASH = 'crash'              # the worker reading the file died
DATASET = 'dataset'          # the dataset itself could not be built

#: Pose arrays checked when present: all are ``[M, T, ...]``.
POSE_ARRAY_KEYS = POSE_KEYS
#: Frames decoded per decord ``get_batch`` call in a full decode (16
#: 1080p RGB frames are 100 MB per worker).
DECODE_CHUNK = 16
VIDEO_SUFFIXES = ('.avi', '.mp4', '.mkv', '.webm', '.mov')

DataSource = Union[Sequence[dict], object]


@dataclass(frozen=True)
class Problem:
    """One problem with one file (or annotation) of one sample.

    Attributes:
        split (str): Split(s) the sample belongs to, comma-separated when it
            is shared (e.g. ``'val,test'``).
        sample (str): The sample name (``frame_dir``).
        modality (str): ``'rgb'``, ``'depth'``, ``'ir'``, ``'pose'``,
            ``'skeleton'`` or ``'-'`` (a dataset-level problem).
        path (str): The file or folder concerned (for pose and dataset
            problems, the annotation file when known).
        kind (str): One of :data:`MISSING`, :data:`UNREADABLE`,
            :data:`FRAME_COUNT`, :data:`DECODE`, :data:`POSE`,
            :data:`CRASH`, :data:`DATASET`.
        message (str): What is wrong, in words.
    """
    split: str
    sample: str
    modality: str
    path: str
    kind: str
    message: str

    def to_dict(self) -> Dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class FileCheck:
    """A file (video) or folder (depth) to check; one pool task."""
    sample: str
    modality: str
    path: str
    num_frames: int
    full_decode: bool = False
    #: the folder's frame files (``<m>_frames``), None for a video / NTU
    #: depth folder
    frames: Optional[Tuple[str, ...]] = None
    #: index of the clip's first frame in the file (``frame_offset``); None
    #: = the clip is the whole file
    offset: Optional[int] = None

    @property
    def is_folder(self) -> bool:
        """A folder of frames (listed, or NTU's depth), not a video."""
        return self.frames is not None or (
            self.modality == 'depth'
            and not self.path.lower().endswith(VIDEO_SUFFIXES))

    def problem(self, kind: str, message: str,
                path: Optional[str] = None) -> Problem:
        """A :class:`Problem` of this file (its split is filled in later)."""
        return Problem('', self.sample, self.modality,
                       self.path if path is None else path, kind, message)


def default_workers() -> int:
    """Default worker processes: ``min(8, CPU count)``."""
    return min(8, os.cpu_count() or 1)


# --------------------------------------------------------------------------
# Checking one file
# --------------------------------------------------------------------------
def _probe(task: 'FileCheck') -> Tuple[int, Tuple[int, int]]:
    """``(num_frames, (H, W))`` from the annotation builders' probes."""
    try:
        from data_prep.common import probe_frame_files, probe_video
        from data_prep.ntu.build_annotations import probe_depth_folder
    except ImportError as e:
        raise ImportError(
            'the data check uses data_prep (the converters); run it from '
            'the repository root (or put the root on PYTHONPATH)') from e
    if task.frames is not None:
        return probe_frame_files(task.path, task.frames)
    if task.is_folder:
        return probe_depth_folder(task.path)
    return probe_video(task.path)


def _describe(error: BaseException, path: str = '') -> str:
    """The error in words, without a leading ``'<path>: '`` (the problem
    names the path already)."""
    text = str(error) or type(error).__name__
    if path and text.startswith(f'{path}: '):
        text = text[len(path) + 2:]
    if type(error).__name__ == 'ModalityFileError':
        return text  # the probes' own wording
    return f'{type(error).__name__}: {text}'


def _first_bad_video_frame(path: str, length: int,
                           offset: int = 0) -> Optional[str]:
    """Decode frames ``offset .. offset + length - 1`` with decord; describe
    the first failure.

    Frames are read in chunks with ``get_batch``, as
    :class:`MultiModalDecode` reads them; a failing chunk is re-read frame by
    frame to name the first frame that does not decode.
    """
    import decord
    reader = decord.VideoReader(path, num_threads=1)
    try:
        available = len(reader)
        end = offset + length
        for start in range(offset, end, DECODE_CHUNK):
            indices = list(range(start, min(end, start + DECODE_CHUNK)))
            if indices[-1] >= available:
                return (f'only {available} of {end} frames can be '
                        'decoded')
            try:
                reader.get_batch(indices).asnumpy()
                continue
            except Exception:  # decord raises DECORDError / RuntimeError
                pass
            for index in indices:
                try:
                    reader.get_batch([index]).asnumpy()
                except Exception as e:
                    return (f'frame {index} of {end} does not decode '
                            f'({_describe(e)})')
        return None
    finally:
        del reader


def _bad_depth_frames(path: str, length: int) -> List[str]:
    """Paths of the frames ``1..length`` that do not read as 2D 16-bit
    images."""
    import cv2
    bad = []
    for index in range(1, length + 1):
        frame = osp.join(path, DEPTH_TEMPLATE.format(index))
        image = cv2.imread(frame, cv2.IMREAD_UNCHANGED)
        if image is None or image.ndim != 2 or image.dtype != np.uint16:
            bad.append(frame)
    return bad


def _bad_listed_frames(task: FileCheck, length: int) -> List[str]:
    """Paths of the clip's listed frames that do not read as images."""
    import cv2
    offset = task.offset or 0
    files = task.frames[offset:offset + length]
    paths = [osp.join(task.path, f) for f in files]
    return [p for p in paths if cv2.imread(p, cv2.IMREAD_UNCHANGED) is None]


def _full_decode_problems(task: FileCheck, length: int) -> List[Problem]:
    if task.frames is not None:
        bad = _bad_listed_frames(task, length)
        if not bad:
            return []
        more = f' (and {len(bad) - 1} more)' if len(bad) > 1 else ''
        return [task.problem(
            DECODE, f'{len(bad)} of {length} {task.modality} frames do not '
            f'read, e.g. {osp.basename(bad[0])}{more}', path=bad[0])]
    if task.is_folder:
        bad = _bad_depth_frames(task.path, length)
        if not bad:
            return []
        more = f' (and {len(bad) - 1} more)' if len(bad) > 1 else ''
        return [task.problem(
            DECODE, f'{len(bad)} of {length} depth frames are not readable '
            f'16-bit single-channel PNGs, e.g. {osp.basename(bad[0])}'
            f'{more}', path=bad[0])]
    try:
        failure = _first_bad_video_frame(task.path, length, task.offset or 0)
    except ImportError:  # the environment, not the file
        raise
    except Exception as e:
        failure = f'cannot be opened for decoding ({_describe(e)})'
    return [] if failure is None else [task.problem(DECODE, failure)]


def check_file(task: FileCheck) -> List[Problem]:
    """All problems of one video or depth folder (splits left empty).

    Existence first, then readability and the frame count (the probes), then,
    with ``task.full_decode``, every frame the file holds up to the
    annotation's count.
    """
    exists = osp.isdir if task.is_folder else osp.isfile
    if not exists(task.path):
        what = 'folder' if task.is_folder else 'file'
        return [task.problem(MISSING, f'{task.modality} {what} not found')]
    try:
        length, _ = _probe(task)
    except ImportError:  # the environment, not the file
        raise
    except Exception as e:
        return [task.problem(UNREADABLE, _describe(e, task.path))]
    problems = []
    offset = task.offset or 0
    if task.offset is not None:  # a range of a longer recording
        if length < offset + task.num_frames:
            problems.append(task.problem(
                FRAME_COUNT, f'{length} frames, the clip needs frames '
                f'{offset}..{offset + task.num_frames - 1}'))
    elif length != task.num_frames:
        problems.append(task.problem(
            FRAME_COUNT, f'{length} frames, the annotation says '
            f'{task.num_frames}'))
    if task.full_decode:
        problems += _full_decode_problems(
            task, max(0, min(length - offset, task.num_frames)))
    return problems


# --------------------------------------------------------------------------
# Checking the pose of one sample (in the annotation, no file)
# --------------------------------------------------------------------------
def pose_problems(info: Mapping, key: str = 'keypoint') -> List[str]:
    """Messages for malformed joint arrays of one data info.

    ``info[key]`` must be ``[M, T, V, C]`` with ``T`` = ``total_frames``
    (the clock frames are sampled on). For the 2D ``keypoint`` also
    ``num_frames['pose']`` when given, and every array of
    :data:`POSE_ARRAY_KEYS` present must start with the same ``[M, T]`` and
    hold finite values; for another key (``keypoint_3d``, the skeleton
    modality) that array alone.
    """
    if info.get(key) is None:
        return [f'the annotation has no {key}']
    keypoint = np.asarray(info[key])
    if keypoint.ndim != 4:
        return [f'{key} has shape {keypoint.shape}, expected [M, T, V, C]']
    messages = []
    length = keypoint.shape[1]
    expected = {'total_frames': info.get('total_frames')}
    if key == 'keypoint':
        expected["num_frames['pose']"] = (info.get('num_frames')
                                          or {}).get('pose')
    for name, value in expected.items():
        if value is not None and int(value) != length:
            messages.append(f'{key} has {length} frames but {name} is '
                            f'{int(value)}')
    for array_key in POSE_ARRAY_KEYS if key == 'keypoint' else (key, ):
        if info.get(array_key) is None:
            continue
        array = np.asarray(info[array_key])
        if array.ndim < 3 or array.shape[:2] != keypoint.shape[:2]:
            messages.append(f'{array_key} has shape {array.shape}, expected '
                            f'[M, T, ...] = {list(keypoint.shape[:2])} + ...')
        elif not np.issubdtype(array.dtype, np.number):
            messages.append(f'{array_key} has dtype {array.dtype}')
        elif not np.isfinite(array).all():
            count = int(array.size - np.isfinite(array).sum())
            messages.append(f'{array_key} has {count} non-finite values')
    return messages


# --------------------------------------------------------------------------
# From datasets to tasks
# --------------------------------------------------------------------------
def data_infos(data: DataSource) -> List[dict]:
    """The data infos of a dataset (any object with ``get_data_info`` and
    ``__len__``, e.g. MMEngine datasets and their wrappers) or a list of
    data-info dicts."""
    if not hasattr(data, 'get_data_info'):
        return list(data)
    if hasattr(data, 'full_init'):
        data.full_init()  # lazy_init datasets
    return [data.get_data_info(i) for i in range(len(data))]


def requested_modalities(info: Mapping,
                         modalities: Optional[Sequence[str]] = None
                         ) -> Tuple[str, ...]:
    """The modalities a sample will be read with: ``modalities`` when given,
    else the info's ``modalities`` (set by :class:`MultiModalActionDataset`),
    else all modalities its annotation has."""
    if modalities is None:
        modalities = info.get('modalities')
    if modalities is None:
        modalities = [m for m in ALL_MODALITIES
                      if info.get(modality_key(m)) is not None]
    return tuple(modalities)


def _sample_name(info: Mapping, index: int) -> str:
    return str(info.get('frame_dir', f'#{index}'))


def _info_checks(info: Mapping, index: int, source: str, full_decode: bool,
                 modalities: Optional[Sequence[str]]
                 ) -> Tuple[List[FileCheck], List[Problem]]:
    """The file checks of one data info, and its annotation problems."""
    name = _sample_name(info, index)
    tasks, problems = [], []
    for m in requested_modalities(info, modalities):
        if info.get(modality_key(m)) is None:
            problems.append(Problem('', name, m, source, MISSING,
                                    f'the annotation has no '
                                    f'{modality_key(m)}'))
        elif m in ('pose', 'skeleton'):
            problems += [Problem('', name, m, source, POSE, message)
                         for message in pose_problems(info, modality_key(m))]
        elif m in PATH_MODALITIES:
            num_frames = (info.get('num_frames') or {}).get(
                m, info['total_frames'])
            frames = info.get(f'{m}_frames')
            tasks.append(FileCheck(
                name, m, str(info[f'{m}_path']), int(num_frames),
                full_decode, None if frames is None else tuple(frames),
                None if info.get('frame_offset') is None else
                int(info['frame_offset'])))
    return tasks, problems


# --------------------------------------------------------------------------
# Running the file checks
# --------------------------------------------------------------------------
class _Progress:
    """MMEngine's progress bar on stderr, or nothing."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        if enabled and total:
            from mmengine.utils import ProgressBar
            self.bar = ProgressBar(total, file=sys.stderr)

    def update(self) -> None:
        if self.bar is not None:
            self.bar.update()

    def close(self) -> None:
        if self.bar is not None:
            sys.stderr.write('\n')
            sys.stderr.flush()


def _crash_problem(task: FileCheck) -> List[Problem]:
    return [task.problem(
        CRASH, 'the process reading this file died (decoder crash?)')]


def _check_isolated(check: Callable[[FileCheck], List[Problem]],
                    task: FileCheck) -> List[Problem]:
    """Check one file in its own process: a crash is reported, not raised."""
    with ProcessPoolExecutor(max_workers=1) as pool:
        try:
            return pool.submit(check, task).result()
        except BrokenProcessPool:
            return _crash_problem(task)


def _pool_results(tasks: Iterable[FileCheck], workers: int,
                  check: Callable[[FileCheck], List[Problem]]
                  ) -> Iterator[Tuple[FileCheck, List[Problem]]]:
    """Yield ``(task, check(task))`` from a process pool, in completion
    order, with at most ``2 * workers`` tasks in flight.

    When a worker dies (a decoder segfault) the pool is lost with the tasks
    in flight; those are re-checked one per process, so the culprit is
    reported as a :data:`CRASH` problem and the others get their real
    result, and a fresh pool carries on with the rest.
    """
    todo = iter(tasks)
    while True:
        lost = []
        with ProcessPoolExecutor(max_workers=workers) as pool:
            running = {}
            while True:
                for task in islice(todo, 2 * workers - len(running)):
                    running[pool.submit(check, task)] = task
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    task = running.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        lost.append(task)
                        continue
                    yield task, result
                if lost:  # the pool is broken: all in flight are lost
                    lost += running.values()
                    break
        if not lost:
            return
        for task in lost:
            yield task, _check_isolated(check, task)


def run_file_checks(tasks: Sequence[FileCheck], workers: int,
                    progress: bool = True,
                    check: Callable[[FileCheck], List[Problem]] = check_file
                    ) -> Iterator[Tuple[FileCheck, List[Problem]]]:
    """Yield ``(task, problems)`` for every task, updating a progress bar.

    With ``workers > 1`` the tasks run in a process pool that survives
    crashing files (see :func:`_pool_results`), else in this process.
    """
    bar = _Progress(len(tasks), progress)
    try:
        if workers <= 1 or len(tasks) <= 1:
            results = ((task, check(task)) for task in tasks)
        else:
            results = _pool_results(tasks, workers, check)
        for task, problems in results:
            yield task, problems
            bar.update()
    finally:
        bar.close()


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------
def merge_splits(problems: Iterable[Problem]) -> List[Problem]:
    """Merge problems that differ only in their split (a sample shared by
    val and test) into one with ``split='val,test'``; sorted by split,
    sample, modality, path."""
    merged: Dict[tuple, List[str]] = {}
    for p in problems:
        key = (p.sample, p.modality, p.path, p.kind, p.message)
        splits = merged.setdefault(key, [])
        for split in p.split.split(','):
            if split not in splits:
                splits.append(split)
    result = [Problem(','.join(splits), *key)
              for key, splits in merged.items()]
    return sorted(result, key=lambda p: (p.split, p.sample, p.modality,
                                         p.path, p.kind))


def check_datasets(datasets: Mapping[str, DataSource],
                   full_decode: bool = False,
                   workers: Optional[int] = None,
                   modalities: Optional[Sequence[str]] = None,
                   progress: bool = True) -> List[Problem]:
    """Check every file the datasets of several splits will read.

    A file used by several splits (val and test built from the same
    annotations) is checked once and its problems name all those splits.

    Args:
        datasets (Mapping[str, dataset | list[dict]]): Split name to a built
            dataset (see :func:`data_infos`) or a list of data infos with
            absolute ``<m>_path`` entries.
        full_decode (bool): Also decode every frame of every file.
            Defaults to False.
        workers (int, optional): Worker processes; ``<= 1`` checks in this
            process. Defaults to :func:`default_workers`.
        modalities (Sequence[str], optional): Check these modalities of
            every sample instead of the ones each sample requests
            (:func:`requested_modalities`).
        progress (bool): Show a progress bar on stderr. Defaults to True.

    Returns:
        list[Problem]: All problems found, empty when the data is clean.
    """
    owners: Dict[FileCheck, List[str]] = {}
    problems: List[Problem] = []
    for split, data in datasets.items():
        source = str(getattr(data, 'ann_file', '') or '')
        for index, info in enumerate(data_infos(data)):
            tasks, found = _info_checks(info, index, source, full_decode,
                                        modalities)
            problems += [replace(p, split=split) for p in found]
            for task in tasks:
                owners.setdefault(task, []).append(split)
    if workers is None:
        workers = default_workers()
    for task, found in run_file_checks(list(owners), workers, progress):
        problems += [replace(p, split=split) for p in found
                     for split in owners[task]]
    return merge_splits(problems)


def check_dataset(data: DataSource,
                  full_decode: bool = False,
                  workers: Optional[int] = None,
                  split: str = '',
                  modalities: Optional[Sequence[str]] = None,
                  progress: bool = True) -> List[Problem]:
    """Check every file one dataset (or data list) will read.

    See :func:`check_datasets`; ``split`` is the name the problems carry.
    """
    return check_datasets({split: data}, full_decode=full_decode,
                          workers=workers, modalities=modalities,
                          progress=progress)


def count_kinds(problems: Iterable[Problem]) -> Dict[str, int]:
    """Number of problems of each kind, most frequent first."""
    return dict(Counter(p.kind for p in problems).most_common())


def save_report(path: str, problems: Sequence[Problem], **meta) -> None:
    """Write ``meta``, the per-kind counts and the problems as JSON,
    atomically (a temporary file next to ``path``, then ``os.replace``)."""
    report = dict(meta, num_problems=len(problems),
                  counts=count_kinds(problems),
                  problems=[p.to_dict() for p in problems])
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp_', suffix='.json')
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(report, f, indent=2)
            f.write('\n')
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise


def load_report(path: str) -> Tuple[List[Problem], dict]:
    """Read a report of :func:`save_report`: ``(problems, other fields)``."""
    with open(path) as f:
        report = json.load(f)
    problems = [Problem(**p) for p in report.pop('problems')]
    return problems, report
