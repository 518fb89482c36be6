"""Pose-derived transforms (issue 3 §2): heatmap volumes, skeleton-box crop,
ROI mosaics, joint heatmaps, and their bad-input behaviour."""
import numpy as np
import pytest

import mmar_ext  # noqa: F401  (compat fixes + registration, before mmaction)
import mmar_ext.datasets.transforms.heatmap as heatmap_mod  # noqa: E402
import mmar_ext.datasets.transforms.pose  # noqa: E402,F401  (registers)
from mmaction.datasets.transforms import GeneratePoseTarget  # noqa: E402
from mmaction.registry import TRANSFORMS  # noqa: E402
from mmar_ext.datasets.transforms.roi_mosaic import (  # noqa: E402
    JOINT_LAYOUTS, roi_weight_map)

COCO_LEFT = (1, 3, 5, 7, 9, 11, 13, 15)
COCO_RIGHT = (2, 4, 6, 8, 10, 12, 14, 16)


def build(cfg):
    return TRANSFORMS.build(cfg)


@pytest.fixture
def warnings(monkeypatch):
    """Messages logged through the pose transforms' warning helper."""
    msgs = []
    monkeypatch.setattr(heatmap_mod, 'print_log',
                        lambda msg, **kwargs: msgs.append(msg))
    return msgs


def random_pose(rng, m, t, hw, outside=0.2, zero_frac=0.2):
    h, w = hw
    kp = rng.uniform(-outside, 1 + outside, (m, t, 17, 2)) * [w, h]
    score = rng.uniform(0, 1, (m, t, 17))
    score[score < zero_frac] = 0
    return kp.astype(np.float32), score.astype(np.float32)


def one_joint(t=1, k=17, m=1, joint=0, xy=(10., 20.), score=1.):
    kp = np.zeros((m, t, k, 2), np.float32)
    sc = np.zeros((m, t, k), np.float32)
    kp[0, :, joint] = xy
    sc[0, :, joint] = score
    return kp, sc


# ------------------------------------------------------- heatmap volume
def test_heatmap_single_joint_hand_computed():
    kp, sc = one_joint(xy=(10., 20.), score=0.8, joint=3)
    out = build(dict(type='PoseHeatmapVolume', sigma=0.6))(dict(
        keypoint=kp, keypoint_score=sc, img_shape=(32, 40)))['imgs']
    assert out.shape == (1, 17, 32, 40) and out.dtype == np.float32
    hm = out[0, 3]
    assert hm[20, 10] == pytest.approx(0.8)  # peak = score (eq. (1))
    assert hm[20, 11] == pytest.approx(0.8 * np.exp(-1 / 0.72), rel=1e-5)
    assert hm[21, 11] == pytest.approx(0.8 * np.exp(-2 / 0.72), rel=1e-5)
    # window [int(10 - 1.8), int(10 + 1.8)] = [8, 11]: nothing beyond
    assert hm[20, 12] == 0 and hm[20, 7] == 0 and hm[17, 10] == 0
    assert np.count_nonzero(hm) == 16
    assert not np.delete(out[0], 3, axis=0).any()


def test_limb_hand_computed():
    kp = np.zeros((1, 1, 17, 2), np.float32)
    kp[0, 0, 5], kp[0, 0, 7] = (5., 10.), (15., 10.)  # COCO limb 5: (5, 7)
    sc = np.zeros((1, 1, 17), np.float32)
    sc[0, 0, 5], sc[0, 0, 7] = 0.9, 0.6
    out = build(
        dict(
            type='PoseHeatmapVolume', sigma=1., with_kp=False,
            with_limb=True))(dict(
                keypoint=kp, keypoint_score=sc, img_shape=(20, 24)))['imgs']
    assert out.shape == (1, 17, 20, 24)
    hm = out[0, 5]
    assert hm[10, 5:16] == pytest.approx(0.6)  # on the segment: min score
    assert hm[11, 10] == pytest.approx(0.6 * np.exp(-0.5))  # 1 px off it
    assert hm[10, 17] == pytest.approx(0.6 * np.exp(-2.))  # 2 px past b
    assert hm[12, 3] == pytest.approx(0.6 * np.exp(-4.))  # |p - a|^2 = 8
    assert not np.delete(out[0], 5, axis=0).any()


