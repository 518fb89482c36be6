"""Tests of data_prep.ntu.build_annotations on a tiny fake NTU raw tree."""
import pickle

import cv2
import numpy as np
import pytest

from data_prep.ntu import build_annotations as ba
from data_prep.ntu.constants import (NTU60_CLASSES, NTU_TO_COCO,
                                     missing_skeleton_samples)
from data_prep.ntu.skeleton import (SkeletonBody, SkeletonSequence,
                                    write_skeleton)

RGB_SIZE = (64, 48)     # (W, H) of the fake RGB videos
IR_SIZE = (32, 24)      # (W, H) of the fake IR videos
DEPTH_SHAPE = (24, 32)  # (H, W) of the fake depth PNGs
T = 5                   # frames per sample

# S001C001P001R001A001: all modalities; two bodies, the first one static.
FULL = 'S001C001P001R001A001'
# S002C002P003R002A013: no IR video.
NO_IR = 'S002C002P003R002A013'
# S001C003P002R001A055: on the official missing-skeleton list.
LISTED_MISSING = 'S001C003P002R001A055'
# S018C001P045R001A061: setup 18, so NTU120 only.
NTU120_ONLY = 'S018C001P045R001A061'


def make_body(body_id, frames, color_xy, motion, tracking_state=2):
    """A body whose x moves by ``motion`` per frame, colour point fixed."""
    n = len(frames)
    joints = np.zeros((n, 25, 11), np.float32)
    joints[:, :, 0] = motion * np.arange(n)[:, None] + 0.1 * np.arange(25)
    joints[:, :, 1] = 0.2
    joints[:, :, 2] = 3.0
    joints[:, :, 5] = color_xy[0] + np.arange(25)  # colorX: per joint
    joints[:, :, 6] = color_xy[1]
    tracking = np.full((n, 25), tracking_state, np.int8)
    tracking[:, 4] = 1  # left shoulder inferred
    tracking[:, 8] = 0  # right shoulder not tracked
    return SkeletonBody(body_id, np.asarray(frames),
                        np.zeros((n, 9), np.float32), joints, tracking)


def write_video(path, size, frames=T):
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10,
                             size)
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), 20 * i, np.uint8))
    writer.release()


def write_depth(folder, frames=T):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(frames):
        image = np.full(DEPTH_SHAPE, 1000 + i, np.uint16)
        assert cv2.imwrite(str(folder / f'MDepth-{i + 1:08d}.png'), image)


def write_sample(root, name, bodies, rgb=True, depth=True, ir=True):
    write_skeleton(root / 'nturgb+d_skeletons' / f'{name}.skeleton',
                   SkeletonSequence(T, bodies))
    if rgb:
        write_video(root / 'nturgb+d_rgb' / f'{name}_rgb.avi', RGB_SIZE)
    if ir:
        write_video(root / 'nturgb+d_ir' / f'{name}_ir.avi', IR_SIZE)
    if depth:
        write_depth(root / 'nturgb+d_depth_masked' / name)


@pytest.fixture
def raw_root(tmp_path):
    root = tmp_path / 'ntu_raw'
    write_sample(root, FULL, [
        make_body('111', range(T), (100.0, 200.0), motion=0.0),
        make_body('222', [1, 2, 4], (960.0, 540.0), motion=0.3)])
    write_sample(root, NO_IR, [make_body('333', range(T), (0.0, 1080.0), 0.1)],
                 ir=False)
    write_sample(root, LISTED_MISSING, [], depth=False)
    write_sample(root, NTU120_ONLY, [make_body('444', range(T), (5, 5), 0.1)])
    return root


def build(root, tmp_path, **kwargs):
    kwargs.setdefault('num_workers', 0)
    out = tmp_path / 'out' / 'ann.pkl'
    returned = ba.build_annotations(root, out, **kwargs)
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert set(data) == {'split', 'annotations', 'meta'}
    assert sorted(data['split']) == sorted(returned['split'])
    return data


def by_name(data):
    return {ann['frame_dir']: ann for ann in data['annotations']}


