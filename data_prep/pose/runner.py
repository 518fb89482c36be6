"""Pose extraction of a whole dataset: sharded, resumable, then merged.

:func:`run_extraction` reads the dataset's annotation pkl
(``docs/data_format.md``), and extracts the poses of every sample's RGB
video (``rgb_path``) with :class:`extractor.PoseExtractor` -- of the clip's
frames only when the sample is a range of a longer video (``frame_offset``:
frames ``frame_offset .. frame_offset + num_frames['rgb'] - 1``), and
through the ``rgb_frames`` list when ``rgb_path`` is a folder of per-frame
images:

* **sharded**: ``workers`` processes (spawned; each builds its own models,
  on its own GPU with ``gpus``) are handed one video at a time by this
  process, when they ask for it, so it always knows what each worker does;
  a worker stops as soon as this process dies (``kill -9`` included), so an
  orphan never goes on extracting next to a re-run;
* **resumable**: each finished video is written atomically (temporary file,
  then ``os.replace``) to ``<out_dir>/<frame_dir>.pkl``, stamped with the
  extraction settings, the video's size and mtime and the clip's range (or
  frame list). A later run skips every video whose file is complete and
  whose stamps match, and recomputes the others (missing, truncated, other
  settings, changed video or range);
* **bad videos**: a video that cannot be decoded or has no frame stops the
  run with an error naming it (finished videos are kept), or, with
  ``skip_bad``, is counted, reported and left out.

:func:`merge_results` then writes the keypoints into the annotation pkl
(atomically): ``keypoint`` ``[M, T, 17, 2]`` and ``keypoint_score``
``[M, T, 17]`` on the sample's clock of ``total_frames`` frames (RGB frame
``min(t * N // T, N - 1)`` for clock frame ``t`` of a video of ``N``
frames, as ``MultiModalDecode`` maps them; for a range, ``N`` is the clip's
length and the frame is counted from ``frame_offset``), ``img_shape`` /
``original_shape`` of the real video, and ``meta['keypoint_source'] =
'hrnet'``.
"""
from __future__ import annotations

import collections
import dataclasses
import glob
import hashlib
import logging
import multiprocessing
import os
import pickle
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np

from data_prep.common import atomic_pickle_dump

from .progress import ProgressBar
from .video import BadVideoError

logger = logging.getLogger(__name__)

RESULT_FORMAT = 1
#: temporary files of atomic writes older than this are left-overs of a
#: killed run and are removed (a live write, of this or of a concurrent run,
#: is seconds old: results are written in one go once a video is done)
STALE_TMP_SECONDS = 600
#: a worker waiting for its next video checks this often that its parent
#: is alive
WORKER_POLL_SECONDS = 1.0
#: exit status of a worker that stopped because its parent died
ORPHAN_EXIT_CODE = 3
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class PoseExtractionError(RuntimeError):
    """Extraction or merge failed; the message names the videos/samples."""