@pytest.mark.parametrize('seed', range(6))
@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(with_kp=False, with_limb=True),
    dict(use_score=False),
    dict(double=True),
    dict(with_kp=False, with_limb=True, double=True),
    dict(sigma=1.7, scaling=0.5)
])
def test_equals_generate_pose_target(seed, kwargs):
    rng = np.random.default_rng(seed)
    m = 1 + seed % 2
    hw = (int(rng.integers(24, 72)), int(rng.integers(24, 72)))
    kp, sc = random_pose(rng, m, 6, hw)
    if seed == 3:  # limbs shorter than one pixel take the start joint
        kp[:, :,
           1::2] = kp[:, :, 0:-1:2] + rng.uniform(-0.7, 0.7, (m, 6, 8, 2))
    ref = GeneratePoseTarget(**kwargs)(dict(
        keypoint=kp.copy(), keypoint_score=sc.copy(), img_shape=hw))['imgs']
    out = build(dict(type='PoseHeatmapVolume', **kwargs))(dict(
        keypoint=kp.copy(), keypoint_score=sc.copy(), img_shape=hw))['imgs']
    assert out.shape == ref.shape and out.dtype == np.float32
    assert np.abs(out - ref).max() <= 1e-5


def test_equals_generate_pose_target_large_image():
    """Long limbs: float32 rounding must follow GeneratePoseTarget's."""
    rng = np.random.default_rng(7)
    kp, sc = random_pose(rng, 2, 2, (400, 600), zero_frac=0)
    kw = dict(with_kp=False, with_limb=True, sigma=0.6)
    ref = GeneratePoseTarget(**kw)(dict(
        keypoint=kp.copy(), keypoint_score=sc.copy(),
        img_shape=(400, 600)))['imgs']
    out = build(dict(type='PoseHeatmapVolume', **kw))(dict(
        keypoint=kp, keypoint_score=sc, img_shape=(400, 600)))['imgs']
    assert np.abs(out - ref).max() <= 1e-5


def test_joints_and_limbs_channel_layout():
    rng = np.random.default_rng(3)
    kp, sc = random_pose(rng, 2, 3, (40, 48))
    res = dict(keypoint=kp, keypoint_score=sc, img_shape=(40, 48))
    joints = GeneratePoseTarget()(dict(res))['imgs']
    limbs = GeneratePoseTarget(
        with_kp=False, with_limb=True)(dict(res))['imgs']
    both = build(dict(type='PoseHeatmapVolume', with_limb=True,
                      double=True))(dict(res))['imgs']
    assert both.shape == (6, 34, 40, 48)
    assert np.abs(both[:3, :17] - joints).max() <= 1e-5
    assert np.abs(both[:3, 17:] - limbs).max() <= 1e-5
    # flipped half: mirrored, left/right joints and limbs swapped
    order = np.arange(34)
    for lf, rt in list(zip(COCO_LEFT, COCO_RIGHT)) + [
        (17 + a, 17 + b) for a, b in zip((0, 2, 4, 5, 6, 10, 11,
                                          12), (1, 3, 7, 8, 9, 13, 14, 15))
    ]:
        order[lf], order[rt] = rt, lf
    assert np.array_equal(both[3:], both[:3, order, :, ::-1])


