"""Build the annotation pkl of UWA3D Multiview Activity II.

Usage, from the repository root::

    python -m data_prep.uwa3d.build_annotations --raw-root data/uwa3d_raw \\
        --out data/uwa3d_annotations.pkl

What is read. The official download is offline and the public copies lay the
data out differently, so the layout is detected under ``--raw-root`` (each
candidate in this order; the first that holds sequences is used, and the log
says which, with the sequence-name order it found):

* RGB: one folder of per-frame images per sequence,
  ``UWA3DII_RGB/UWA3D-RGB/<seq>/`` (ActionMAE's layout), or
  ``UWA3D-RGB/<seq>/`` (the same unpacked without its outer folder).
* depth, the first of
  ``UWA3DII_Depth_ROI/UWA3D-Depth/<seq>/`` (depth-ROI PNG frames, ActionMAE's
  layout), ``UWA3D-Depth/<seq>/``, ``UWA3DII_Depth/Actions_images/<seq>/``
  (PNG frames), ``Actions_images/<seq>/``, or one MATLAB file per sequence,
  ``ActionsNew/aAA_sSS_vVV.mat`` / ``UWA3DII_Depth/ActionsNew/...`` (variable
  ``curFrame``, H x W x T). The ``.mat`` variant is converted once into a
  folder of 16-bit PNG frames ``000001.png ...`` per sequence under
  ``depth_png_dir`` (default ``<raw_root>/<that folder>_png``; reused while
  the ``.mat`` is unchanged), since training reads frame folders or videos.
  Its names carry no ``eEE``: a file is paired with the one sequence of the
  other modalities with the same action, subject and view (``e01`` when
  there is none).
* skeleton: ``ActionsSkeleton/<seq>.mat`` (also looked for under
  ``UWA3DII_Depth/`` and ``UWA3DII_Skeleton/``): variable ``A``, read with
  h5py from MATLAB v7.3 (HDF5) files and with ``scipy.io.loadmat`` from older
  (v5) files; any other single array variable is accepted too.

``--rgb-dir`` / ``--depth-dir`` / ``--skeleton-dir`` name the folder of a
modality directly (relative to the raw root) when a copy is laid out
otherwise; a depth folder holding ``.mat`` files is read as ``ActionsNew``.

Sequence names ``<seq>`` are ``aAA_sSS_vVV_eEE`` or ``aAA_sSS_eEE_vVV``
(both orders occur in public copies); every sample is named
``aAA_sSS_vVV_eEE`` (``frame_dir``). Action ``aAA`` (1-30) gives
``label = AA - 1``; views V1 front, V2 left, V3 right, V4 top; 10 subjects.

Frames. The frame files of a folder (``.png``, ``.jpg``, ``.jpeg``, ``.bmp``,
``.tif``) are ordered by :func:`common.natural_key` (numbers by value:
``9.jpg`` before ``10.jpg``, whatever the padding) and stored as
``rgb_frames`` / ``depth_frames``; the first and the last frame must decode
with the same size. A folder mixing image types is an error (the order of
its frames would be a guess).

Skeleton. ``A`` holds one row per frame, ``x1 y1 z1 ... x15 y15 z15``:
``[T, 45]``. MATLAB stores column-major and h5py shows the dimensions of a
v7.3 variable reversed, so a copy may give ``[45, T]``: the axis of length
45 is taken as the coordinates (when both are 45, a v7.3 file is read as
``[T, 45]`` and a v5 one as ``[45, T]``, the same MATLAB variable). The
orientations found are counted in the summary. It becomes ``keypoint_3d``
``[1, T, 15, 3]`` float32 in the file's joint order (layout ``'uwa3d15'`` of
``mmar_ext/datasets/skeleton_layouts.py``: column triple ``j`` is joint
``j``; the 15-joint OpenNI/NiTE order head, neck, torso, left shoulder,
left elbow, left hand, right shoulder, right elbow, right hand, left hip,
left knee, left foot, right hip, right knee, right foot is expected but not
verified). Another number of columns (e.g. 42 = 14 joints), an empty or
non-finite array is an error naming the file. UWA3D II has no 2D keypoints:
HRNet ones come from ``python -m data_prep.pose_extraction``.

Clock and frame counts. ``total_frames`` is the skeleton's frame count, else
the depth frame count, else the RGB one (skeleton and depth come from the
Kinect depth sensor). Training maps every modality proportionally onto that
clock (``MultiModalDecode``), which pairs RGB and depth frames by their
relative position when their counts differ: each modality's count is
recorded in ``num_frames`` and checked with :func:`common.check_frame_count`
-- within ``max(frame_tolerance, frame_tolerance_fraction * total_frames)``
(default ``max(2, 5%)``) the difference is recorded in ``frame_mismatch``,
beyond it is an error naming the sample, the folder and both counts.

Samples and modalities. The samples are the union of the sequences of the
requested modalities (``--modalities``, default: every modality whose
layout is found). A sample lacking a requested modality (the real download
has five: ``a21_s02_v04_e01``, ``a06_s06_v04_e01``, ``a02_s06_v03_e01``,
``a07_s02_v02_e01``, ``a16_s06_v02_e01``) is counted, named in the log and
in ``meta['summary']['incomplete']``, and left out -- or, with
``keep_incomplete`` (``--keep-incomplete``), kept without that modality's
keys (train it with the dataset's ``missing_modality``). With RGB and depth
both requested those five sequences are left out even where a copy has both
modalities, as ActionMAE does for its R+D protocol (the log says so).

Splits (UWA3D II ships no split file: the protocol is by view; the view is in
the sample name). The standard cross-view protocol trains on two views and
tests on the other two, for every pair: ``xview12_train`` (V1 + V2) /
``xview12_val`` (V3 + V4), ``xview13_*``, ``xview14_*``, ``xview23_*``,
``xview24_*`` and ``xview34_train`` (V3 + V4) / ``xview34_val`` (V1 + V2), the
setting of ActionMAE and ``configs/_base_/datasets/uwa3d_xview34_rgbd.py``.
``view1`` ... ``view4`` list each view's samples, for the per-test-view
results of the original protocol (e.g. train ``xview12_train``, test
``view3``).

Bad samples stop the build with an :class:`AnnotationBuildError` naming the
sample and the file (no pkl is written); with ``skip_bad`` (``--skip-bad``)
they are left out and listed in ``meta['skipped']``. Workers, progress,
``--cache-dir`` and the atomic write are :func:`common.build_all`'s.

What is written, in the layout of ``docs/data_format.md``: per sample
``frame_dir``, ``label``, ``total_frames``, ``img_shape`` /
``original_shape`` (RGB (H, W); the depth size without RGB),
``num_frames``, ``modality_shapes``, ``rgb_path`` / ``depth_path`` (relative
to ``meta['raw_root']``; a depth folder converted from ``.mat`` outside the
raw root is absolute) with ``rgb_frames`` / ``depth_frames``,
``keypoint_3d``, ``frame_mismatch``; and ``meta`` with ``dataset='uwa3d'``,
``raw_root``, ``modalities``, ``layouts`` (what was detected),
``keypoint_layouts``, ``class_names`` (``'a01'`` ... ``'a30'``: the
dataset's action ids; the names are not verified), ``summary`` and
``skipped``.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import logging
import os
import re
import shutil
import sys
import tempfile

import numpy as np

from ..common import (FRAME_TOLERANCE, FRAME_TOLERANCE_FRACTION,
                      AnnotationBuildError, ModalityFileError,
                      add_common_arguments, add_frame_tolerance_arguments,
                      build_all, check_frame_count, file_stamp, load_mat_array,
                      natural_key, probe_frame_files, read_image, run_cli,
                      some, write_annotations)

logger = logging.getLogger(__name__)

DATASET = 'uwa3d'
NUM_CLASSES = 30
VIEWS = (1, 2, 3, 4)
NUM_JOINTS = 15
SKELETON_LAYOUT = 'uwa3d15'
MODALITIES = ('rgb', 'depth', 'skeleton')
#: (H, W) of UWA3D II's RGB and depth frames: img_shape without any frame.
UWA3D_SHAPE = (240, 320)
CLASS_NAMES = [f'a{action:02d}' for action in range(1, NUM_CLASSES + 1)]
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
#: The sequences ActionMAE leaves out of its R+D protocol (each lacks RGB
#: or depth in the download).
ACTIONMAE_EXCLUDED = ('a21_s02_v04_e01', 'a06_s06_v04_e01', 'a02_s06_v03_e01',
                      'a07_s02_v02_e01', 'a16_s06_v02_e01')
#: Train on two views, test on the other two (every pair).
VIEW_PAIRS = tuple(itertools.combinations(VIEWS, 2))

SEQUENCE = re.compile(r'a(\d+)_s(\d+)_(?:v(\d+)_e(\d+)|e(\d+)_v(\d+))',
                      re.IGNORECASE)
#: ActionsNew depth files: no episode, or one after the view.
DEPTH_MAT = re.compile(r'a(\d+)_s(\d+)_v(\d+)(?:_e(\d+))?', re.IGNORECASE)
NAME_ORDERS = ('aAA_sSS_vVV_eEE', 'aAA_sSS_eEE_vVV')
DEPTH_MAT_ORDER = 'aAA_sSS_vVV'


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where a modality's sequences are: ``folder`` (relative to the raw
    root) holds one entry per sequence, a folder of per-frame images
    (``kind='frames'``) or a MATLAB file (``kind='mat'``)."""
    modality: str
    folder: str
    kind: str

    def describe(self) -> str:
        what = ('folders of frame images' if self.kind == 'frames' else
                '.mat files')
        return f'{self.folder}/ ({what})'


