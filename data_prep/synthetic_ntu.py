"""A small synthetic multi-modal action dataset in NTU RGB+D's raw layout.

Writes, for every sample ``SsssCcccPpppRrrrAaaa``::

    <root>/nturgb+d_rgb/<name>_rgb.avi         MJPG colour video
    <root>/nturgb+d_depth_masked/<name>/MDepth-00000001.png ...
                                               16-bit mm, 0 = background
    <root>/nturgb+d_ir/<name>_ir.avi           MJPG infrared video (gray x 3)
    <root>/nturgb+d_skeletons/<name>.skeleton  Kinect v2 skeleton text
    <root>/synthetic_classes.txt               class names, one a line

so that the NTU converters and configs run on it unchanged. An articulated
stick person (25 Kinect joints, bone lengths and clothes per performer) acts
out one of :data:`CLASSES` in a textured room and is filmed by three cameras
at NTU's angles (C001 in front, C002 at +45 degrees, C003 at -45 degrees).
The skeleton files use NTU's coordinate spaces whatever the video sizes:
camera-space metres, ``depthX/Y`` in 512x424 and ``colorX/Y`` in 1920x1080
pixels. See :mod:`data_prep.synthetic.actions` for how the classes make the
modalities complementary (depth-only, appearance-only, motion and two-person
classes).

Each sample is a pure function of ``(seed, sample name, frames, sizes)``:
the three cameras of one performance (same S, P, R, A) show the same motion.
Files are written to temporary names and renamed, and samples whose four
outputs exist are skipped, so an interrupted run resumes.

Command line::

    python -m data_prep.synthetic_ntu --out data/synthetic_ntu/raw \\
        [--num-classes 12] [--clips-per-class 24] [--scale 1] [--seed 0] \\
        [--workers 2]
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import math
import multiprocessing
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from data_prep.ntu.constants import missing_skeleton_samples
from data_prep.ntu.skeleton import (SkeletonBody, SkeletonSequence,
                                    write_skeleton)
from data_prep.synthetic import body as B
from data_prep.synthetic import render as R
from data_prep.synthetic.actions import ACTION_CLASSES, CLASSES, perform

__all__ = ['CLASSES', 'Clip', 'generate', 'main', 'plan_samples',
           'sample_paths', 'scaled_settings', 'write_sample']

FPS = 30
NUM_SETUPS = 2
NUM_CAMERAS = 3
NUM_REPLICATIONS = 2
DEFAULT_RGB_SIZE = (480, 270)
DEFAULT_DEPTH_SIZE = (256, 212)
DEFAULT_FRAMES = (48, 72)
CLASSES_FILE = 'synthetic_classes.txt'
MODALITIES = ('skeleton', 'depth', 'rgb', 'ir')

_NAME = re.compile(r'^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})$')


# --------------------------------------------------------------------------
# Which samples exist
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class SampleSpec:
    """The five numbers of an NTU sample name."""
    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    @property
    def name(self) -> str:
        return (f'S{self.setup:03d}C{self.camera:03d}P{self.performer:03d}'
                f'R{self.replication:03d}A{self.action:03d}')

    @property
    def performance(self) -> str:
        """The name without the camera: shared by the three views."""
        return (f'S{self.setup:03d}P{self.performer:03d}'
                f'R{self.replication:03d}A{self.action:03d}')

    @classmethod
    def parse(cls, name: str) -> 'SampleSpec':
        match = _NAME.match(name)
        if not match:
            raise ValueError(f'not an NTU sample name: {name!r}')
        return cls(*map(int, match.groups()))


def plan_samples(num_classes: int = 12, clips_per_class: int = 24):
    """The samples of a dataset, class by class.

    Clip ``i`` of a class is camera ``i % 3 + 1`` of performance ``i // 3``.
    Every performance of a class has its own performer: a class walks
    through consecutive performers (P001..P016 by default, starting at a
    class-dependent offset), so each class sees NTU cross-subject training
    subjects (1, 2, 4, 5, 8, 9, 13-16) and test subjects (3, 6, 7, 10-12),
    and a model sees many people's clothing and build -- with few people per
    class, an RGB model memorises clothes instead of actions. Replications
    R001/R002 alternate, the two setups alternate (S002 is a cross-setup
    training setup, S001 a test one), and more performers join when a class
    needs more performances. Names on NTU's official missing-skeleton list,
    which the converters leave out, are avoided by moving that performance
    to the next performer.
    """
    if not 1 <= num_classes <= len(ACTION_CLASSES):
        raise ValueError(f'num_classes must be in [1, {len(ACTION_CLASSES)}]')
    if clips_per_class < 1:
        raise ValueError('clips_per_class must be positive')
    avoid = missing_skeleton_samples('ntu120')
    performances = math.ceil(clips_per_class / NUM_CAMERAS)
    num_performers = max(16, math.ceil(performances / NUM_SETUPS))
    specs = []
    for action in range(1, num_classes + 1):
        taken = set()
        for k in range(performances):
            lap, j = divmod(k, num_performers)   # lap: the other setup
            replication = (k + lap) % NUM_REPLICATIONS
            performer = 1 + (j + 5 * (action - 1)) % num_performers
            setup = 1 + (j + action - 1 + lap) % NUM_SETUPS
            views = [SampleSpec(setup, camera, performer, replication + 1,
                                action) for camera in (1, 2, 3)]
            while (views[0].performance in taken
                   or any(v.name in avoid for v in views)):
                views = [replace(v, performer=v.performer + 1)
                         for v in views]
            taken.add(views[0].performance)
            specs += views[:clips_per_class - NUM_CAMERAS * k]
    return specs


def sample_paths(out_root, name: str) -> dict:
    """Where each modality of a sample lives under ``out_root``."""
    root = Path(out_root)
    return dict(rgb=root / 'nturgb+d_rgb' / f'{name}_rgb.avi',
                depth=root / 'nturgb+d_depth_masked' / name,
                ir=root / 'nturgb+d_ir' / f'{name}_ir.avi',
                skeleton=root / 'nturgb+d_skeletons' / f'{name}.skeleton')


def derive_rng(seed: int, *keys) -> np.random.Generator:
    """A generator seeded from ``seed`` and text keys (stable everywhere)."""
    text = '/'.join([str(seed)] + [str(k) for k in keys])
    digest = hashlib.sha256(text.encode()).digest()
    return np.random.default_rng(np.frombuffer(digest, dtype='<u4'))


# --------------------------------------------------------------------------
# One clip
# --------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _performance(seed, performance: str, frames: tuple):
    """Motion and people's looks of a performance (``SsssPpppRrrrAaaa``).

    The three cameras of a performance share it; cached because a worker
    usually renders them one after the other.
    """
    spec = SampleSpec.parse(performance[:4] + 'C001' + performance[4:])
    layout = R.setup_layout(seed, spec.setup)
    performer = f'P{spec.performer:03d}'
    partner = f'{performance}/partner'
    shapes = [B.sample_body_shape(derive_rng(seed, who, 'body'))
              for who in (performer, partner)]
    looks = [R.sample_appearance(derive_rng(seed, who, 'look'))
             for who in (performer, partner)]
    rng = derive_rng(seed, performance)
    num_frames = int(rng.integers(frames[0], frames[1] + 1))
    motion = perform(spec.action, shapes, rng, num_frames,
                     front_camera=(layout.camera_height, layout.distance))
    return motion, looks


class Clip:
    """Everything about one sample: motion, camera, scene and its frames.

    Args:
        name: the sample name ``SsssCcccPpppRrrrAaaa``.
        seed: dataset seed.
        frames: inclusive range of clip lengths.
        rgb_size, depth_size: ``(width, height)`` of the RGB and the
            depth/IR frames.
    """

    def __init__(self, name, seed=0, frames=DEFAULT_FRAMES,
                 rgb_size=DEFAULT_RGB_SIZE, depth_size=DEFAULT_DEPTH_SIZE):
        self.spec = spec = SampleSpec.parse(name)
        if not 1 <= spec.action <= len(ACTION_CLASSES):
            raise ValueError(f'{name}: no synthetic class A{spec.action:03d}')
        if spec.camera not in R.CAMERA_AZIMUTH:
            raise ValueError(f'{name}: cameras are C001-C003')
        self.name, self.seed = name, seed
        self.rgb_size, self.depth_size = tuple(rgb_size), tuple(depth_size)
        self.rgb_intrinsics = R.scaled_intrinsics(
            R.COLOR_INTRINSICS, R.COLOR_SIZE, self.rgb_size)
        self.depth_intrinsics = R.scaled_intrinsics(
            R.DEPTH_INTRINSICS, R.DEPTH_SIZE, self.depth_size)
        self.layout = R.setup_layout(seed, spec.setup)

        # the performance: shared by the three cameras
        self.performance, looks = _performance(seed, spec.performance,
                                               tuple(frames))
        self.num_frames = self.performance.joints.shape[1]

        # this camera
        self.camera = R.place_camera(self.layout, spec.camera,
                                     derive_rng(seed, name, 'camera'))
        self.scene = R.Scene(self.performance, self.camera, looks)
        self.room = R.Room(self.layout.room_seed)

    # ---- skeleton ---------------------------------------------------------
    def skeleton(self) -> SkeletonSequence:
        """The ``.skeleton`` contents: Kinect-like noisy joints per body."""
        rng = derive_rng(self.seed, self.name, 'skeleton')
        joints = self.scene.joints + rng.normal(0, 0.004,
                                                self.scene.joints.shape)
        depth_xy = R.project(joints, R.DEPTH_INTRINSICS)
        color_xy = R.project(joints, R.COLOR_INTRINSICS)
        quats = B.matrix_to_quaternion(self.scene.orientations)
        quats[:, :, list(B.LEAF_JOINTS)] = 0
        values = np.concatenate([joints, depth_xy, color_xy, quats], -1)
        T = self.num_frames
        bodies = []
        ids = rng.choice(100000, size=len(values), replace=False)
        for m, body_values in enumerate(values):
            info = np.zeros((T, 9), np.float32)
            info[:, 1:5] = 1                      # hands: confident, open
            info[:, 6:8] = self.performance.lean[m]
            info[:, 8] = 2                        # tracked
            bodies.append(SkeletonBody(
                body_id=str(72057594037900000 + int(ids[m])),
                frame_index=np.arange(T, dtype=np.int64),
                body_info=info, joints=body_values.astype(np.float32),
                tracking=np.full((T, B.NUM_JOINTS), 2, np.int8)))
        return SkeletonSequence(num_frames=T, bodies=bodies)

    # ---- frames -------------------------------------------------------------
    def rgb_gain(self) -> float:
        """Brightness of this clip's lighting."""
        rng = derive_rng(self.seed, self.name, 'light')
        return float(rng.uniform(0.85, 1.1))

    def rgb_background(self) -> np.ndarray:
        """The empty room in RGB (float BGR ``[H, W, 3]``, before noise)."""
        background, _ = self.room.render(self.camera, self.rgb_intrinsics,
                                         self.rgb_size)
        return background * self.rgb_gain()

    def rgb_frames(self):
        """Yields the RGB frames (uint8 BGR ``[H, W, 3]``)."""
        rng = derive_rng(self.seed, self.name, 'rgb')
        background = self.rgb_background()
        gain = self.rgb_gain()
        w, h = self.rgb_size
        grain = rng.normal(0, 2.0, (h + 16, w + 16, 3)).astype(np.float32)
        for t in range(self.num_frames):
            zb = self.scene.rasterize(t, self.rgb_intrinsics, self.rgb_size,
                                      with_props=True)
            dy, dx = rng.integers(0, 17, 2)
            yield R.compose_rgb(zb, self.scene.palette, background,
                                grain[dy:dy + h, dx:dx + w], gain)

    def depth_ir_frames(self):
        """Yields ``(depth uint16 [H, W], ir uint8 [H, W])`` per frame."""
        rng = derive_rng(self.seed, self.name, 'depth_ir')
        _, background = self.room.render(self.camera, self.depth_intrinsics,
                                         self.depth_size)
        w, h = self.depth_size
        depth_noise = rng.normal(0, 2.0, (h + 16, w + 16)).astype(np.float32)
        ir_grain = rng.normal(0, 3.0, (h + 16, w + 16)).astype(np.float32)
        scene = self.scene
        albedo = np.zeros(len(scene.palette), np.float32)
        for m, value in enumerate(scene.ir_albedo):
            albedo[m * len(R.ROLES):(m + 1) * len(R.ROLES)] = value
        for t in range(self.num_frames):
            zb = scene.rasterize(t, self.depth_intrinsics, self.depth_size,
                                 with_props=False)
            dy, dx = rng.integers(0, 17, 2)
            ey, ex = rng.integers(0, 17, 2)
            depth = R.compose_depth(zb, scene.num_body_labels,
                                    depth_noise[dy:dy + h, dx:dx + w])
            ir = R.compose_ir(zb, background, albedo,
                              ir_grain[ey:ey + h, ex:ex + w])
            yield depth, ir