@dataclass
class ExtractionOptions:
    """What determines the extracted poses (stamped into every result), and
    how to compute them (``batch_size``, ``det_batch_size``,
    ``pose_batch_size``, ``optimize``: these do not change the result beyond
    float rounding)."""
    det_config: Optional[str] = None
    det_checkpoint: Optional[str] = None
    pose_config: Optional[str] = None
    pose_checkpoint: Optional[str] = None
    det_cfg_options: Optional[dict] = None
    pose_cfg_options: Optional[dict] = None
    det_score_thr: float = 0.5
    det_cat_id: int = 0
    max_persons: int = 2
    #: if given, only clips of these actions (1-based, ``label + 1``) keep
    #: up to ``max_persons`` persons, all others keep one (NTU:
    #: ``constants.NTU_MUTUAL_ACTIONS``)
    two_person_actions: Optional[tuple] = None
    iou_thr: float = 0.3
    max_gap: int = 10
    contain_thr: float = 0.8
    batch_size: int = 16
    det_batch_size: Optional[int] = None
    pose_batch_size: Optional[int] = None
    optimize: bool = True
    #: ``'fp32'``, ``'bf16'`` or ``'fp16'`` trunks (changes the results
    #: slightly, so it is part of the stamp)
    precision: str = 'fp32'

    def __post_init__(self):
        from . import models
        if self.det_config is None:
            self.det_config = models.DEFAULT_DET_CONFIG
        if self.det_checkpoint is None:
            self.det_checkpoint = models.DEFAULT_DET_CHECKPOINT
        if self.pose_config is None:
            self.pose_config = models.DEFAULT_POSE_CONFIG
        if self.pose_checkpoint is None:
            self.pose_checkpoint = models.DEFAULT_POSE_CHECKPOINT
        if self.two_person_actions is not None:
            self.two_person_actions = tuple(
                sorted(int(a) for a in self.two_person_actions))

    def persons_of(self, label: Optional[int]) -> int:
        """Persons to keep in a clip of class ``label`` (0-based)."""
        if self.two_person_actions is None:
            return self.max_persons
        if label is None:
            raise PoseExtractionError(
                'two_person_actions needs the label of every sample')
        return self.max_persons if int(label) + 1 in \
            self.two_person_actions else 1

    def stamp(self) -> dict:
        """The settings a stored result must have been made with."""
        skip = {'batch_size', 'det_batch_size', 'pose_batch_size',
                'optimize'}
        return {k: v for k, v in dataclasses.asdict(self).items()
                if k not in skip}

    def build_extractor(self, device: str = 'auto'):
        from .extractor import PoseExtractor
        return PoseExtractor.from_configs(
            self.det_config, self.det_checkpoint, self.pose_config,
            self.pose_checkpoint, device=device,
            det_cfg_options=self.det_cfg_options,
            pose_cfg_options=self.pose_cfg_options,
            det_score_thr=self.det_score_thr, det_cat_id=self.det_cat_id,
            max_persons=self.max_persons, batch_size=self.batch_size,
            det_batch_size=self.det_batch_size,
            pose_batch_size=self.pose_batch_size, iou_thr=self.iou_thr,
            max_gap=self.max_gap, contain_thr=self.contain_thr,
            optimize=self.optimize, precision=self.precision)


@dataclass
class VideoJob:
    name: str        #: the sample (``frame_dir``)
    path: str        #: the video file (or frame folder)
    num_frames: int  #: expected frames (for the ETA; the clip's length)
    max_persons: Optional[int] = None  #: persons kept (None: the options')
    #: the clip is frames ``frame_offset .. frame_offset + num_frames - 1``
    #: of the video (or of ``frame_files``); None: the whole video / list
    frame_offset: Optional[int] = None
    #: file names of a frame folder (``rgb_frames``), in frame order
    frame_files: Optional[tuple] = None

    def clip(self) -> dict:
        """Keyword arguments of ``extract_video`` that select the clip
        (none for a whole video)."""
        kwargs = {}
        if self.frame_offset is not None:
            kwargs.update(frame_offset=self.frame_offset,
                          num_frames=self.num_frames)
        if self.frame_files is not None:
            kwargs['frame_files'] = self.frame_files
        return kwargs

    def clip_stamp(self) -> Optional[tuple]:
        """What a stored result must have been extracted from, besides the
        file (None for a whole video, as in results of earlier versions)."""
        if self.frame_offset is None and self.frame_files is None:
            return None
        files = None if self.frame_files is None else hashlib.sha1(
            '\n'.join(self.frame_files).encode()).hexdigest()
        return (self.frame_offset, self.num_frames if self.frame_offset
                is not None else None, files)


@dataclass
class ExtractionSummary:
    """What :func:`run_extraction` did."""
    num_videos: int = 0                  #: samples with an RGB video
    already_done: List[str] = field(default_factory=list)
    processed: List[str] = field(default_factory=list)
    bad: Dict[str, str] = field(default_factory=dict)     #: name -> reason
    errors: Dict[str, str] = field(default_factory=dict)  #: name -> error
    without_video: List[str] = field(default_factory=list)
    frames: int = 0                      #: frames processed in this run
    seconds: float = 0.0