#: Candidate layouts of each modality, in order of preference.
LAYOUTS = {
    'rgb': (Layout('rgb', 'UWA3DII_RGB/UWA3D-RGB', 'frames'),
            Layout('rgb', 'UWA3D-RGB', 'frames')),
    'depth': (Layout('depth', 'UWA3DII_Depth_ROI/UWA3D-Depth', 'frames'),
              Layout('depth', 'UWA3D-Depth', 'frames'),
              Layout('depth', 'UWA3DII_Depth/Actions_images', 'frames'),
              Layout('depth', 'Actions_images', 'frames'),
              Layout('depth', 'ActionsNew', 'mat'),
              Layout('depth', 'UWA3DII_Depth/ActionsNew', 'mat')),
    'skeleton': (Layout('skeleton', 'ActionsSkeleton', 'mat'),
                 Layout('skeleton', 'UWA3DII_Depth/ActionsSkeleton', 'mat'),
                 Layout('skeleton', 'UWA3DII_Skeleton/ActionsSkeleton',
                        'mat')),
}


# --------------------------------------------------------------------------
# Sample names
# --------------------------------------------------------------------------
def sample_name(action: int, subject: int, view: int, episode: int) -> str:
    return f'a{action:02d}_s{subject:02d}_v{view:02d}_e{episode:02d}'


