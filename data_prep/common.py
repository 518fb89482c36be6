"""What every converter of ``data_prep`` shares.

The dataset converters (``data_prep/<dataset>/build_annotations.py``) all
write one annotation pkl in the layout of ``docs/data_format.md`` and behave
alike: modality files are probed for the frames that really decode, samples
are built in parallel worker processes with a progress bar, each sample's
result can be cached (``--cache-dir``) so that an interrupted run resumes,
a bad sample stops the build with an error naming it and its file (or, with
``--skip-bad``, is left out, counted and listed in ``meta['skipped']``), and
the pkl is written atomically. This module holds those pieces once.
"""
from __future__ import annotations

import argparse
import functools
import inspect
import logging
import multiprocessing
import os
import pickle
import re
import sys
import tempfile
from typing import Callable, Hashable, Iterable, Sequence

import numpy as np

import data_prep  # noqa: F401  (imports cv2 before decord)

logger = logging.getLogger(__name__)

#: Default tolerance of a modality's frame count against ``total_frames``:
#: ``max(FRAME_TOLERANCE, FRAME_TOLERANCE_FRACTION * total_frames)`` frames.
FRAME_TOLERANCE = 2
FRAME_TOLERANCE_FRACTION = 0.05


class AnnotationBuildError(RuntimeError):
    """A sample could not be converted; the message names sample and file."""


class FrameCountMismatchError(AnnotationBuildError):
    """A modality's frame count is too far from the sample's total_frames."""


class ModalityFileError(ValueError):
    """A modality file exists but cannot be read; the message names it."""



def _decord_frame(reader, index):
    """Frame ``index`` decoded by a decord reader, or None if it fails."""
    try:
        frame = reader[index].asnumpy()
    except Exception:  # decord raises its own DECORDError
        return None
    return frame if frame.ndim == 3 and frame.size else None


def _probe_video_decord(path):
    import decord

    def open_reader():
        try:
            return decord.VideoReader(path, num_threads=1)
        except Exception as error:  # decord raises its own DECORDError
            raise ModalityFileError(
                f'{path}: unreadable video ({error})') from None

    reader = open_reader()
    claimed = len(reader)
    if claimed <= 0:
        raise ModalityFileError(f'{path}: the video has no frame')
    last = _decord_frame(reader, claimed - 1)
    if last is not None:  # the usual case: one seek, one decode
        return claimed, (int(last.shape[0]), int(last.shape[1]))
    # The container claims frames that do not decode (a truncated file):
    # search for the last frame that does; a failed decode may leave the
    # reader unusable, so every try gets a fresh one.
    first = _decord_frame(open_reader(), 0)
    if first is None:
        raise ModalityFileError(f'{path}: cannot decode the first frame')
    good, bad = 0, claimed - 1
    while bad - good > 1:
        middle = (good + bad) // 2
        if _decord_frame(open_reader(), middle) is None:
            bad = middle
        else:
            good = middle
    return good + 1, (int(first.shape[0]), int(first.shape[1]))


def _probe_video_cv2(path):
    import cv2
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            raise ModalityFileError(f'{path}: cannot open video')
        # CAP_PROP_FRAME_COUNT is the container's claim (a truncated AVI
        # still claims all its frames): its last frame must decode.
        claimed = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if claimed > 0:
            if claimed > 1:
                capture.set(cv2.CAP_PROP_POS_FRAMES, claimed - 1)
            ok, frame = capture.read()
            if (ok and frame is not None and round(
                    capture.get(cv2.CAP_PROP_POS_FRAMES)) == claimed):
                return claimed, (int(frame.shape[0]), int(frame.shape[1]))
    finally:
        capture.release()
    # No claim, or a wrong one: count the frames that decode.
    capture = cv2.VideoCapture(path)
    try:
        ok, frame = capture.read()
        if not ok or frame is None:
            raise ModalityFileError(f'{path}: cannot decode the first frame')
        num_frames = 1
        while capture.grab():  # grab() decodes, without colour conversion
            num_frames += 1
        return num_frames, (int(frame.shape[0]), int(frame.shape[1]))
    finally:
        capture.release()