# --------------------------------------------------------------------------
# Annotation file and per-video results
# --------------------------------------------------------------------------
def load_annotations(ann_file) -> dict:
    with open(ann_file, 'rb') as f:
        data = pickle.load(f)
    if not isinstance(data, dict) or 'annotations' not in data:
        raise PoseExtractionError(
            f'{ann_file}: not an annotation pkl of docs/data_format.md '
            "(a dict with 'annotations')")
    return data


def list_jobs(data: dict, data_root=None,
              options: Optional[ExtractionOptions] = None):
    """``(jobs, names without an RGB video path)`` of an annotation dict;
    relative ``rgb_path`` are joined to ``data_root`` (default
    ``meta['raw_root']``); each job keeps ``options.persons_of(label)``
    persons.

    A sample with ``frame_offset`` (a clip stored as a range of a longer
    video: PKU-MMD, FineGYM) is extracted on frames ``frame_offset ..
    frame_offset + num_frames['rgb'] - 1`` only; an ``rgb_path`` folder is
    read through its ``rgb_frames`` list (NW-UCLA, UWA3D II, PennAction),
    all of it, or that range of it with ``frame_offset``."""
    options = options or ExtractionOptions()
    if data_root is None:
        data_root = (data.get('meta') or {}).get('raw_root')
    jobs, without_video = [], []
    for ann in data['annotations']:
        name = ann['frame_dir']
        relative = ann.get('rgb_path')
        if relative is None:
            without_video.append(name)
            continue
        if not os.path.isabs(relative):
            if data_root is None:
                raise PoseExtractionError(
                    f'sample {name}: relative rgb_path {relative!r} but no '
                    "data root (pass data_root / --data-root or set "
                    "meta['raw_root'])")
            relative = os.path.join(os.fspath(data_root), relative)
        expected = (ann.get('num_frames') or {}).get(
            'rgb', ann.get('total_frames', 0))
        offset = ann.get('frame_offset')
        files = ann.get('rgb_frames')
        if files is not None:
            files = tuple(files)
            if offset is None:
                expected = len(files)
        jobs.append(VideoJob(name, relative, int(expected),
                             options.persons_of(ann.get('label')),
                             None if offset is None else int(offset),
                             files))
    return jobs, without_video


def result_file(out_dir, name: str) -> str:
    return os.path.join(os.fspath(out_dir), f'{name}.pkl')


def video_stamp(path) -> tuple:
    stat = os.stat(path)
    return (stat.st_size, stat.st_mtime_ns)


def load_result(path) -> Optional[dict]:
    """A stored result, or None when absent, truncated or not ours."""
    try:
        with open(path, 'rb') as f:
            result = pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception as error:  # truncated / corrupt: recompute it
        logger.warning('ignoring unreadable result %s (%s: %s)', path,
                       type(error).__name__, error)
        return None
    if not isinstance(result, dict) or \
            result.get('format') != RESULT_FORMAT:
        logger.warning('ignoring %s: not a pose extraction result', path)
        return None
    return result


def is_done(job: VideoJob, out_dir, stamp: dict) -> bool:
    """True when ``job``'s stored result is complete and up to date."""
    result = load_result(result_file(out_dir, job.name))
    if result is None:
        return False
    try:
        same_video = result.get('video_stamp') == video_stamp(job.path)
    except OSError:
        same_video = False
    return (same_video and result.get('settings') == stamp
            and result.get('clip') == job.clip_stamp())


def remove_stale_tmp(out_dir) -> None:
    now = time.time()
    for path in glob.glob(os.path.join(os.fspath(out_dir), '.tmp_*.pkl')):
        try:
            if now - os.path.getmtime(path) > STALE_TMP_SECONDS:
                os.unlink(path)
        except OSError:
            pass