def parse_sequence_name(name: str) -> dict | None:
    """``action``, ``subject``, ``view``, ``episode`` and the name ``order``
    of ``aAA_sSS_vVV_eEE`` / ``aAA_sSS_eEE_vVV``; None for another name."""
    match = SEQUENCE.fullmatch(name)
    if match is None:
        return None
    action, subject, view, episode, episode2, view2 = match.groups()
    if view is None:
        view, episode, order = view2, episode2, NAME_ORDERS[1]
    else:
        order = NAME_ORDERS[0]
    return dict(action=int(action), subject=int(subject), view=int(view),
                episode=int(episode), order=order)


# --------------------------------------------------------------------------
# Layout detection
# --------------------------------------------------------------------------
@dataclasses.dataclass
class Found:
    """The sequences of one modality found under a :class:`Layout`."""
    layout: Layout
    #: sample name -> entry path relative to the raw root
    entries: dict
    #: name order -> how many entries use it
    orders: dict
    #: depth ``.mat`` files without episode: (action, subject, view) -> path
    no_episode: dict = dataclasses.field(default_factory=dict)

    def __len__(self):
        return len(self.entries) + len(self.no_episode)

    def describe(self) -> str:
        orders = ', '.join(f'{order}: {count}'
                           for order, count in self.orders.items())
        return f'{self.layout.describe()}, {len(self)} sequences ({orders})'


def _entry_key(layout: Layout, entry: os.DirEntry):
    """``(name info or None, stem)`` of a directory entry of a layout."""
    if entry.name.startswith('.'):
        return None, None
    if layout.kind == 'frames':
        if not entry.is_dir():
            return None, None
        stem = entry.name
    else:
        stem, ext = os.path.splitext(entry.name)
        if ext.lower() != '.mat' or not entry.is_file():
            return None, None
    info = parse_sequence_name(stem)
    if info is None and layout.modality == 'depth' and layout.kind == 'mat':
        match = DEPTH_MAT.fullmatch(stem)
        if match is not None:
            action, subject, view, episode = match.groups()
            info = dict(action=int(action), subject=int(subject),
                        view=int(view), order=DEPTH_MAT_ORDER,
                        episode=None if episode is None else int(episode))
    return info, stem


def scan_layout(raw_root: str, layout: Layout) -> Found | None:
    """The sequences under ``layout``; None when its folder does not
    exist or holds no sequence.

    Raises:
        ValueError: two entries name the same sequence.
    """
    folder = os.path.join(raw_root, layout.folder)
    if not os.path.isdir(folder):
        return None
    found = Found(layout, {}, {})
    ignored = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        info, stem = _entry_key(layout, entry)
        if info is None:
            if stem is not None:
                ignored.append(entry.name)
            continue
        relative = f'{layout.folder}/{entry.name}'
        found.orders[info['order']] = found.orders.get(info['order'], 0) + 1
        if info['episode'] is None:
            key = (info['action'], info['subject'], info['view'])
            found.no_episode[key] = relative
            continue
        name = sample_name(info['action'], info['subject'], info['view'],
                           info['episode'])
        if name in found.entries:
            raise ValueError(
                f'{folder}: {found.entries[name]} and {relative} are both '
                f'sequence {name}; remove one')
        found.entries[name] = relative
    if ignored:
        logger.warning('%s: ignoring %d entries that are not UWA3D sequence '
                       'names (%s): %s', folder, len(ignored),
                       ' or '.join(NAME_ORDERS), some(ignored))
    return found if len(found) else None