def test_heatmap_no_person_and_missing_keypoints(warnings):
    t = build(
        dict(type='PoseHeatmapVolume', with_limb=True, out_key='pose_imgs'))
    empty = t(
        dict(
            keypoint=np.zeros((0, 5, 17, 2), np.float32),
            keypoint_score=np.zeros((0, 5, 17), np.float32),
            img_shape=(16, 16)))['pose_imgs']
    assert empty.shape == (5, 34, 16, 16) and not empty.any()
    kp, sc = random_pose(np.random.default_rng(0), 2, 5, (16, 16))
    zero = t(dict(keypoint=kp, keypoint_score=0 * sc,
                  img_shape=(16, 16)))['pose_imgs']
    assert zero.shape == (5, 34, 16, 16) and not zero.any()
    with pytest.raises(KeyError, match='S001C001P001R001A001'):
        t(dict(frame_dir='S001C001P001R001A001', img_shape=(16, 16)))
    with pytest.raises(ValueError, match='S001C001P001R001A001.*no frame'):
        t(
            dict(
                frame_dir='S001C001P001R001A001',
                img_shape=(16, 16),
                keypoint=np.zeros(0, np.float32)))
    with pytest.raises(ValueError, match=r'shape \[M, T, K, 2\]'):
        t(
            dict(
                frame_dir='S001C001P001R001A001',
                img_shape=(16, 16),
                keypoint=np.zeros((5, 17, 2), np.float32)))
    assert not warnings


def test_heatmap_nan_keypoints_are_missing(warnings):
    rng = np.random.default_rng(5)
    kp, sc = random_pose(rng, 2, 4, (32, 32), zero_frac=0)
    bad = kp.copy()
    bad[0, 1, 4, 0] = np.nan
    bad[1, 2, 7] = np.nan
    r = build(dict(type='PoseHeatmapVolume', with_limb=True))(
        dict(
            frame_dir='sampleX',
            keypoint=bad,
            keypoint_score=sc.copy(),
            img_shape=(32, 32)))
    assert r['num_nan_keypoints'] == 2
    assert not np.isnan(r['keypoint']).any()
    assert r['keypoint_score'][0, 1, 4] == 0 and r['keypoint_score'][1, 2,
                                                                     7] == 0
    sc_ref = sc.copy()
    sc_ref[0, 1, 4] = sc_ref[1, 2, 7] = 0
    ref = build(dict(type='PoseHeatmapVolume', with_limb=True))(dict(
        keypoint=kp, keypoint_score=sc_ref, img_shape=(32, 32)))['imgs']
    assert np.array_equal(r['imgs'], ref)
    assert len(warnings) == 1 and 'sampleX' in warnings[0] and \
        '2 keypoint' in warnings[0]


# ------------------------------------------------------ skeleton box crop
def two_persons(t=4):
    """Person 0 spans x 100..140, y 50..150; person 1 x 200..260,
    y 60..170; a joint with score 0 far away must not count."""
    rng = np.random.default_rng(0)
    kp = np.zeros((2, t, 17, 2), np.float32)
    kp[0, ..., 0] = rng.uniform(100, 140, (t, 17))
    kp[0, ..., 1] = rng.uniform(50, 150, (t, 17))
    kp[1, ..., 0] = rng.uniform(200, 260, (t, 17))
    kp[1, ..., 1] = rng.uniform(60, 170, (t, 17))
    kp[0, 0, 0], kp[1, 0, 0] = (100, 50), (260, 170)  # the extremes
    sc = np.ones((2, t, 17), np.float32)
    kp[1, 2, 5] = (470, 5)
    sc[1, 2, 5] = 0
    return kp, sc


def frames(t, hw=(270, 480), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, hw + (3, ), dtype=np.uint8) for _ in range(t)]