# --------------------------------------------------------------------------
# Processing videos (in a worker process or in-process)
# --------------------------------------------------------------------------
def process_job(extractor, job: VideoJob, out_dir, stamp: dict,
                emit: Callable, decode_threads: int = 1) -> None:
    """Extracts one video and stores its result; reports through ``emit``
    (``'start'``, ``'frames'`` (frame steps, two per frame), then
    ``'done'`` / ``'bad'`` / ``'error'``)."""
    emit('start', job.name)
    try:
        result = extractor.extract_video(
            job.path, progress=lambda n: emit('frames', n),
            decode_threads=decode_threads, max_persons=job.max_persons,
            **job.clip())
        payload = dict(format=RESULT_FORMAT, frame_dir=job.name,
                       video=job.path, video_stamp=video_stamp(job.path),
                       clip=job.clip_stamp(), settings=stamp,
                       **result.to_dict())
        atomic_pickle_dump(payload, result_file(out_dir, job.name))
    except BadVideoError as error:
        emit('bad', job.name, f'sample {job.name}: {error}')
        return
    except Exception as error:  # a bug or e.g. out of memory: name the video
        emit('error', job.name,
             f'sample {job.name} ({job.path}): {type(error).__name__}: '
             f'{error}\n{traceback.format_exc()}')
        return
    emit('done', job.name, result.num_frames)


def _die_with_parent(parent_pid: int) -> None:
    """Makes this worker process stop when its parent ``parent_pid`` dies.

    On Linux the kernel kills it (``prctl(PR_SET_PDEATHSIG, SIGKILL)``),
    even in the middle of a video (nothing half-written becomes visible:
    results are written atomically). Caveat: the signal comes when the
    *thread* that created the worker exits, not the process; the workers are
    created by the thread that runs :func:`_run_workers`, which waits there
    until all of them have exited, so this never kills a worker early (keep
    it that way: never start workers from a thread that ends before them).

    The parent may have died before ``prctl`` ran (while this process was
    starting): then it has been re-parented already, which the ``getppid``
    check catches. Elsewhere (or if ``prctl`` fails) the worker notices a
    dead parent by itself, see :func:`_worker_main`.
    """
    if sys.platform.startswith('linux'):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0,
                          0) != 0:
                logger.debug('prctl(PR_SET_PDEATHSIG) failed: errno %d',
                             ctypes.get_errno())
        except Exception as error:  # no libc / no prctl: the checks remain
            logger.debug('prctl(PR_SET_PDEATHSIG) unavailable: %s', error)
    _exit_if_orphaned(parent_pid)


def _exit_if_orphaned(parent_pid: int) -> None:
    if os.getppid() != parent_pid:
        _orphan_exit()


def _orphan_exit() -> None:
    """Stops a worker whose parent is gone, at once (no interpreter
    shutdown: nothing is left to report to, and no result is half-written
    at the points where this is called)."""
    try:
        os.write(2, b'pose extraction worker: lost its parent process '
                 b'(killed or stopping), stopping\n')
    except OSError:
        pass
    os._exit(ORPHAN_EXIT_CODE)


def _worker_main(worker_id: int, device: str, num_threads: int,
                 options: ExtractionOptions, out_dir: str, stamp: dict,
                 conn, parent_pid: int) -> None:
    """Entry point of a worker process.

    It talks with its parent over ``conn``, its own end of a pipe that only
    the parent holds the other end of: it sends events (``('ready', id)``
    when it wants a video, then those of :func:`process_job`, ``'exit'``
    at the end) and receives one :class:`VideoJob` per ``'ready'`` (None:
    stop). A parent that is gone shows as an error on this pipe (at every
    event, i.e. at least once per batch of frames, and while waiting for a
    video) or as a changed ``getppid()`` (checked every
    :data:`WORKER_POLL_SECONDS` while waiting and before each video); either
    stops the worker, in addition to :func:`_die_with_parent`.
    """
    _die_with_parent(parent_pid)

    def emit(kind, *args):
        try:
            conn.send((kind, worker_id) + args)
        except (OSError, EOFError):  # the parent's end is closed
            _orphan_exit()

    def next_job() -> Optional[VideoJob]:
        emit('ready')
        while not conn.poll(WORKER_POLL_SECONDS):
            _exit_if_orphaned(parent_pid)
        try:
            return conn.recv()
        except (OSError, EOFError):
            _orphan_exit()

    try:
        import mmar_ext  # noqa: F401  (compat fixes first)
        import torch
        if num_threads:
            torch.set_num_threads(num_threads)
        extractor = options.build_extractor(device)
    except BaseException:
        emit('fatal', f'worker {worker_id} ({device}) could not build the '
             f'models:\n{traceback.format_exc()}')
        emit('exit')
        return
    decode_threads = 1 if device == 'cpu' else 2
    try:
        while True:
            job = next_job()
            if job is None:
                break
            _exit_if_orphaned(parent_pid)
            process_job(extractor, job, out_dir, stamp, emit, decode_threads)
    finally:
        emit('exit')