def _override_layout(raw_root: str, modality: str, folder: str) -> Layout:
    """The layout of a folder named on the command line."""
    folder = folder.strip('/')
    path = os.path.join(raw_root, folder)
    if not os.path.isdir(path):
        raise FileNotFoundError(f'--{modality}-dir: no folder {path}')
    if modality == 'skeleton':
        return Layout(modality, folder, 'mat')
    if modality == 'depth' and any(
            name.lower().endswith('.mat') for name in os.listdir(path)):
        return Layout(modality, folder, 'mat')
    return Layout(modality, folder, 'frames')


def detect_layouts(raw_root: str, modalities=None, dirs=None) -> dict:
    """Finds each modality's layout under ``raw_root``.

    Args:
        modalities: the requested modalities; None = every one found.
        dirs: ``{modality: folder}`` overriding the detection.

    Returns:
        dict: modality -> :class:`Found`, in :data:`MODALITIES` order.

    Raises:
        FileNotFoundError: a requested modality (or, with ``modalities``
            None, every modality) has no layout with sequences.
    """
    dirs = {m: d for m, d in (dirs or {}).items() if d}
    wanted = MODALITIES if modalities is None else tuple(modalities)
    unknown = [m for m in wanted if m not in MODALITIES]
    if unknown:
        raise ValueError(f'unknown modalities {unknown}; choose from '
                         f'{list(MODALITIES)}')
    found = {}
    for modality in MODALITIES:
        if modality not in wanted:
            continue
        if modality in dirs:
            candidates = (_override_layout(raw_root, modality,
                                           dirs[modality]), )
        else:
            candidates = LAYOUTS[modality]
        present = [f for f in (scan_layout(raw_root, layout)
                               for layout in candidates) if f is not None]
        if present:
            found[modality] = present[0]
            logger.info('%s: %s', modality, present[0].describe())
            for other in present[1:]:
                logger.info('%s: also present, not used: %s (choose it with '
                            '--%s-dir %s)', modality, other.describe(),
                            modality, other.layout.folder)
        elif modalities is not None:
            searched = ', '.join(f'{layout.folder}/' for layout in candidates)
            raise FileNotFoundError(
                f'no UWA3D II {modality} sequences under {raw_root} '
                f'(looked in {searched}); name the folder with '
                f'--{modality}-dir, or leave {modality} out of --modalities')
        else:
            logger.info('%s: not found (looked in %s)', modality, ', '.join(
                f'{layout.folder}/' for layout in candidates))
    if not found:
        raise FileNotFoundError(
            f'no UWA3D II data under {raw_root}: expected e.g. '
            f'{LAYOUTS["rgb"][0].folder}/, {LAYOUTS["depth"][0].folder}/ '
            f'or {LAYOUTS["skeleton"][0].folder}/ (see '
            'data_prep/uwa3d/build_annotations.py)')
    _resolve_episodes(found)
    return found


def _resolve_episodes(found: dict) -> None:
    """Names the depth ``.mat`` files that carry no episode after the one
    sequence of the other modalities with their action, subject and view
    (``e01`` when there is none)."""
    depth = found.get('depth')
    if depth is None or not depth.no_episode:
        return
    known = {}
    for modality, other in found.items():
        if modality != 'depth':
            for name in other.entries:
                info = parse_sequence_name(name)
                key = (info['action'], info['subject'], info['view'])
                known.setdefault(key, set()).add(name)
    assumed = []
    for key, relative in sorted(depth.no_episode.items()):
        names = sorted(known.get(key, ()))
        if len(names) > 1:
            raise ValueError(
                f'{relative} names no episode but the other modalities have '
                f'{len(names)} sequences of that action, subject and view '
                f'({", ".join(names)}): rename it to one of them')
        name = names[0] if names else sample_name(*key, 1)
        if not names:
            assumed.append(name)
        if name in depth.entries:
            raise ValueError(f'{depth.entries[name]} and {relative} are both '
                             f'the depth of sequence {name}; remove one')
        depth.entries[name] = relative
    depth.no_episode = {}
    if assumed:
        logger.info('depth: %d .mat files without a matching sequence in the '
                    'other modalities are taken as episode e01: %s',
                    len(assumed), some(assumed))


# --------------------------------------------------------------------------
# Reading one sample's files
# --------------------------------------------------------------------------
def frame_files(folder: str) -> list[str]:
    """The image files of a frame folder in frame order
    (:func:`common.natural_key`).

    Raises:
        ModalityFileError: the folder cannot be listed or mixes image types.
    """
    try:
        names = os.listdir(folder)
    except OSError as error:
        raise ModalityFileError(f'{folder}: cannot list ({error})') from None
    files = [n for n in names if not n.startswith('.')
             and n.lower().endswith(IMAGE_EXTENSIONS)]
    types = sorted({os.path.splitext(n)[1].lower() for n in files})
    if len(types) > 1:
        raise ModalityFileError(
            f'{folder}: mixes image types {types}; a sequence folder should '
            'hold one kind of frame file')
    return sorted(files, key=natural_key)