def test_ntu60_annotations(raw_root, tmp_path):
    assert LISTED_MISSING in missing_skeleton_samples('ntu60')
    data = build(raw_root, tmp_path)
    anns = by_name(data)
    assert list(anns) == [FULL, NO_IR]  # sorted; missing + setup 18 left out

    assert data['split'] == {
        'xsub_train': [FULL], 'xsub_val': [NO_IR],       # P001 / P003
        'xview_train': [NO_IR], 'xview_val': [FULL],     # C002 / C001
    }
    summary = data['meta'].pop('summary')
    assert data['meta'] == dict(dataset='ntu60', raw_root=str(raw_root),
                                modalities=['rgb', 'depth', 'ir'],
                                keypoint_source='ntu_color', skipped={})
    assert summary['kept'] == 2 and summary['frame_mismatch'] == dict(
        within_tolerance=0, rejected=0)

    full = anns[FULL]
    assert full['label'] == 0 and NTU60_CLASSES[full['label']] == 'drink water'
    assert anns[NO_IR]['label'] == 12
    assert full['total_frames'] == T
    assert full['img_shape'] == (48, 64) == full['original_shape']
    assert full['num_frames'] == dict(rgb=T, depth=T, ir=T)
    assert full['modality_shapes'] == dict(rgb=(48, 64), depth=DEPTH_SHAPE,
                                           ir=(24, 32))
    assert full['rgb_path'] == f'nturgb+d_rgb/{FULL}_rgb.avi'
    assert full['depth_path'] == f'nturgb+d_depth_masked/{FULL}'
    assert full['ir_path'] == f'nturgb+d_ir/{FULL}_ir.avi'
    for key in ('rgb_path', 'depth_path', 'ir_path'):
        assert (raw_root / full[key]).exists()

    # keypoints: 2 bodies, the moving one ('222') first
    kp, score, kp3d = (full['keypoint'], full['keypoint_score'],
                       full['keypoint_3d'])
    assert kp.shape == (2, T, 17, 2) and kp.dtype == np.float32
    assert score.shape == (2, T, 17) and score.dtype == np.float32
    assert kp3d.shape == (2, T, 25, 3) and kp3d.dtype == np.float32
    sx, sy = RGB_SIZE[0] / 1920, RGB_SIZE[1] / 1080
    ntu_joint = np.asarray(NTU_TO_COCO)
    expected_xy = np.stack([(960.0 + ntu_joint) * sx,
                            np.full(17, 540.0 * sy)], axis=-1)
    np.testing.assert_allclose(kp[0, 1], expected_xy, rtol=1e-6)
    np.testing.assert_allclose(kp[0, 0], 0)  # body '222' absent in frame 0
    assert kp[0, 1, 0, 0] == pytest.approx((960 + 3) * sx)  # nose <- head
    # scores: tracked 1, inferred 0.5 (left shoulder), not tracked 0
    expected_score = np.ones(17, np.float32)
    expected_score[5], expected_score[6] = 0.5, 0.0
    np.testing.assert_array_equal(score[0, 1], expected_score)
    np.testing.assert_array_equal(score[0, [0, 3]], 0)
    np.testing.assert_array_equal(score[1], np.broadcast_to(expected_score,
                                                            (T, 17)))
    np.testing.assert_allclose(kp3d[0, 1, :, 2], 3.0)
    np.testing.assert_allclose(kp3d[1, :, 0, 0], 0.0)  # static body, joint 0

    # the sample without an IR video simply lacks its IR keys
    no_ir = anns[NO_IR]
    assert 'ir_path' not in no_ir
    assert set(no_ir['num_frames']) == {'rgb', 'depth'}
    assert set(no_ir['modality_shapes']) == {'rgb', 'depth'}
    assert no_ir['keypoint'].shape == (1, T, 17, 2)
    np.testing.assert_allclose(no_ir['keypoint'][0, :, 11, 1], 48.0)


def test_ntu25_2d_keypoints_are_the_colour_joints(raw_root, tmp_path):
    plain = by_name(build(raw_root, tmp_path))[FULL]
    assert 'keypoint_ntu25' not in plain  # opt-in
    full = by_name(build(raw_root, tmp_path, ntu25_2d=True))[FULL]
    kp25, score25 = full['keypoint_ntu25'], full['keypoint_ntu25_score']
    assert kp25.shape == (2, T, 25, 2) and kp25.dtype == np.float32
    assert score25.shape == (2, T, 25) and score25.dtype == np.float32
    # the COCO-17 keypoints are a subset of them, in the same pixel space
    np.testing.assert_array_equal(kp25[:, :, list(NTU_TO_COCO)],
                                  full['keypoint'])
    np.testing.assert_array_equal(score25[:, :, list(NTU_TO_COCO)],
                                  full['keypoint_score'])
    sx = RGB_SIZE[0] / 1920
    assert kp25[0, 1, 24, 0] == pytest.approx((960 + 24) * sx)
    for key in ('keypoint', 'keypoint_score', 'keypoint_3d'):
        np.testing.assert_array_equal(full[key], plain[key])