class _Controller:
    """Collects worker events into a summary and the progress bar."""

    def __init__(self, summary: ExtractionSummary, bar: ProgressBar,
                 skip_bad: bool):
        self.summary, self.bar, self.skip_bad = summary, bar, skip_bad
        self.current: Dict[int, str] = {}
        self.fatal: List[str] = []

    @property
    def stop(self) -> bool:
        return bool(self.fatal or self.summary.errors or
                    (self.summary.bad and not self.skip_bad))

    def handle(self, kind: str, worker: int, *args) -> None:
        if kind == 'start':
            self.current[worker] = args[0]
        elif kind == 'frames':
            self.bar.add_frames(args[0] / 2)
        elif kind == 'done':
            self.current.pop(worker, None)
            self.summary.processed.append(args[0])
            self.summary.frames += int(args[1])
            self.bar.add_video()
        elif kind == 'bad':
            self.current.pop(worker, None)
            self.summary.bad[args[0]] = args[1]
            self.bar.add_video()
            if self.skip_bad:
                logger.warning('skipped bad video: %s', args[1])
        elif kind == 'error':
            self.current.pop(worker, None)
            self.summary.errors[args[0]] = args[1]
        elif kind == 'fatal':
            self.fatal.append(args[0])


def _run_in_process(jobs, options, device, out_dir, stamp, controller):
    extractor = options.build_extractor(device)
    decode_threads = 1 if extractor.device_type == 'cpu' else 2
    for job in jobs:
        if controller.stop:
            break
        process_job(extractor, job, out_dir, stamp,
                    lambda kind, *args: controller.handle(kind, 0, *args),
                    decode_threads)