def image_format(image: np.ndarray) -> str:
    """E.g. ``'uint16 x1'``: dtype and channels of a frame."""
    channels = 1 if image.ndim == 2 else image.shape[2]
    return f'{image.dtype} x{channels}'


def read_skeleton(path: str) -> tuple[np.ndarray, str]:
    """The joints ``[T, 15, 3]`` (float32) of a UWA3D II skeleton ``.mat``,
    and how they were stored, e.g. ``'v7.3 [T,45]'``.

    Raises:
        ModalityFileError: unreadable, not ``[T, 45]`` / ``[45, T]``, empty
            or not finite; the message names the file.
    """
    array, version, variable = load_mat_array(path, 'A')
    array = np.asarray(array)
    values = 3 * NUM_JOINTS
    if array.ndim != 2 or values not in array.shape:
        raise ModalityFileError(
            f'{path}: {variable} has shape {list(array.shape)}; expected '
            f'[T, {values}] ({NUM_JOINTS} joints x, y, z per frame) or '
            f'[{values}, T]')
    if array.shape[1] == values and (array.shape[0] != values
                                     or version == 'v7.3'):
        orientation = f'[T,{values}]'
    else:
        array, orientation = array.T, f'[{values},T]'
    if not array.shape[0]:
        raise ModalityFileError(f'{path}: {variable} has no frame')
    if not np.issubdtype(array.dtype, np.number):
        raise ModalityFileError(f'{path}: {variable} is not numeric '
                                f'({array.dtype})')
    joints = array.astype(np.float32).reshape(len(array), NUM_JOINTS, 3)
    if not np.isfinite(joints).all():
        bad = np.flatnonzero(~np.isfinite(joints).all(axis=(1, 2)))
        raise ModalityFileError(
            f'{path}: {variable} has non-finite values in {len(bad)} frames '
            f'(first: {bad[:5].tolist()})')
    return joints, f'{version} {orientation}'


def depth_volume_frames(volume: np.ndarray, version: str,
                        path: str) -> np.ndarray:
    """``[T, H, W]`` uint8/uint16 frames of an ``ActionsNew`` ``curFrame``
    (MATLAB H x W x T; h5py shows a v7.3 variable as T x W x H).

    Raises:
        ModalityFileError: not 3-D, or values a 16-bit PNG cannot hold
            (negative, fractional, non-finite or above 65535).
    """
    volume = np.asarray(volume)
    if volume.ndim != 3 or not volume.size:
        raise ModalityFileError(
            f'{path}: curFrame has shape {list(volume.shape)}; expected '
            'H x W x T depth frames')
    frames = (volume.transpose(0, 2, 1) if version == 'v7.3' else
              volume.transpose(2, 0, 1))
    if frames.dtype in (np.uint8, np.uint16):
        return np.ascontiguousarray(frames)
    if not (np.issubdtype(frames.dtype, np.number)
            or frames.dtype == np.bool_):
        raise ModalityFileError(f'{path}: curFrame is {frames.dtype}')
    if not np.isfinite(frames).all() or frames.min() < 0 or \
            frames.max() > 65535 or not np.array_equal(frames,
                                                       np.round(frames)):
        raise ModalityFileError(
            f'{path}: curFrame ({frames.dtype}, values {frames.min()} .. '
            f'{frames.max()}) does not hold whole depth values 0..65535; '
            'convert it to 16-bit PNG frames yourself and pass the folder '
            'with --depth-dir')
    return frames.astype(np.uint16)


def _stored_path(raw_root: str, path: str) -> str:
    """``path`` as an annotation stores it: relative to the raw root when
    inside it, else absolute."""
    path = os.path.abspath(path)
    if os.path.commonpath([raw_root, path]) == raw_root:
        return os.path.relpath(path, raw_root).replace(os.sep, '/')
    return path


def depth_mat_to_frames(raw_root: str, relative: str, name: str,
                        out_dir: str) -> str:
    """Writes an ``ActionsNew`` depth ``.mat`` as 16-bit PNG frames
    ``000001.png ...`` to ``<out_dir>/<name>/`` (atomically, once: a
    ``.source`` stamp of the ``.mat`` lets later runs reuse the folder) and
    returns the folder as the annotation stores it."""
    source = os.path.join(raw_root, relative)
    folder = os.path.join(out_dir, name)
    stat = os.stat(source)
    stamp = f'{relative} {stat.st_size} {stat.st_mtime_ns}\n'
    stamp_file = os.path.join(folder, '.source')
    try:
        with open(stamp_file) as f:
            done = f.read() == stamp
    except OSError:
        done = False
    if not done:
        volume, version, _ = load_mat_array(source, 'curFrame')
        frames = depth_volume_frames(volume, version, source)
        import cv2
        os.makedirs(out_dir, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=out_dir, prefix=f'.tmp_{name}_')
        try:
            for index, frame in enumerate(frames, 1):
                target = os.path.join(tmp, f'{index:06d}.png')
                if not cv2.imwrite(target, frame):
                    raise OSError(f'cannot write {target}')
            with open(os.path.join(tmp, '.source'), 'w') as f:
                f.write(stamp)
            if os.path.isdir(folder):
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return _stored_path(raw_root, folder)


