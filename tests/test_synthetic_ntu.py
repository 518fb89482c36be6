"""Tests of data_prep.synthetic_ntu: layout, formats, determinism, resume,
and the depth-only / appearance-only class pairs."""
import os
import re

import cv2
import numpy as np
import pytest

from data_prep.ntu.constants import missing_skeleton_samples
from data_prep.ntu.skeleton import read_skeleton
from data_prep.synthetic import body as B
from data_prep.synthetic import render as R
from data_prep.synthetic.actions import ACTION_CLASSES, perform
from data_prep.synthetic_ntu import (CLASSES, Clip, generate, main,
                                     plan_samples, sample_paths,
                                     scaled_settings, write_sample)

NAME = re.compile(r'^S\d{3}C00[123]P\d{3}R00[12]A\d{3}$')
TINY = dict(num_classes=3, clips_per_class=2, frames=(12, 16),
            rgb_size=(160, 90), depth_size=(128, 106), seed=0)
FOLDERS = ('nturgb+d_rgb', 'nturgb+d_depth_masked', 'nturgb+d_ir',
           'nturgb+d_skeletons')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A 3-class x 2-clip dataset with short, small clips."""
    root = tmp_path_factory.mktemp('synthetic')
    names = generate(root, num_workers=2, progress=False, **TINY)
    return root, names


def _clip(name):
    return Clip(name, TINY['seed'], TINY['frames'], TINY['rgb_size'],
                TINY['depth_size'])


def _read_video(path):
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


# --------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------
def test_layout_and_names(tiny):
    root, names = tiny
    assert len(names) == 6 == len(set(names))
    assert names == sorted(names)
    assert all(NAME.match(n) for n in names)
    assert {int(n[-3:]) for n in names} == {1, 2, 3}
    assert (root / 'synthetic_classes.txt').read_text().splitlines() == \
        CLASSES[:3]
    for folder in FOLDERS:
        assert (root / folder).is_dir()
    for name in names:
        paths = sample_paths(root, name)
        assert paths['rgb'] == root / 'nturgb+d_rgb' / f'{name}_rgb.avi'
        assert paths['ir'] == root / 'nturgb+d_ir' / f'{name}_ir.avi'
        assert paths['skeleton'].name == f'{name}.skeleton'
        assert all(p.exists() for p in paths.values()), name
    leftovers = [p for p in root.rglob('*') if p.name.startswith('.tmp')]
    assert leftovers == []


def test_default_plan_covers_the_protocols():
    specs = plan_samples(12, 24)
    names = [s.name for s in specs]
    assert len(names) == 288 == len(set(names))
    assert {s.camera for s in specs} == {1, 2, 3}
    assert {s.replication for s in specs} == {1, 2}
    assert {s.setup for s in specs} == {1, 2}
    ntu_xsub_train = {1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27,
                      28, 31, 34, 35, 38}
    for action in range(1, 13):
        performers = {s.performer for s in specs if s.action == action}
        assert performers & ntu_xsub_train, action
        assert performers - ntu_xsub_train, action
        views = {(s.setup, s.performer, s.replication, s.camera)
                 for s in specs if s.action == action}
        assert len(views) == 24
    assert len(CLASSES) == len(ACTION_CLASSES) >= 12


@pytest.mark.parametrize('num_classes, clips', [(16, 7), (12, 200), (2, 1),
                                                (16, 96)])
def test_plan_has_unique_names(num_classes, clips):
    names = [s.name for s in plan_samples(num_classes, clips)]
    assert len(names) == num_classes * clips == len(set(names))
    # the converters leave out NTU's missing-skeleton samples
    assert not set(names) & missing_skeleton_samples('ntu120')


# --------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------
def test_videos_decode(tiny):
    root, names = tiny
    for name in names[:2]:
        num_frames = read_skeleton(sample_paths(root, name)['skeleton']
                                   ).num_frames
        assert TINY['frames'][0] <= num_frames <= TINY['frames'][1]
        rgb = _read_video(sample_paths(root, name)['rgb'])
        assert len(rgb) == num_frames
        assert rgb[0].shape == (90, 160, 3)
        ir = _read_video(sample_paths(root, name)['ir'])
        assert len(ir) == num_frames
        assert ir[0].shape == (106, 128, 3)
        spread = ir[0].astype(int).max(-1) - ir[0].astype(int).min(-1)
        assert spread.max() <= 3          # gray written as 3 equal channels
        # the fourcc is MJPG
        cap = cv2.VideoCapture(str(sample_paths(root, name)['rgb']))
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
        cap.release()
        assert fourcc.to_bytes(4, 'little') == b'MJPG'


def test_depth_frames(tiny):
    root, names = tiny
    name = names[0]
    folder = sample_paths(root, name)['depth']
    num_frames = read_skeleton(sample_paths(root, name)['skeleton']).num_frames
    files = sorted(os.listdir(folder))
    assert files == [f'MDepth-{i:08d}.png' for i in range(1, num_frames + 1)]
    depth = cv2.imread(str(folder / files[num_frames // 2]),
                       cv2.IMREAD_UNCHANGED)
    assert depth.dtype == np.uint16 and depth.shape == (106, 128)
    person = depth[depth > 0]
    assert 0.02 * depth.size < len(person) < 0.4 * depth.size
    assert (depth == 0).mean() > 0.5          # masked: background is 0
    assert 1500 < person.min() and person.max() < 6000   # millimetres


def test_skeleton_matches_the_video(tiny):
    root, names = tiny
    for name in names:
        seq = read_skeleton(sample_paths(root, name)['skeleton'])
        assert len(seq.bodies) == 1                  # classes 1-3: one person
        body = seq.bodies[0]
        assert (body.tracking == 2).all()
        assert np.array_equal(body.frame_index, np.arange(seq.num_frames))
        x, y, z = body.joints[..., 0], body.joints[..., 1], body.joints[..., 2]
        assert 1.5 < z.min() and z.max() < 4.5
        # NTU coordinate spaces regardless of the video sizes
        fx, fy, cx, cy = R.COLOR_INTRINSICS
        assert np.allclose(body.joints[..., 5], cx + fx * x / z, atol=0.1)
        assert np.allclose(body.joints[..., 6], cy - fy * y / z, atol=0.1)
        fx, fy, cx, cy = R.DEPTH_INTRINSICS
        assert np.allclose(body.joints[..., 3], cx + fx * x / z, atol=0.1)
        quat = body.joints[..., 7:11]
        norms = np.linalg.norm(quat, axis=-1)
        assert np.allclose(norms[:, B.SPINE_BASE], 1, atol=1e-3)
        assert np.allclose(norms[:, list(B.LEAF_JOINTS)], 0)

        # the head lands on the person in the RGB video and the depth frames
        frames = _read_video(sample_paths(root, name)['rgb'])
        background = _clip(name).rgb_background()
        head = body.joints[:, B.HEAD]
        u = np.round(head[:, 5] * 160 / 1920).astype(int)
        v = np.round(head[:, 6] * 90 / 1080).astype(int)
        # (3x3 around the projection: some performers' skin is close to the
        # wall's colour at this 160x90 size)
        differs = [np.abs(frame[vv - 1:vv + 2, uu - 1:uu + 2].astype(float) -
                          background[vv - 1:vv + 2, uu - 1:uu + 2]
                          ).sum(-1).max() > 40
                   for frame, uu, vv in zip(frames, u, v)]
        assert np.mean(differs) > 0.9, name
        folder = sample_paths(root, name)['depth']
        du = np.round(head[:, 3] * 128 / 512).astype(int)
        dv = np.round(head[:, 4] * 106 / 424).astype(int)
        for t in range(0, seq.num_frames, 5):
            depth = cv2.imread(str(folder / f'MDepth-{t + 1:08d}.png'),
                               cv2.IMREAD_UNCHANGED)
            assert abs(int(depth[dv[t], du[t]]) - 1000 * head[t, 2]) < 150


def test_two_person_class_has_two_bodies(tmp_path):
    action = CLASSES.index('handshake') + 1
    name = f'S001C001P001R001A{action:03d}'
    write_sample(tmp_path, name, frames=(8, 8), rgb_size=(96, 54),
                 depth_size=(64, 53))
    seq = read_skeleton(sample_paths(tmp_path, name)['skeleton'])
    assert seq.num_frames == 8 and len(seq.bodies) == 2
    assert seq.bodies[0].body_id != seq.bodies[1].body_id


# --------------------------------------------------------------------------
# Determinism and resume
# --------------------------------------------------------------------------
def test_deterministic(tmp_path):
    name = 'S002C003P004R002A002'
    settings = dict(frames=(10, 12), rgb_size=(96, 54), depth_size=(64, 53))
    for sub in ('a', 'b'):
        write_sample(tmp_path / sub, name, seed=7, **settings)
    write_sample(tmp_path / 'c', name, seed=8, **settings)
    a, b, c = (sample_paths(tmp_path / sub, name) for sub in 'abc')
    assert a['skeleton'].read_bytes() == b['skeleton'].read_bytes()
    assert a['skeleton'].read_bytes() != c['skeleton'].read_bytes()
    files = sorted(os.listdir(a['depth']))
    assert files == sorted(os.listdir(b['depth']))
    for f in files:
        assert (a['depth'] / f).read_bytes() == (b['depth'] / f).read_bytes()


def test_resume_regenerates_only_what_is_missing(tiny):
    root, names = tiny
    before = {p: p.stat().st_mtime_ns for p in root.rglob('*') if p.is_file()}
    victim = sample_paths(root, names[1])['ir']
    original = victim.read_bytes()
    victim.unlink()
    again = generate(root, num_workers=1, progress=False, **TINY)
    assert again == names
    assert victim.exists()
    after = {p: p.stat().st_mtime_ns for p in root.rglob('*') if p.is_file()}
    assert set(after) == set(before)
    changed = {p for p in after if after[p] != before[p]}
    assert changed == {victim}
    # written by a worker first, by this process now: the same bytes
    assert victim.read_bytes() == original
    assert len(_read_video(victim)) == read_skeleton(
        sample_paths(root, names[1])['skeleton']).num_frames


# --------------------------------------------------------------------------
# The classes make the modalities complementary
# --------------------------------------------------------------------------
def _front_view(action, seed=3, num_frames=40):
    """Camera-space joints of a performance seen by the nominal C001."""
    shape = B.BodyShape(B.reference_offsets())
    camera = R.look_at([0, 1.0, 3.0], [0, 1.0, 0])
    motion = perform(action, [shape, shape], np.random.default_rng(seed),
                     num_frames, front_camera=(1.0, 3.0))
    return camera.to_camera(motion.joints[0]), motion


@pytest.mark.parametrize('pair, moving', [
    (('kick forward', 'kick backward'), [B.R_KNEE, B.R_ANKLE, B.R_FOOT]),
    (('bow', 'lean backward'), [B.HEAD, B.NECK, B.SPINE_SHOULDER]),
])
def test_depth_pair_differs_in_depth_not_in_2d(pair, moving):
    (a, _), (b, _) = (_front_view(CLASSES.index(c) + 1) for c in pair)
    fx = R.COLOR_INTRINSICS[0]
    uv_a = R.project(a, R.COLOR_INTRINSICS)
    uv_b = R.project(b, R.COLOR_INTRINSICS)
    image_shift = np.linalg.norm(uv_a - uv_b, axis=-1)[:, moving]   # pixels
    image_shift_m = image_shift * a[:, moving, 2] / fx            # metres
    depth_shift = np.abs(a[:, moving, 2] - b[:, moving, 2])
    assert depth_shift.max() > 0.5
    assert image_shift_m.mean() < 0.25 * depth_shift.mean()
    # over the whole body, a few pixels in the 1920x1080 image on average
    assert np.linalg.norm(uv_a - uv_b, axis=-1).mean() < 12


@pytest.mark.parametrize('pair', [('drink water', 'make a phone call'),
                                  ('reading', 'writing')])
def test_appearance_pair_differs_only_in_the_objects(pair):
    (a, motion_a), (b, motion_b) = (_front_view(CLASSES.index(c) + 1)
                                    for c in pair)
    assert np.array_equal(a, b)
    colors_a = {p.color for p in motion_a.props}
    colors_b = {p.color for p in motion_b.props}
    assert colors_a and colors_b and colors_a != colors_b


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------
def test_scaled_settings():
    assert scaled_settings(1) == dict(clips_per_class=24, rgb_size=(480, 270),
                                      depth_size=(256, 212))
    assert scaled_settings(2) == dict(clips_per_class=48, rgb_size=(960, 540),
                                      depth_size=(512, 424))
    big = scaled_settings(8)
    assert big['rgb_size'] == (1920, 1080) and big['depth_size'] == (512, 424)


def test_cli(tmp_path):
    out = tmp_path / 'raw'
    assert main(['--out', str(out), '--num-classes', '1', '--clips-per-class',
                 '4', '--frames', '4', '4', '--scale', '0.25', '--workers',
                 '1', '--quiet']) == 0
    names = sorted(p.name[:-len('.skeleton')]
                   for p in (out / 'nturgb+d_skeletons').iterdir())
    assert names == ['S001C001P001R001A001']
    frames = _read_video(sample_paths(out, names[0])['rgb'])
    assert len(frames) == 4 and frames[0].shape == (68, 120, 3)