def test_skeleton_box_two_persons():
    kp, sc = two_persons()
    imgs = frames(4)
    r = build(dict(type='SkeletonBoxCrop'))(
        dict(
            keypoint=kp.copy(),
            keypoint_score=sc,
            img_shape=(270, 480),
            rgb_imgs=list(imgs),
            rgb_img_shape=(270, 480)))
    # tight (100, 50)-(260, 170), centre (180, 110), half sizes 80 x 60
    # * 1.25 = 100 x 75, square -> 100 x 100
    assert r['skeleton_box'].tolist() == [80, 10, 280, 210]
    assert r['skeleton_box_fallback'] is False
    assert r['img_shape'] == r['rgb_img_shape'] == (200, 200)
    for a, b in zip(r['rgb_imgs'], imgs):
        assert np.array_equal(a, b[10:210, 80:280])
    assert np.allclose(r['keypoint'], kp - [80, 10])
    assert np.allclose(r['rgb_crop_quadruple'],
                       [80 / 480, 10 / 270, 200 / 480, 200 / 270])


def test_skeleton_box_bounds():
    kp = np.zeros((1, 2, 17, 2), np.float32)
    kp[0, :, :, 0] = np.linspace(10, 90, 17)  # 80 wide, 30 tall, top left
    kp[0, :, :, 1] = np.linspace(5, 35, 17)
    res = dict(keypoint=kp, img_shape=(270, 480))
    # square 100 x 100 around (50, 20): shifted down to y 0..100
    r = build(dict(type='SkeletonBoxCrop'))(dict(res))
    assert r['skeleton_box'].tolist() == [0, 0, 100, 100]
    r = build(dict(type='SkeletonBoxCrop', bound='clip'))(dict(res))
    assert r['skeleton_box'].tolist() == [0, 0, 100, 70]
    img = np.full((270, 480), 7, np.uint8)
    r = build(dict(type='SkeletonBoxCrop', bound='pad'))(dict(res, imgs=[img]))
    assert r['skeleton_box'].tolist() == [0, -30, 100, 70]
    assert r['imgs'][0].shape == (100, 100)
    assert (r['imgs'][0][:30] == 0).all() and (r['imgs'][0][30:] == 7).all()
    assert r['keypoint'][0, 0, 0].tolist() == [10, 35]
    r = build(dict(type='SkeletonBoxCrop', hw_ratio=None, padding=0))(
        dict(res))
    assert r['skeleton_box'].tolist() == [10, 5, 90, 35]


@pytest.mark.parametrize(
    'case',
    ['empty', 'empty_1d', 'zero_scores', 'absent', 'outside', 'nan', 'tiny'])
def test_skeleton_box_fallback_warns(case, warnings):
    kp = np.zeros((1, 3, 17, 2), np.float32)
    kp[..., 0], kp[..., 1] = 50, 60
    kp[0, :, :5] += np.arange(5)[:, None] * 30
    sc = np.ones((1, 3, 17), np.float32)
    res = dict(
        frame_dir='S002C003P004R001A010',
        img_shape=(270, 480),
        rgb_imgs=frames(3),
        rgb_img_shape=(270, 480))
    if case == 'empty':
        kp, sc = kp[:0], sc[:0]
    elif case == 'empty_1d':
        kp, sc = np.zeros(0, np.float32), np.zeros(0, np.float32)
    elif case == 'zero_scores':
        sc[:] = 0
    elif case == 'outside':
        kp += 1000
    elif case == 'nan':
        kp[:] = np.nan
    elif case == 'tiny':
        kp[:] = 50
    if case != 'absent':
        res.update(keypoint=kp, keypoint_score=sc)
    r = build(dict(type='SkeletonBoxCrop'))(res)
    assert r['skeleton_box'].tolist() == [0, 0, 480, 270]
    assert r['skeleton_box_fallback'] is True
    assert r['img_shape'] == (270, 480) and r['rgb_imgs'][0].shape == (270,
                                                                       480, 3)
    assert any('S002C003P004R001A010' in w and 'whole' in w for w in warnings)
    if case == 'nan':
        assert r['num_nan_keypoints'] == 51


def test_skeleton_box_rejects_other_pixel_space():
    kp, sc = two_persons()
    with pytest.raises(ValueError, match='pixel space'):
        build(dict(type='SkeletonBoxCrop', modalities=('rgb', 'depth')))(
            dict(
                keypoint=kp,
                keypoint_score=sc,
                img_shape=(270, 480),
                rgb_imgs=frames(1),
                depth_imgs=[np.zeros((424, 512))],
                depth_img_shape=(424, 512)))