def _read_frames(name: str, modality: str, raw_root: str, relative: str,
                 ann: dict):
    """Lists and probes a frame folder into ``ann``; returns ``(count,
    shape, folder)``."""
    folder = os.path.join(raw_root, relative)
    try:
        files = frame_files(folder)
        count, shape = probe_frame_files(folder, files)
    except (ModalityFileError, OSError) as error:
        raise AnnotationBuildError(
            f'sample {name}: {modality} {error}') from None
    ann[f'{modality}_path'] = relative
    ann[f'{modality}_frames'] = files
    return count, shape, folder


def build_sample(name: str, raw_root: str, sources: dict, options: dict):
    """The annotation of one sample.

    Args:
        sources: ``{modality: (kind, path relative to raw_root)}`` of the
            modalities the sample has (and that were requested).
        options: ``depth_png_dir``, ``frame_tolerance``,
            ``frame_tolerance_fraction``.

    Returns:
        tuple: ``(annotation, facts)``; ``facts`` says how the files were
        stored (skeleton format, depth frame format) for the summary.

    Raises:
        AnnotationBuildError: naming the sample and the file at fault.
    """
    info = parse_sequence_name(name)
    if not 1 <= info['action'] <= NUM_CLASSES:
        raise AnnotationBuildError(
            f'sample {name}: action {info["action"]} is not a UWA3D II class '
            f'(a01..a{NUM_CLASSES})')
    if info['view'] not in VIEWS:
        raise AnnotationBuildError(
            f'sample {name}: view {info["view"]} is not one of UWA3D II\'s '
            f'views {list(VIEWS)}')
    ann = dict(frame_dir=name, label=info['action'] - 1)
    facts, counts, shapes, folders = {}, {}, {}, {}
    for modality in ('rgb', 'depth'):
        if modality not in sources:
            continue
        kind, relative = sources[modality]
        if kind == 'mat':
            try:
                relative = depth_mat_to_frames(raw_root, relative, name,
                                               options['depth_png_dir'])
            except (ModalityFileError, OSError) as error:
                raise AnnotationBuildError(
                    f'sample {name}: depth {error}') from None
        counts[modality], shapes[modality], folders[modality] = \
            _read_frames(name, modality, raw_root, relative, ann)
        if modality == 'depth':
            first = os.path.join(folders['depth'], ann['depth_frames'][0])
            facts['depth_format'] = image_format(read_image(first))

    if 'skeleton' in sources:
        path = os.path.join(raw_root, sources['skeleton'][1])
        try:
            joints, facts['skeleton_format'] = read_skeleton(path)
        except (ModalityFileError, OSError) as error:
            raise AnnotationBuildError(
                f'sample {name}: skeleton {error}') from None
        ann['keypoint_3d'] = joints[None]
        clock, total_frames = 'skeleton', len(joints)
    else:
        clock = 'depth' if 'depth' in counts else 'rgb'
        total_frames = counts[clock]

    mismatch = {}
    for modality, count in counts.items():
        pair = check_frame_count(name, modality, folders[modality], count,
                                 total_frames, clock,
                                 options['frame_tolerance'],
                                 options['frame_tolerance_fraction'])
        if pair is not None:
            mismatch[modality] = pair
    image_shape = tuple(shapes.get('rgb', shapes.get('depth', UWA3D_SHAPE)))
    ann.update(total_frames=total_frames, img_shape=image_shape,
               original_shape=image_shape, num_frames=counts,
               modality_shapes=shapes)
    if mismatch:
        ann['frame_mismatch'] = mismatch
    return ann, facts


def _sample_stamp(name, raw_root, sources, options):
    """The cache stamp: options and the sample's input files."""
    paths = [relative for _, relative in sources.values()]
    if sources.get('depth', ('',))[0] == 'mat':
        paths.append(os.path.join(options['depth_png_dir'], name))
    return (sorted(options.items()), sorted(sources.items()),
            file_stamp(raw_root, paths))


# --------------------------------------------------------------------------
# The whole dataset
# --------------------------------------------------------------------------
def make_splits(names) -> dict:
    """The cross-view splits of every view pair and the per-view lists."""
    views = {name: parse_sequence_name(name)['view'] for name in names}
    splits = {}
    for pair in VIEW_PAIRS:
        tag = ''.join(map(str, pair))
        splits[f'xview{tag}_train'] = [n for n in names if views[n] in pair]
        splits[f'xview{tag}_val'] = [n for n in names
                                     if views[n] not in pair]
    for view in VIEWS:
        splits[f'view{view}'] = [n for n in names if views[n] == view]
    return splits