def test_ntu120_and_kept_missing_skeletons(raw_root, tmp_path):
    data = build(raw_root, tmp_path, dataset='ntu120',
                 keep_missing_skeletons=True, modalities=('rgb', 'ir'),
                 num_workers=2)
    anns = by_name(data)
    assert sorted(anns) == sorted([FULL, NO_IR, LISTED_MISSING, NTU120_ONLY])
    assert set(data['split']) == {'xsub_train', 'xsub_val', 'xset_train',
                                  'xset_val'}
    assert data['split']['xset_train'] == [NO_IR, NTU120_ONLY]  # setups 2, 18
    assert data['split']['xset_val'] == [FULL, LISTED_MISSING]
    assert data['split']['xsub_train'] == [FULL, LISTED_MISSING, NTU120_ONLY]
    assert anns[NTU120_ONLY]['label'] == 60

    missing = anns[LISTED_MISSING]
    for key in ('keypoint', 'keypoint_score', 'keypoint_3d', 'depth_path'):
        assert key not in missing
    assert missing['total_frames'] == T
    assert missing['num_frames'] == dict(rgb=T, ir=T)
    assert 'depth_path' not in anns[FULL]  # depth not asked for
    assert data['meta']['modalities'] == ['rgb', 'ir']


def test_without_rgb_keypoints_stay_in_colour_space(raw_root, tmp_path):
    data = build(raw_root, tmp_path, modalities=('depth',))
    full = by_name(data)[FULL]
    assert full['img_shape'] == (1080, 1920)
    assert full['keypoint'][0, 1, 11, 0] == pytest.approx(960 + 12)
    assert set(full['num_frames']) == {'depth'}


def test_corrupt_skeleton_names_the_sample(raw_root, tmp_path):
    skeleton = raw_root / 'nturgb+d_skeletons' / f'{NO_IR}.skeleton'
    lines = skeleton.read_text().splitlines()
    skeleton.write_text('\n'.join(lines[:40]) + '\n')  # truncated
    for workers in (0, 2):
        with pytest.raises(ba.AnnotationBuildError) as info:
            build(raw_root, tmp_path, num_workers=workers)
        message = str(info.value)
        assert NO_IR in message and str(skeleton) in message
        assert 'line 41' in message
    assert not (tmp_path / 'out' / 'ann.pkl').exists()


@pytest.mark.parametrize('backend', ['cv2', 'decord'])
def test_unreadable_video_and_depth_name_the_sample(raw_root, tmp_path,
                                                     backend):
    if backend == 'decord':
        pytest.importorskip('decord')
    video = raw_root / 'nturgb+d_rgb' / f'{FULL}_rgb.avi'
    assert ba.probe_video(video, backend) == (T, RGB_SIZE[::-1])
    video.write_bytes(b'not a video')
    with pytest.raises(ba.AnnotationBuildError) as info:
        build(raw_root, tmp_path, video_backend=backend)
    assert FULL in str(info.value) and str(video) in str(info.value)

    write_video(video, RGB_SIZE)
    (raw_root / 'nturgb+d_depth_masked' / NO_IR / 'MDepth-00000003.png'
     ).unlink()
    with pytest.raises(ba.AnnotationBuildError, match=f'{NO_IR}.*gaps'):
        build(raw_root, tmp_path)


def test_sample_without_bodies_is_left_out(raw_root, tmp_path):
    write_skeleton(raw_root / 'nturgb+d_skeletons' / f'{NO_IR}.skeleton',
                   SkeletonSequence(T, []))
    assert list(by_name(build(raw_root, tmp_path))) == [FULL]
    kept = by_name(build(raw_root, tmp_path, keep_missing_skeletons=True))
    assert 'keypoint' not in kept[NO_IR] and kept[NO_IR]['total_frames'] == T


def test_cache_reuses_and_refreshes(raw_root, tmp_path):
    cache = tmp_path / 'cache'
    first = build(raw_root, tmp_path, cache_dir=cache)
    assert (cache / f'{FULL}.pkl').exists()
    again = build(raw_root, tmp_path, cache_dir=cache)
    np.testing.assert_array_equal(by_name(first)[FULL]['keypoint'],
                                  by_name(again)[FULL]['keypoint'])
    (raw_root / 'nturgb+d_ir' / f'{FULL}_ir.avi').unlink()
    refreshed = by_name(build(raw_root, tmp_path, cache_dir=cache))
    assert 'ir_path' not in refreshed[FULL]


def test_cli(raw_root, tmp_path):
    out = tmp_path / 'cli.pkl'
    assert ba.main(['--raw-root', str(raw_root), '--dataset', 'ntu60',
                    '--out', str(out), '--num-workers', '0']) == 0
    with open(out, 'rb') as f:
        assert len(pickle.load(f)['annotations']) == 2
    assert ba.main(['--raw-root', str(tmp_path / 'nowhere'),
                    '--out', str(out)]) == 1