def marker_clip(total=96, hw=(270, 480)):
    """A clip whose left wrist (COCO 9) is a bright 9x9 square in every
    RGB frame, moving right/down; other joints span a body box."""
    h, w = hw
    t = np.arange(total)
    kp = np.zeros((1, total, 17, 2), np.float32)
    kp[0, :, :, 0] = 150 + np.linspace(0, 80, 17)
    kp[0, :, :, 1] = 40 + np.linspace(0, 180, 17)
    kp[0, :, 9] = np.stack([170 + t * 0.7, 80 + t * 0.5], -1)
    imgs = []
    for x, y in kp[0, :, 9]:
        img = np.zeros((h, w, 3), np.uint8)
        xi, yi = int(round(x)), int(round(y))
        img[yi - 4:yi + 5, xi - 4:xi + 5] = 255
        imgs.append(img)
    return kp, imgs


def test_epam_pipeline_aligns_rgb_and_heatmaps():
    """48 pose frames, RGB every 3rd; box crop -> RGB 224 + flip (shared,
    left/right swapped) -> 56x56 heatmaps of the same region."""
    kp, video = marker_clip()
    res = build(
        dict(
            type='MultiModalSampleFrames',
            test_mode=True,
            modality_clip_len=dict(pose=48, rgb=16)))(
                dict(total_frames=96, frame_dir='clip'))
    assert np.array_equal(res['rgb_inds'], res['pose_inds'][::3])
    score = np.ones((1, 48, 17), np.float32)
    score[..., 10] = 0  # no right wrist: after the flip, channel 9 is empty
    res.update(
        keypoint=kp[:, res['pose_inds']],
        keypoint_score=score,
        rgb_imgs=[video[i] for i in res['rgb_inds']],
        rgb_img_shape=(270, 480),
        img_shape=(270, 480),
        modalities=['rgb', 'pose'])
    pipeline = [
        dict(type='SkeletonBoxCrop'),
        dict(
            type='ModalityTransforms',
            keypoint_modality='rgb',
            modalities=('rgb', ),
            transforms=[
                dict(type='Resize', scale=(224, 224), keep_ratio=False),
                dict(
                    type='Flip',
                    flip_ratio=1.0,
                    left_kp=COCO_LEFT,
                    right_kp=COCO_RIGHT)
            ]),
        dict(
            type='PoseHeatmapVolume',
            scaling=0.25,
            sigma=0.6,
            out_key='pose_imgs'),
        dict(type='JointHeatmaps', feat_stride=2, match_modality='rgb'),
    ]
    for cfg in pipeline:
        res = build(cfg)(res)
    assert res['rgb_img_shape'] == res['img_shape'] == (224, 224)
    assert len(res['rgb_imgs']) == 16 and res['rgb_flip'] is True
    assert res['pose_imgs'].shape == (48, 17, 56, 56)
    assert res['joint_heatmaps'].shape == (16, 17, 112, 112)
    for j in range(16):
        grey = res['rgb_imgs'][j][..., 0].astype(float)
        ys, xs = np.nonzero(grey > 128)
        cx, cy = xs.mean() + 0.5, ys.mean() + 0.5  # continuous coordinates
        # the mirrored left wrist is now the right wrist (channel 10)
        hm = res['pose_imgs'][3 * j, 10]
        py, px = np.unravel_index(hm.argmax(), hm.shape)
        assert abs(px - cx / 4) <= 1 and abs(py - cy / 4) <= 1
        assert hm.max() > 0.5 and not res['pose_imgs'][3 * j, 9].any()
        jh = res['joint_heatmaps'][j, 10]
        py, px = np.unravel_index(jh.argmax(), jh.shape)
        assert abs(px + 0.5 - cx / 2) <= 1 and abs(py + 0.5 - cy / 2) <= 1