#: Why samples are left out: summary key -> how the log says it.
LEFT_OUT_REASONS = {
    'lacking_modality': 'lack a requested modality (keep them with '
                        '--keep-incomplete)',
    'actionmae_list': "are on ActionMAE's R+D exclusion list although this "
                      'copy has both RGB and depth',
    'bad': 'are bad (--skip-bad)',
}


def _count(values) -> dict:
    counts = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def _log_summary(summary, incomplete, left_out, skipped, mismatched):
    lacking = ', '.join(f'{m} {n}' for m, n in summary['lacking'].items()
                        if n)
    logger.info('%d samples found, %d kept%s', summary['found'],
                summary['kept'],
                f'; samples lacking a modality: {lacking}' if lacking else '')
    if incomplete:
        logger.warning(
            "%d samples lack a requested modality (all in meta['summary']"
            "['incomplete']): %s", len(incomplete), some(
                (f'{name} (no {"/".join(lack)})'
                 for name, lack in incomplete.items()), 50))
    for reason, text in LEFT_OUT_REASONS.items():
        names = [n for n, r in left_out.items() if r == reason]
        if names and reason != 'bad':
            logger.warning('left out %d samples that %s: %s', len(names),
                           text, some(names, 20))
    if summary['kept_incomplete']:
        logger.info('kept %d samples lacking a requested modality '
                    '(--keep-incomplete): train them with the dataset\'s '
                    'missing_modality', summary['kept_incomplete'])
    if mismatched:
        logger.info('%d samples have a modality whose frame count differs '
                    'from total_frames within the tolerance (recorded in '
                    "their 'frame_mismatch'): %s", len(mismatched),
                    some(mismatched))
    for key in ('skeleton_format', 'depth_format'):
        if summary[key]:
            logger.info('%s: %s', key.replace('_', ' '), ', '.join(
                f'{what} ({n})' for what, n in summary[key].items()))
    if skipped:
        logger.warning('skipped %d bad samples (--skip-bad)', len(skipped))


def build_annotations(raw_root, out_file, modalities=None,
                      keep_incomplete: bool = False,
                      rgb_dir: str | None = None,
                      depth_dir: str | None = None,
                      skeleton_dir: str | None = None,
                      depth_png_dir=None,
                      num_workers: int | None = None, cache_dir=None,
                      skip_bad: bool = False,
                      frame_tolerance: int = FRAME_TOLERANCE,
                      frame_tolerance_fraction: float =
                      FRAME_TOLERANCE_FRACTION) -> dict:
    """Converts a UWA3D II download into one annotation pkl (see the
    module docstring).

    Args:
        raw_root: the folder holding the download.
        out_file: the pkl to write (atomically).
        modalities: of ``'rgb'``, ``'depth'``, ``'skeleton'``; None = every
            one whose layout is found.
        keep_incomplete: keep samples lacking a requested modality, without
            that modality's keys.
        rgb_dir, depth_dir, skeleton_dir: a modality's folder, relative to
            ``raw_root``, instead of the detected one.
        depth_png_dir: where ``ActionsNew`` depth ``.mat`` files are
            converted to PNG frames (default ``<raw_root>/<folder>_png``).
        num_workers, cache_dir, skip_bad: see :func:`common.build_all`.
        frame_tolerance, frame_tolerance_fraction: how far a modality's
            frame count may be from ``total_frames``.

    Returns:
        The dict written to ``out_file``.

    Raises:
        AnnotationBuildError: (without ``skip_bad``) a bad sample, naming it
            and its file.
        FileNotFoundError: no UWA3D II data, or a requested modality is not
            found.
    """
    if frame_tolerance < 0 or not 0 <= frame_tolerance_fraction < 1:
        raise ValueError(
            f'frame_tolerance must be >= 0 and frame_tolerance_fraction in '
            f'[0, 1), got {frame_tolerance} and {frame_tolerance_fraction}')
    raw_root = os.path.abspath(os.fspath(raw_root))
    if not os.path.isdir(raw_root):
        raise FileNotFoundError(f'no folder {raw_root}')
    found = detect_layouts(raw_root, modalities, dict(
        rgb=rgb_dir, depth=depth_dir, skeleton=skeleton_dir))
    modalities = tuple(found)
    depth_layout = found['depth'].layout if 'depth' in found else None
    if depth_png_dir is None:
        depth_png_dir = os.path.join(
            raw_root, (depth_layout.folder if depth_layout else 'depth') +
            '_png')
    options = dict(depth_png_dir=os.path.abspath(os.fspath(depth_png_dir)),
                   frame_tolerance=frame_tolerance,
                   frame_tolerance_fraction=frame_tolerance_fraction)
    if depth_layout is not None and depth_layout.kind == 'mat':
        logger.info('depth .mat files are converted to PNG frames under %s',
                    options['depth_png_dir'])

    names = sorted(set().union(*(f.entries for f in found.values())))
    logger.info('%s: %d samples under %s (modalities: %s)', DATASET,
                len(names), raw_root, ', '.join(modalities))
    incomplete = {}
    for name in names:
        lack = [m for m in modalities if name not in found[m].entries]
        if lack:
            incomplete[name] = lack
    left_out = {}
    if not keep_incomplete:
        left_out.update((name, 'lacking_modality') for name in incomplete)
    if {'rgb', 'depth'} <= set(modalities):
        _apply_actionmae_list(names, incomplete, left_out)

    items = []
    for name in names:
        if name in left_out:
            continue
        sources = {m: (found[m].layout.kind, found[m].entries[name])
                   for m in modalities if name in found[m].entries}
        items.append((name, (name, raw_root, sources, options)))
    results, skipped = build_all(items, build_sample, _sample_stamp,
                                 cache_dir, num_workers, skip_bad)
    left_out.update((name, 'bad') for name in skipped)

    annotations = [ann for ann, _ in results.values()]
    facts = [f for _, f in results.values()]
    mismatched = [a['frame_dir'] for a in annotations
                  if 'frame_mismatch' in a]
    summary = dict(
        found=len(names), kept=len(annotations),
        lacking={m: sum(m in lack for lack in incomplete.values())
                 for m in modalities},
        incomplete=incomplete,
        left_out={reason: sum(r == reason for r in left_out.values())
                  for reason in LEFT_OUT_REASONS},
        kept_incomplete=sum(a['frame_dir'] in incomplete
                            for a in annotations),
        frame_mismatch=dict(within_tolerance=len(mismatched)),
        skeleton_format=_count(f['skeleton_format'] for f in facts
                               if 'skeleton_format' in f),
        depth_format=_count(f['depth_format'] for f in facts
                            if 'depth_format' in f))
    _log_summary(summary, incomplete, left_out, skipped, mismatched)

    kept = [ann['frame_dir'] for ann in annotations]
    layouts = {m: dict(folder=f.layout.folder, kind=f.layout.kind,
                       name_orders=dict(f.orders))
               for m, f in found.items()}
    if depth_layout is not None and depth_layout.kind == 'mat':
        layouts['depth']['png_dir'] = options['depth_png_dir']
    meta = dict(
        dataset=DATASET, raw_root=raw_root, modalities=list(modalities),
        layouts=layouts, keypoint_source=None,
        keypoint_layouts=({'keypoint_3d': SKELETON_LAYOUT}
                          if 'skeleton' in modalities else {}),
        class_names=list(CLASS_NAMES), summary=summary, skipped=skipped)
    return write_annotations(out_file, make_splits(kept), annotations, meta)