def probe_video(path, backend: str = 'auto'):
    """Returns ``(number of frames, (H, W))`` of a video.

    The number is of the frames that really decode, not the container's
    claim: the last claimed frame is decoded (one seek); when that fails
    (e.g. a truncated file whose header still claims every frame), the last
    decodable frame is searched for (decord: binary search; cv2: by
    decoding from the start).

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


def probe_video_fps(path) -> float | None:
    """The frame rate a video's container claims (OpenCV's
    ``CAP_PROP_FPS``), or None when it claims none. For the record
    (``ann['fps']``): training works on frame indices, not times.

    Raises:
        ModalityFileError: the video cannot be opened.
    """
    import cv2
    capture = cv2.VideoCapture(os.fspath(path))
    try:
        if not capture.isOpened():
            raise ModalityFileError(f'{path}: cannot open video')
        fps = float(capture.get(cv2.CAP_PROP_FPS))
    finally:
        capture.release()
    return fps if np.isfinite(fps) and fps > 0 else None


def natural_key(name: str):
    """Sort key that orders embedded numbers by value (``frame_9`` <
    ``frame_10``), for frame files whose numbers are not zero-padded."""
    return [int(part) if part.isdigit() else part
            for part in re.split(r'(\d+)', name)]


def read_image(path, flags=None) -> np.ndarray:
    """An image file as stored (``cv2.IMREAD_UNCHANGED`` by default).

    Raises:
        ModalityFileError: the file is missing or does not decode.
    """
    import cv2
    image = cv2.imread(os.fspath(path),
                       cv2.IMREAD_UNCHANGED if flags is None else flags)
    if image is None:
        raise ModalityFileError(f'{path}: unreadable image')
    return image


def probe_frame_files(folder, files: Sequence[str]):
    """Returns ``(len(files), (H, W))`` of a folder of per-frame images.

    ``files`` are the frame file names in frame order (the converter knows
    the dataset's naming). The first and the last frame must decode and have
    the same size: a truncated copy shows there, as with videos.

    Raises:
        ModalityFileError: no frame, or an unreadable or odd-sized first or
            last frame.
    """
    folder = os.fspath(folder)
    if not files:
        raise ModalityFileError(f'{folder}: no frame files')
    first = read_image(os.path.join(folder, files[0]))
    if len(files) > 1:
        last_path = os.path.join(folder, files[-1])
        last = read_image(last_path)
        if last.shape[:2] != first.shape[:2]:
            raise ModalityFileError(
                f'{last_path}: {last.shape[1]}x{last.shape[0]} while the '
                f'first frame is {first.shape[1]}x{first.shape[0]}')
    return len(files), (int(first.shape[0]), int(first.shape[1]))


def allowed_frame_difference(
        total_frames: int, frame_tolerance: int = FRAME_TOLERANCE,
        frame_tolerance_fraction: float = FRAME_TOLERANCE_FRACTION) -> float:
    """How many frames a modality may differ from ``total_frames``."""
    return max(frame_tolerance, frame_tolerance_fraction * total_frames)


def check_frame_count(name: str, modality: str, path, count: int,
                      total_frames: int, clock: str = 'skeleton',
                      frame_tolerance: int = FRAME_TOLERANCE,
                      frame_tolerance_fraction: float =
                      FRAME_TOLERANCE_FRACTION):
    """``None`` when ``count == total_frames``, ``(count, total_frames)``
    (for ``ann['frame_mismatch']``) within the tolerance.

    Raises:
        FrameCountMismatchError: beyond the tolerance, naming the sample,
            the file and both counts.
    """
    if count == total_frames:
        return None
    allowed = allowed_frame_difference(total_frames, frame_tolerance,
                                       frame_tolerance_fraction)
    if abs(count - total_frames) > allowed:
        raise FrameCountMismatchError(
            f'sample {name}: {modality} {path} has {count} decodable frames '
            f'but the {clock} clock (total_frames) has {total_frames}: '
            f'{count - total_frames:+d} frames, beyond the tolerance of '
            f'{allowed:g} (--frame-tolerance, --frame-tolerance-fraction)')
    return (count, total_frames)


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


class Progress:
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


def run_jobs(job, names, num_workers):
    """Yields ``job(name)`` for all names, in a process pool if asked."""
    progress = Progress(len(names))
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


def some(names, limit=10):
    names = list(names)
    return ', '.join(names[:limit]) + (' ...' if len(names) > limit else '')


def file_stamp(root, relative_paths: Iterable[str]) -> tuple:
    """``(path, size, mtime)`` of each input file or folder of a sample, so
    that a cached result is reused only while its inputs are unchanged."""
    stamp = []
    for relative in relative_paths:
        try:
            stat = os.stat(os.path.join(root, relative))
            stamp.append((relative, stat.st_size, stat.st_mtime_ns))
        except FileNotFoundError:
            stamp.append((relative, None, None))
    return tuple(stamp)


def cached_job(key: str, build: Callable, stamp: Hashable = None,
               cache_dir=None, skip_bad: bool = False):
    """Runs ``build()`` for the sample ``key``, through a cache file.

    ``stamp`` (the options and :func:`file_stamp` of the inputs) must equal
    the cached one for the cached result to be reused. Returns ``(key,
    result, None)``; a bad sample raises :class:`AnnotationBuildError`
    (another exception is wrapped into one that names the sample), or with
    ``skip_bad`` returns ``(key, None, error)``. Failures are not cached, so
    a fixed file is picked up by the next run.
    """
    cache_file = None
    if cache_dir is not None:
        cache_file = os.path.join(os.fspath(cache_dir), f'{key}.pkl')
        try:
            with open(cache_file, 'rb') as f:
                cached_stamp, result = pickle.load(f)
            if cached_stamp == stamp:
                return key, result, None
        except (OSError, EOFError, pickle.UnpicklingError, ValueError):
            pass
    try:
        try:
            result = build()
        except AnnotationBuildError:
            raise
        except Exception as error:  # a bug or an unforeseen input: name it
            raise AnnotationBuildError(
                f'sample {key}: {type(error).__name__}: {error}') from error
    except AnnotationBuildError as error:
        if not skip_bad:
            raise
        return key, None, error
    if cache_file is not None:
        atomic_pickle_dump((stamp, result), cache_file)
    return key, result, None


def _call_job(item, build_sample, stamp_of, cache_dir, skip_bad):
    key, args = item
    return cached_job(key, functools.partial(build_sample, *args),
                      stamp_of(*args) if stamp_of else None, cache_dir,
                      skip_bad)


def build_all(items: Sequence[tuple], build_sample: Callable,
              stamp_of: Callable | None = None, cache_dir=None,
              num_workers: int | None = None, skip_bad: bool = False):
    """Builds every sample, in parallel, cached, with a progress bar.

    Args:
        items: ``(key, args)`` per sample; ``build_sample(*args)`` returns
            its result (picklable; a module-level function for the worker
            processes).
        stamp_of: ``stamp_of(*args)`` -> the cache stamp (include the
            options and :func:`file_stamp` of the inputs).
        num_workers: processes (default: CPU count); 0 or 1 in-process.

    Returns:
        tuple: ``(results, skipped)``, ``{key: result}`` in the items'
        order and ``{key: message}`` of the bad samples (``skip_bad``).
    """
    if num_workers is None:
        num_workers = os.cpu_count() or 1
    job = functools.partial(
        _call_job, build_sample=build_sample, stamp_of=stamp_of,
        cache_dir=None if cache_dir is None else os.fspath(cache_dir),
        skip_bad=skip_bad)
    results, skipped = {}, {}
    for key, result, error in run_jobs(job, list(items), num_workers):
        if error is not None:
            skipped[key] = str(error)
        else:
            results[key] = result
    if skipped:
        logger.warning('skipped %d bad samples (--skip-bad):\n%s',
                       len(skipped), '\n'.join(skipped.values()))
    return results, skipped


def check_splits(splits: dict, names: Iterable[str]) -> dict:
    """Keeps in each split only the samples that were built; logs how many
    a split lost (samples left out or skipped)."""
    kept = set(names)
    out = {}
    for split, members in splits.items():
        out[split] = [n for n in members if n in kept]
        lost = len(members) - len(out[split])
        if lost:
            logger.warning('split %s: %d of its %d samples are not in the '
                           'annotations (left out or bad): %s', split, lost,
                           len(members),
                           some(n for n in members if n not in kept))
    return out


def write_annotations(out_file, splits: dict, annotations: list,
                      meta: dict) -> dict:
    """Writes ``{'split', 'annotations', 'meta'}`` (docs/data_format.md)
    atomically to ``out_file`` and logs it; returns the dict."""
    data = dict(split=splits, annotations=annotations, meta=meta)
    atomic_pickle_dump(data, out_file)
    logger.info('wrote %d annotations to %s', len(annotations), out_file)
    return data


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--num-workers``, ``--cache-dir``, ``--skip-bad``."""
    parser.add_argument('--num-workers', type=int, default=None,
                        help='processes (default: CPU count; 0 = in-process)')
    parser.add_argument('--cache-dir', default=None,
                        help='per-sample cache, so that an interrupted run '
                        'resumes where it stopped')
    parser.add_argument('--skip-bad', action='store_true',
                        help="leave bad samples out, list them in the pkl's "
                        "meta['skipped'] and go on; without it the first one "
                        'stops the build')


def add_frame_tolerance_arguments(parser: argparse.ArgumentParser,
                                  against: str = 'total_frames') -> None:
    """``--frame-tolerance`` and ``--frame-tolerance-fraction``: how many
    frames a modality's count may differ from ``against``
    (:func:`allowed_frame_difference`)."""
    parser.add_argument('--frame-tolerance', type=int,
                        default=FRAME_TOLERANCE, metavar='FRAMES',
                        help=f'frames a count may differ from {against}; the '
                        'larger of this and --frame-tolerance-fraction '
                        'applies (default: %(default)s)')
    parser.add_argument('--frame-tolerance-fraction', type=float,
                        default=FRAME_TOLERANCE_FRACTION, metavar='FRACTION',
                        help='the same as a fraction of it (default: '
                        '%(default)s)')


def run_cli(build: Callable, args: argparse.Namespace) -> int:
    """A converter's ``main``: ``build(**vars(args))`` with logging on, a
    converter error printed as one line and exit status 1.

    The parser's destinations are ``build``'s keyword arguments (``--out``
    has ``dest='out_file'``), so an option added to one and not the other
    fails at once, naming it.
    """
    logging.basicConfig(level=logging.INFO, format='%(levelname)s %(message)s')
    unknown = set(vars(args)) - set(inspect.signature(build).parameters)
    if unknown:
        raise TypeError(f'{build.__module__}.{build.__name__} takes no '
                        f'{", ".join(sorted(unknown))} (command-line options)')
    try:
        build(**vars(args))
    except (AnnotationBuildError, FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    return 0


# --------------------------------------------------------------------------
# MATLAB files (v5 via scipy, v7.3 = HDF5 via h5py)
# --------------------------------------------------------------------------
_HDF5_SIGNATURE = b'\x89HDF\r\n\x1a\n'


def is_hdf5(path) -> bool:
    """Whether ``path`` is an HDF5 file (a MATLAB v7.3 ``.mat`` is one,
    after a 512-byte header)."""
    with open(path, 'rb') as f:
        for offset in (0, 512, 1024, 2048):
            f.seek(offset)
            if f.read(8) == _HDF5_SIGNATURE:
                return True
    return False


def load_mat_array(path, variable: str):
    """One numeric array of a MATLAB ``.mat`` file, as stored.

    MATLAB v7.3 files (HDF5) are read with h5py, older ones with
    ``scipy.io.loadmat``. h5py shows a v7.3 variable with its dimensions
    reversed (MATLAB is column-major): a MATLAB ``T x 45`` matrix comes back
    ``[45, T]`` from a v7.3 file and ``[T, 45]`` from a v5 one -- the
    caller knows its data and must look at ``version``. ``variable`` is
    taken when present, else the file's only array variable.

    Returns:
        tuple: ``(array, version, name)`` with ``version`` ``'v7.3'`` or
        ``'v5'`` and the variable's ``name``.

    Raises:
        ModalityFileError: unreadable file, no such (or no single) array
            variable, or h5py missing for a v7.3 file; the message names the
            file.
    """
    path = os.fspath(path)
    try:
        hdf5 = is_hdf5(path)
    except OSError as error:
        raise ModalityFileError(f'{path}: cannot read ({error})') from None
    if hdf5:
        try:
            import h5py
        except ImportError:
            raise ModalityFileError(
                f'{path}: a MATLAB v7.3 (HDF5) file; reading it needs h5py '
                '(pip install h5py)') from None
        try:
            with h5py.File(path, 'r') as f:
                names = [k for k, v in f.items()
                         if isinstance(v, h5py.Dataset) and v.dtype.kind in
                         'biuf']
                name = variable if variable in names else (
                    names[0] if len(names) == 1 else None)
                if name is None:
                    raise ModalityFileError(
                        f'{path}: no numeric dataset /{variable} (numeric '
                        f'datasets: {names or "none"})')
                return np.asarray(f[name][()]), 'v7.3', name
        except ModalityFileError:
            raise
        except Exception as error:  # h5py raises OSError, KeyError, ...
            raise ModalityFileError(
                f'{path}: unreadable MATLAB v7.3 file ({error})') from None
    import scipy.io
    try:
        contents = scipy.io.loadmat(path)
    except Exception as error:  # scipy raises ValueError, TypeError, ...
        raise ModalityFileError(
            f'{path}: unreadable .mat file ({error})') from None
    names = [k for k, v in contents.items() if not k.startswith('__')
             and isinstance(v, np.ndarray) and v.dtype.kind in 'biuf']
    name = variable if variable in names else (
        names[0] if len(names) == 1 else None)
    if name is None:
        raise ModalityFileError(
            f'{path}: no numeric variable {variable} (numeric variables: '
            f'{names or "none"})')
    return contents[name], 'v5', name