# ------------------------------------------------------------- ROI mosaic
def test_roi_layouts_match_joint_names():
    from data_prep.ntu.constants import (COCO_KEYPOINT_NAMES, NTU_JOINT_NAMES)
    assert [NTU_JOINT_NAMES[j] for j in JOINT_LAYOUTS['ntu25']] == [
        'head', 'right hand', 'left hand', 'right ankle', 'left ankle'
    ]
    assert [COCO_KEYPOINT_NAMES[j] for j in JOINT_LAYOUTS['coco17']] == [
        'nose', 'right_wrist', 'left_wrist', 'right_ankle', 'left_ankle'
    ]
    assert JOINT_LAYOUTS['openpose18'] == (0, 4, 7, 10, 13)


def mosaic_sample(m=1, t=8, hw=(200, 300), seed=1):
    rng = np.random.default_rng(seed)
    kp = np.zeros((m, t, 17, 2), np.float32)
    kp[..., 0] = rng.uniform(60, hw[1] - 60, (m, t, 17))
    kp[..., 1] = rng.uniform(60, hw[0] - 60, (m, t, 17))
    return dict(
        frame_dir='roi_sample',
        keypoint=kp,
        keypoint_score=np.ones((m, t, 17), np.float32),
        rgb_imgs=frames(t, hw, seed),
        img_shape=hw,
        rgb_inds=np.arange(t) * 10 + 3)


def test_roi_mosaic_cells_are_source_crops():
    res = mosaic_sample()
    kp, imgs = res['keypoint'].copy(), list(res['rgb_imgs'])
    r = build(dict(type='SkeletonROIMosaic', test_mode=True, out_size=None))(
        res)
    mosaic = r['roi_imgs'][0]
    assert mosaic.shape == (480, 480, 3) and mosaic.dtype == np.uint8
    cells = r['roi_cells']
    assert cells['frames'].tolist() == [0, 2, 4, 5, 7]  # segment centres
    assert cells['frame_inds'].tolist() == [3, 23, 43, 53, 73]
    assert cells['parts'][0] == 'head' and cells['valid'].all()
    for row, joint in enumerate(JOINT_LAYOUTS['coco17']):
        for col, f in enumerate(cells['frames']):
            x, y = np.round(kp[0, f, joint]).astype(int)
            x1, y1, x2, y2 = cells['boxes'][row, col].astype(int)
            assert (x1, y1, x2, y2) == (96 * col, 96 * row, 96 * col + 96,
                                        96 * row + 96)
            assert np.array_equal(mosaic[y1:y2, x1:x2], imgs[f][y - 48:y + 48,
                                                                x - 48:x + 48])
            assert cells['src_boxes'][row, col, 0].tolist() == [
                x - 48, y - 48, x + 48, y + 48
            ]
    r = build(dict(type='SkeletonROIMosaic', test_mode=True))(mosaic_sample())
    assert r['roi_imgs'][0].shape == (225, 225, 3)
    assert r['roi_img_shape'] == (225, 225)
    assert r['roi_cells']['boxes'][4, 4].tolist() == [180, 180, 225, 225]


def test_roi_mosaic_ntu25_layout_reads_the_ntu25_joints():
    res = mosaic_sample()
    rng = np.random.default_rng(3)
    kp25 = rng.uniform(60, 140, (1, 8, 25, 2)).astype(np.float32)
    res.update(keypoint_ntu25=kp25,
               keypoint_ntu25_score=np.ones((1, 8, 25), np.float32))
    imgs = list(res['rgb_imgs'])
    r = build(dict(type='SkeletonROIMosaic', layout='ntu25', test_mode=True,
                   out_size=None))(res)
    cells = r['roi_cells']
    assert cells['joints'].tolist() == [3, 11, 7, 18, 14]
    mosaic = r['roi_imgs'][0]
    for row, joint in enumerate(JOINT_LAYOUTS['ntu25']):
        f = cells['frames'][2]
        x, y = np.round(kp25[0, f, joint]).astype(int)
        assert np.array_equal(mosaic[96 * row:96 * row + 96, 192:288],
                              imgs[f][y - 48:y + 48, x - 48:x + 48])
    # without the NTU-25 joints the error says which key is missing
    del res['keypoint_ntu25'], res['keypoint_ntu25_score']
    with pytest.raises(ValueError, match='keypoint_ntu25'):
        build(dict(type='SkeletonROIMosaic', layout='ntu25'))(res)