# --------------------------------------------------------------------------
# Writing one sample
# --------------------------------------------------------------------------
def _temp_name(path: Path) -> Path:
    """A hidden temporary path next to ``path`` (keeps the extension)."""
    return path.with_name(f'.tmp-{os.getpid()}-{path.name}')


def _remove_stale_temps(paths: dict):
    """Deletes temporaries an interrupted run left for this sample."""
    for path in paths.values():
        if not path.parent.is_dir():
            continue
        for stale in path.parent.glob(f'.tmp-*-{path.name}*'):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)


def _video_writer(path: Path, size):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'),
                             FPS, tuple(size), True)
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write MJPG video {path}')
    return writer


def write_sample(out_root, name, seed=0, frames=DEFAULT_FRAMES,
                 rgb_size=DEFAULT_RGB_SIZE, depth_size=DEFAULT_DEPTH_SIZE):
    """Writes the missing modalities of one sample.

    Returns:
        list: the modalities written (empty when the sample was complete).
    """
    paths = sample_paths(out_root, name)
    missing = [m for m in MODALITIES if not paths[m].exists()]
    if not missing:
        return []
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(paths)
    clip = Clip(name, seed, frames, rgb_size, depth_size)
    temps = {m: _temp_name(paths[m]) for m in missing}
    try:
        if 'skeleton' in missing:
            write_skeleton(temps['skeleton'], clip.skeleton())
        if 'rgb' in missing:
            writer = _video_writer(temps['rgb'], clip.rgb_size)
            for frame in clip.rgb_frames():
                writer.write(frame)
            writer.release()
        if 'depth' in missing or 'ir' in missing:
            if 'depth' in missing:
                temps['depth'].mkdir()
            if 'ir' in missing:
                ir_writer = _video_writer(temps['ir'], clip.depth_size)
            for t, (depth, ir) in enumerate(clip.depth_ir_frames()):
                if 'depth' in missing:
                    png = temps['depth'] / f'MDepth-{t + 1:08d}.png'
                    if not cv2.imwrite(str(png), depth):
                        raise RuntimeError(f'cannot write {png}')
                if 'ir' in missing:
                    ir_writer.write(cv2.cvtColor(ir, cv2.COLOR_GRAY2BGR))
            if 'ir' in missing:
                ir_writer.release()
        for m in missing:
            os.replace(temps[m], paths[m])
    finally:
        _remove_stale_temps({m: paths[m] for m in missing})
    return missing