def _apply_actionmae_list(names, incomplete, left_out) -> None:
    """ActionMAE's R+D protocol leaves its five sequences out: say where
    each stands in this copy, and leave out those this copy has whole."""
    present = set(names)
    status = []
    for name in ACTIONMAE_EXCLUDED:
        if name not in present:
            status.append(f'{name} not in this copy')
        elif name in incomplete:
            kept = name not in left_out
            status.append(f'{name} lacks {"/".join(incomplete[name])}'
                          + (' (kept: --keep-incomplete)' if kept else ''))
        else:
            left_out[name] = 'actionmae_list'
            status.append(f'{name} has RGB and depth here, left out as in '
                          'ActionMAE')
    logger.info("ActionMAE's R+D protocol leaves out %d sequences: %s",
                len(ACTIONMAE_EXCLUDED), '; '.join(status))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Build the annotation pkl of UWA3D Multiview Activity '
        'II (docs/data_format.md) from its download; the layout is detected '
        'and logged.')
    parser.add_argument('--raw-root', required=True,
                        help='folder holding the download (UWA3DII_RGB/, '
                        'UWA3DII_Depth_ROI/ or UWA3DII_Depth/, '
                        'ActionsSkeleton/, ...)')
    parser.add_argument('--out', dest='out_file', metavar='PKL',
                        required=True, help='output .pkl')
    parser.add_argument('--modalities', nargs='+', choices=MODALITIES,
                        default=None,
                        help='default: every modality that is found')
    parser.add_argument('--keep-incomplete', action='store_true',
                        help='keep samples lacking a requested modality, '
                        "without that modality's keys (default: left out "
                        'and listed)')
    for modality in MODALITIES:
        parser.add_argument(f'--{modality}-dir', default=None,
                            metavar='FOLDER',
                            help=f'the {modality} folder relative to '
                            '--raw-root, instead of the detected one')
    parser.add_argument('--depth-png-dir', default=None,
                        help='where depth .mat files (ActionsNew) are '
                        'converted to PNG frames (default: '
                        '<raw-root>/<their folder>_png)')
    add_common_arguments(parser)
    add_frame_tolerance_arguments(
        parser, 'total_frames (skeleton, else depth, else RGB)')
    return parser.parse_args(argv)


def main(argv=None):
    return run_cli(build_annotations, parse_args(argv))


if __name__ == '__main__':
    sys.exit(main())