def test_roi_mosaic_two_persons_and_padding():
    res = mosaic_sample(m=2)
    res['keypoint'][0, :, 0] = (5, 10)  # head near the corner: zero padded
    kp, imgs = res['keypoint'].copy(), list(res['rgb_imgs'])
    r = build(dict(type='SkeletonROIMosaic', test_mode=True, out_size=None))(
        res)
    mosaic, cells = r['roi_imgs'][0], r['roi_cells']
    assert cells['num_persons'] == 2
    f = cells['frames'][1]
    # head row, second column: left half person 0, right half person 1
    left, right = mosaic[:96, 96:144], mosaic[:96, 144:192]
    assert cells['person_boxes'][0, 1].tolist() == [[96, 0, 144, 96],
                                                    [144, 0, 192, 96]]
    assert (left[:38] == 0).all() and (left[:, :19] == 0).all()
    assert np.array_equal(left[38:, 19:], imgs[f][:58, :29])
    x, y = np.round(kp[1, f, 0]).astype(int)
    assert np.array_equal(right, imgs[f][y - 48:y + 48, x - 24:x + 24])


def test_roi_mosaic_sampling_missing_and_no_person(warnings):
    np.random.seed(0)
    t = build(dict(type='SkeletonROIMosaic', out_size=None))
    for _ in range(5):
        fr = t(mosaic_sample(t=12))['roi_cells']['frames']
        assert len(set(fr.tolist())) == 5 and (np.diff(fr) > 0).all()
    # fewer frames than tau: every frame once, random repeats, sorted
    fr = t(mosaic_sample(t=3))['roi_cells']['frames']
    assert set(fr.tolist()) == {0, 1, 2} and (np.diff(fr) >= 0).all()
    fr = build(dict(type='SkeletonROIMosaic',
                    test_mode=True))(mosaic_sample(t=3))['roi_cells']['frames']
    assert fr.tolist() == [0, 0, 1, 2, 2]
    # a missing joint (score 0) and a NaN joint give zero cells
    res = mosaic_sample()
    res['keypoint_score'][0, :, 10] = 0
    res['keypoint'][0, :, 9] = np.nan
    r = build(dict(type='SkeletonROIMosaic', test_mode=True, out_size=None))(
        res)
    assert not r['roi_imgs'][0][96:288].any()  # rows right/left hand
    assert not r['roi_cells']['valid'][1:3].any()
    assert r['roi_cells']['valid'][[0, 3, 4]].all()
    assert r['num_nan_keypoints'] == 8
    # no person at all: all scores 0, an empty array, no keypoint field
    res = mosaic_sample()
    res['keypoint_score'][:] = 0
    empty = dict(
        mosaic_sample(),
        keypoint=np.zeros((0, 8, 17, 2)),
        keypoint_score=np.zeros((0, 8, 17)))
    absent = mosaic_sample()
    del absent['keypoint'], absent['keypoint_score']
    for res in (res, empty, absent):
        r = build(dict(type='SkeletonROIMosaic'))(res)
        assert r['roi_imgs'][0].shape == (225, 225, 3)
        assert not r['roi_imgs'][0].any()
        assert r['roi_cells']['num_persons'] == 0
        assert not r['roi_cells']['valid'].any()
    assert any('roi_sample' in w and 'no person' in w for w in warnings)