def _run_workers(jobs, options, devices, out_dir, stamp, controller):
    """Runs ``jobs`` in one spawned worker process per entry of ``devices``.

    Videos are handed out one at a time: a worker gets its next video (or
    None: stop) only when it asks for it, having finished the previous one.
    Nothing is queued for the workers, so when this process stops (an error,
    or killed) no worker has a backlog to go on with, and this process knows
    which video each worker is on.
    """
    from multiprocessing.connection import wait
    ctx = multiprocessing.get_context('spawn')
    pending = collections.deque(jobs)
    cpu_workers = sum(d == 'cpu' for d in devices)
    threads = max(1, (os.cpu_count() or 1) // cpu_workers) \
        if cpu_workers else 0
    parent_pid = os.getpid()
    procs, conns = [], []
    assigned: Dict[int, str] = {}  # worker -> the video it is on

    def crashed(i):
        procs[i].join(timeout=5)
        name = assigned.pop(i, None) or controller.current.get(i)
        controller.current.pop(i, None)
        controller.summary.errors[name or f'worker {i}'] = (
            f'worker {i} ({devices[i]}) died with exit code '
            f'{procs[i].exitcode}' +
            (f' while processing sample {name}' if name else ''))

    try:
        for i, device in enumerate(devices):
            conn, child_conn = ctx.Pipe()
            proc = ctx.Process(
                target=_worker_main, daemon=True,
                args=(i, device, threads if device == 'cpu' else 0, options,
                      out_dir, stamp, child_conn, parent_pid))
            proc.start()
            # the worker holds the only other end: its death is an EOF here,
            # ours is one there
            child_conn.close()
            procs.append(proc)
            conns.append(conn)
        running = {conn: i for i, conn in enumerate(conns)}
        while running:
            for conn in wait(list(running), timeout=1.0):
                i = running[conn]
                try:
                    kind, _, *args = conn.recv()
                except (EOFError, OSError):  # gone without its 'exit'
                    del running[conn]
                    crashed(i)
                    continue
                if kind == 'ready':
                    assigned.pop(i, None)
                    job = None if controller.stop or not pending \
                        else pending.popleft()
                    if job is not None:
                        assigned[i] = job.name
                    try:
                        conn.send(job)
                    except OSError:  # died: its EOF comes next
                        pass
                elif kind == 'exit':
                    del running[conn]
                else:
                    if kind in ('done', 'bad', 'error'):
                        assigned.pop(i, None)
                    controller.handle(kind, i, *args)
            # dead, yet no EOF (its end of the pipe leaked into another
            # process) and nothing left to read: it crashed
            for conn, i in list(running.items()):
                if not procs[i].is_alive() and not conn.poll():
                    del running[conn]
                    crashed(i)
    finally:
        # a worker still running (this process is failing) stops at its next
        # event or request
        for conn in conns:
            conn.close()
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
                proc.join()


def run_extraction(ann_file, out_dir, data_root=None, workers: int = 1,
                   gpus: Optional[int] = None, device: str = 'auto',
                   skip_bad: bool = False, progress: bool = True,
                   options: Optional[ExtractionOptions] = None,
                   ) -> ExtractionSummary:
    """Extracts the poses of every RGB video of an annotation pkl.

    Args:
        ann_file: the dataset's annotation pkl.
        out_dir: folder of the per-video results.
        data_root: root of relative ``rgb_path`` (default
            ``meta['raw_root']``).
        workers: worker processes; 0 or 1 runs in this process.
        gpus: use GPUs ``cuda:0 .. cuda:gpus-1``, one worker each (or
            ``workers`` workers spread over them); overrides ``device``.
        device: ``'auto'``, ``'cpu'``, ``'cuda:1'``, ...
        skip_bad: report undecodable / empty videos and go on, instead of
            stopping with an error.
        progress: show the progress bar on stderr.
        options: :class:`ExtractionOptions` (models and settings).

    Returns:
        :class:`ExtractionSummary`.

    Raises:
        PoseExtractionError: a bad video (without ``skip_bad``; the message
            names it), a failure while processing a video, or a worker that
            could not start. Results finished before are kept.
    """
    from .models import resolve_device
    options = options or ExtractionOptions()
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    remove_stale_tmp(out_dir)
    stamp = options.stamp()
    jobs, without_video = list_jobs(load_annotations(ann_file), data_root,
                                    options)
    summary = ExtractionSummary(num_videos=len(jobs),
                                without_video=without_video)
    if without_video:
        logger.warning('%d samples have no RGB video path, no pose to '
                       'extract: %s', len(without_video),
                       ', '.join(without_video[:10]) +
                       (' ...' if len(without_video) > 10 else ''))
    todo = []
    for job in jobs:
        if is_done(job, out_dir, stamp):
            summary.already_done.append(job.name)
        else:
            todo.append(job)
    logger.info('%d videos: %d already extracted in %s, %d to do',
                len(jobs), len(summary.already_done), out_dir, len(todo))
    if not todo:
        return summary

    if gpus:
        count = max(workers, gpus)
        devices = [f'cuda:{i % gpus}' for i in range(count)]
    else:
        devices = [resolve_device(device)] * max(1, workers)
    bar = ProgressBar(len(todo), sum(j.num_frames for j in todo),
                      enabled=progress)
    controller = _Controller(summary, bar, skip_bad)
    start = time.monotonic()
    try:
        if len(devices) == 1:
            _run_in_process(todo, options, devices[0], out_dir, stamp,
                            controller)
        else:
            _run_workers(todo, options, devices, out_dir, stamp, controller)
    finally:
        bar.close()
        summary.seconds = time.monotonic() - start
    if controller.fatal:
        raise PoseExtractionError('\n'.join(controller.fatal))
    if summary.errors:
        raise PoseExtractionError(
            'pose extraction failed (finished videos are kept; re-run to '
            'resume):\n' + '\n'.join(summary.errors.values()))
    if summary.bad and not skip_bad:
        raise PoseExtractionError(
            'bad video (finished videos are kept; fix or remove it, or pass '
            '--skip-bad):\n' + '\n'.join(summary.bad.values()))
    if summary.bad:
        logger.warning('skipped %d bad videos: %s', len(summary.bad),
                       ', '.join(summary.bad))
    logger.info('extracted %d videos (%d frames) in %.1f s',
                len(summary.processed), summary.frames, summary.seconds)
    return summary


# --------------------------------------------------------------------------
# Merge
# --------------------------------------------------------------------------
def clock_indices(total_frames: int, num_frames: int) -> np.ndarray:
    """Video frame of each of the ``total_frames`` clock frames."""
    t = np.arange(int(total_frames), dtype=np.int64)
    if num_frames == total_frames:
        return t
    return np.minimum(t * num_frames // total_frames, num_frames - 1)


def merge_results(ann_file, out_dir, out_file=None,
                  allow_missing: bool = False) -> dict:
    """Writes the extracted poses into the annotation pkl.

    Args:
        ann_file: the dataset's annotation pkl.
        out_dir: folder of the per-video results.
        out_file: where to write (default: ``ann_file``, replaced
            atomically).
        allow_missing: samples without a result (no RGB video, a skipped
            bad video) lose their keypoint fields (listed in
            ``meta['pose_extraction']['missing']``) instead of failing the
            merge. Their colour-joint fallback is never kept next to
            HRNet poses.

    Returns:
        The merged annotation dict.

    Raises:
        PoseExtractionError: samples without a result (unless
            ``allow_missing``), or results made with different settings.
    """
    data = load_annotations(ann_file)
    missing, settings = [], None
    for ann in data['annotations']:
        name = ann['frame_dir']
        result = load_result(result_file(out_dir, name))
        if result is None:
            missing.append(name)
            continue
        if settings is None:
            settings = result['settings']
        elif result['settings'] != settings:
            raise PoseExtractionError(
                f'{result_file(out_dir, name)} was extracted with other '
                f'settings than the other results in {out_dir} '
                f'({result["settings"]} != {settings}); re-run the '
                'extraction')
        num_frames = int(result['num_frames'])
        total = int(ann.get('total_frames') or num_frames)
        expected = (ann.get('num_frames') or {}).get('rgb')
        if expected is not None and int(expected) != num_frames:
            logger.warning(
                'sample %s: its video decodes to %d frames, the annotation '
                'says %d (truncated or re-encoded?); keypoints are mapped '
                'to its clock of %d frames', name, num_frames, expected,
                total)
        inds = clock_indices(total, num_frames)
        ann['keypoint'] = result['keypoint'][:, inds].astype(np.float32)
        ann['keypoint_score'] = result['keypoint_score'][:, inds].astype(
            np.float32)
        shape = tuple(int(s) for s in result['img_shape'])
        ann['total_frames'] = total
        ann['img_shape'] = shape
        ann['original_shape'] = shape
        if isinstance(ann.get('num_frames'), dict):
            ann['num_frames']['rgb'] = num_frames
        if isinstance(ann.get('modality_shapes'), dict):
            ann['modality_shapes']['rgb'] = shape
    if missing:
        listed = ', '.join(missing[:10]) + (' ...' if len(missing) > 10
                                            else '')
        if not allow_missing:
            raise PoseExtractionError(
                f'{len(missing)} samples of {ann_file} have no pose result '
                f'in {out_dir}: {listed} (run the extraction first; samples '
                'without an RGB video or with a bad one need '
                '--allow-missing)')
        logger.warning('%d samples have no pose result; their keypoint '
                       'fields are removed: %s', len(missing), listed)
        missing_set = set(missing)
        for ann in data['annotations']:
            if ann['frame_dir'] in missing_set:
                ann.pop('keypoint', None)
                ann.pop('keypoint_score', None)
    meta = data.setdefault('meta', {})
    meta['keypoint_source'] = 'hrnet'
    meta['pose_extraction'] = dict(settings=settings,
                                   results=os.path.abspath(out_dir),
                                   missing=missing)
    out_file = ann_file if out_file is None else out_file
    atomic_pickle_dump(data, out_file)
    logger.info('wrote HRNet keypoints of %d samples to %s',
                len(data['annotations']) - len(missing), out_file)
    return data