def _write_job(job):
    out_root, name, settings = job
    return name, write_sample(out_root, name, **settings)


def _init_worker():
    cv2.setNumThreads(1)


def _write_text_atomically(path: Path, text: str):
    """Writes ``text`` unless the file already holds it (keeps mtimes)."""
    if path.is_file() and path.read_text() == text:
        return
    temp = _temp_name(path)
    temp.write_text(text)
    os.replace(temp, path)


# --------------------------------------------------------------------------
# The dataset
# --------------------------------------------------------------------------
def generate(out_root, num_classes: int = 12, clips_per_class: int = 24,
             frames=DEFAULT_FRAMES, rgb_size=DEFAULT_RGB_SIZE,
             depth_size=DEFAULT_DEPTH_SIZE, seed: int = 0,
             num_workers: int = 2, progress: bool = True) -> list:
    """Generates (or completes) the synthetic dataset under ``out_root``.

    Args:
        out_root: the raw root; the four NTU folders are created in it.
        num_classes: the first ``num_classes`` of :data:`CLASSES` (<= 16).
        clips_per_class: clips per class (3 cameras per performance).
        frames: ``(min, max)`` frames per clip (30 fps).
        rgb_size: ``(width, height)`` of the RGB videos.
        depth_size: ``(width, height)`` of the depth frames and IR videos.
        seed: everything is a function of the seed and the sample name.
        num_workers: processes (<= 1: in this process).
        progress: print progress to stderr.

    Returns:
        list: the sample names, sorted.
    """
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    _write_text_atomically(out_root / CLASSES_FILE,
                           '\n'.join(CLASSES[:num_classes]) + '\n')
    specs = plan_samples(num_classes, clips_per_class)
    names = sorted(spec.name for spec in specs)
    settings = dict(seed=seed, frames=tuple(frames), rgb_size=tuple(rgb_size),
                    depth_size=tuple(depth_size))
    # the cameras of a performance one after the other, in one worker's chunk
    specs.sort(key=lambda spec: (spec.performance, spec.camera))
    jobs = [(str(out_root), spec.name, settings) for spec in specs]
    start, written, done = time.time(), 0, 0
    interactive = sys.stderr.isatty()

    def report(final=False):
        # a live line on a terminal, otherwise a line every 10%
        tenth = done * 10 // len(jobs) != (done - 1) * 10 // len(jobs)
        if not progress or (final and tenth and not interactive) or not (
                final or interactive or tenth):
            return
        print(f'synthetic_ntu: {done}/{len(jobs)} clips '
              f'({written} written, {done - written} already complete) '
              f'{time.time() - start:.0f}s',
              end='\r' if interactive and not final else '\n',
              file=sys.stderr, flush=True)

    if num_workers <= 1:
        _init_worker()
        results = map(_write_job, jobs)
        pool = None
    else:
        pool = multiprocessing.Pool(num_workers, initializer=_init_worker)
        results = pool.imap_unordered(_write_job, jobs,
                                      chunksize=NUM_CAMERAS)
    try:
        for _, modalities in results:
            done += 1
            written += bool(modalities)
            report()
    finally:
        if pool is not None:
            # all results are in (or we are being interrupted): stop workers
            pool.terminate()
            pool.join()
    report(final=True)
    return names