def test_roi_mosaic_pose_clip_longer_than_rgb():
    res = mosaic_sample(t=12)
    res.update(
        pose_inds=np.arange(12) * 5,
        rgb_inds=np.arange(12)[1::3] * 5,
        rgb_imgs=res['rgb_imgs'][1::3])
    kp = res['keypoint'].copy()
    r = build(
        dict(
            type='SkeletonROIMosaic',
            num_frames=4,
            test_mode=True,
            out_size=None))(
                res)
    f = r['roi_cells']['frames']
    assert f.tolist() == [0, 1, 2, 3]
    x, y = np.round(kp[0, 4, 0]).astype(int)  # RGB frame 1 = pose frame 4
    assert np.array_equal(r['roi_imgs'][0][:96, 96:192],
                          res['rgb_imgs'][1][y - 48:y + 48, x - 48:x + 48])
    res['rgb_inds'] = res['rgb_inds'] + 1  # not a sub-clip of the pose clip
    with pytest.raises(ValueError, match='cannot align'):
        build(dict(type='SkeletonROIMosaic'))(res)


def test_roi_weight_map_scales_rows():
    r = build(dict(type='SkeletonROIMosaic', test_mode=True))(mosaic_sample())
    weights = np.zeros(17, np.float32)
    weights[list(JOINT_LAYOUTS['coco17'])] = [1, 2, 3, 4, 5]
    wm = roi_weight_map(r['roi_cells'], weights)
    assert wm.shape == (225, 225)
    assert (wm[:45] == 1).all() and (wm[180:] == 5).all()
    assert np.array_equal(wm, roi_weight_map(r['roi_cells'], [1, 2, 3, 4, 5]))


# -------------------------------------------------------- joint heatmaps
def test_joint_heatmaps_hand_computed():
    # cell (row 5, col 7) of a 16x20 map of a 64x80 image: centre (30, 22)
    kp, sc = one_joint(t=2, xy=(30., 22.), joint=4)
    sc[0, 1, 4] = 0  # missing in frame 1
    r = build(dict(type='JointHeatmaps', feat_stride=4, sigma=1.5))(
        dict(keypoint=kp, keypoint_score=sc, img_shape=(64, 80)))
    out = r['joint_heatmaps']
    assert out.shape == (2, 17, 16, 20)
    assert out[0, 4, 5, 7] == pytest.approx(1.)
    assert out[0, 4, 5, 8] == pytest.approx(np.exp(-1 / 4.5))
    assert out[0, 4, 3, 6] == pytest.approx(np.exp(-5 / 4.5))
    assert out[0, 4].argmax() == 5 * 20 + 7
    assert not out[1].any() and not np.delete(out[0], 4, axis=0).any()
    r = build(dict(type='JointHeatmaps', feat_shape=(8, 10), use_score=True))(
        dict(keypoint=kp, keypoint_score=sc * 0.5, img_shape=(64, 80)))
    assert r['joint_heatmaps'].shape == (2, 17, 8, 10)
    assert r['joint_heatmaps'].max() == pytest.approx(0.5 * np.exp(-0.0625))


def test_joint_heatmaps_pick_the_rgb_frames_of_unsliced_keypoints():
    kp = np.zeros((1, 20, 17, 2), np.float32)
    kp[0, :, 0, 0] = np.arange(20) * 4 + 2  # frame f: x = 4 f + 2
    kp[0, :, 0, 1] = 2
    r = build(dict(type='JointHeatmaps', feat_stride=4, match_modality='rgb'))(
        dict(
            keypoint=kp,
            keypoint_score=np.ones((1, 20, 17), np.float32),
            img_shape=(8, 80),
            total_frames=20,
            rgb_inds=np.array([2, 5, 9]),
            rgb_imgs=[np.zeros((8, 80, 3), np.uint8)] * 3))
    out = r['joint_heatmaps']
    assert out.shape == (3, 17, 2, 20)
    assert [int(out[i, 0, 0].argmax()) for i in range(3)] == [2, 5, 9]