def scaled_settings(scale: float, clips_per_class: int = 24,
                    rgb_size=DEFAULT_RGB_SIZE, depth_size=DEFAULT_DEPTH_SIZE):
    """Clip count and frame sizes multiplied by ``scale``.

    Sizes stop at NTU's own (1920x1080 RGB, 512x424 depth/IR) and stay even.
    """
    def size(wh, cap):
        factor = min(scale, cap[0] / wh[0], cap[1] / wh[1])
        return tuple(max(16, 2 * round(v * factor / 2)) for v in wh)

    return dict(clips_per_class=max(1, round(clips_per_class * scale)),
                rgb_size=size(rgb_size, R.COLOR_SIZE),
                depth_size=size(depth_size, R.DEPTH_SIZE))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m data_prep.synthetic_ntu',
        description='Generate the synthetic multi-modal action dataset in '
                    'NTU RGB+D raw layout.')
    parser.add_argument('--out', default='data/synthetic_ntu/raw',
                        help='raw root to write (default: %(default)s)')
    parser.add_argument('--num-classes', type=int, default=12,
                        help=f'first N of the {len(CLASSES)} classes '
                             '(default: %(default)s)')
    parser.add_argument('--clips-per-class', type=int, default=24,
                        help='clips per class before scaling '
                             '(default: %(default)s)')
    parser.add_argument('--frames', type=int, nargs=2, default=DEFAULT_FRAMES,
                        metavar=('MIN', 'MAX'),
                        help='frames per clip (default: 48 72)')
    parser.add_argument('--scale', type=float, default=1.0,
                        help='multiply clip count and frame sizes (sizes '
                             'stop at NTU\'s 1920x1080 / 512x424)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--workers', type=int, default=2,
                        help='processes (default: %(default)s)')
    parser.add_argument('--quiet', action='store_true')
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error('--scale must be positive')
    if not 1 <= args.frames[0] <= args.frames[1]:
        parser.error('--frames needs 1 <= MIN <= MAX')
    settings = scaled_settings(args.scale, args.clips_per_class)
    start = time.time()
    names = generate(args.out, num_classes=args.num_classes,
                     frames=args.frames, seed=args.seed,
                     num_workers=args.workers, progress=not args.quiet,
                     **settings)
    if not args.quiet:
        print(f'{len(names)} samples of {args.num_classes} classes in '
              f'{args.out} ({time.time() - start:.1f}s); class names in '
              f'{Path(args.out) / CLASSES_FILE}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
