"""Sampling, decoding, jet colouring and per-modality augmentation."""
import os.path as osp
import random
import sys

import numpy as np
import pytest

import mmar_ext  # noqa: F401  (compat fixes + registration, before mmaction)
from mmaction.registry import DATASETS, TRANSFORMS  # noqa: E402

sys.path.insert(0, osp.dirname(__file__))
from test_multimodal_dataset import (DEPTH_HW, RGB_HW, depth_value,  # noqa
                                     ir_value, make_raw, rgb_value,
                                     write_ann)


def build(cfg):
    return TRANSFORMS.build(cfg)


# ------------------------------------------------------------- sampling
def test_random_sampling_distinct_sorted():
    np.random.seed(0)
    t = build(dict(type='MultiModalSampleFrames', clip_len=16))
    seen = set()
    for _ in range(50):
        r = t(dict(total_frames=40))
        inds = r['frame_inds']
        assert inds.shape == (16, ) and inds.dtype.kind == 'i'
        assert len(set(inds)) == 16 and (np.diff(inds) > 0).all()
        assert inds.min() >= 0 and inds.max() < 40
        seen.update(inds.tolist())
        assert r['clip_len'] == 16 and r['num_clips'] == 1
        assert r['frame_interval'] is None
    assert len(seen) > 35  # genuinely random over the whole video
    # shorter than clip_len: every frame at least once, sorted
    inds = t(dict(total_frames=10))['frame_inds']
    assert set(inds) == set(range(10)) and (np.diff(inds) >= 0).all()


def test_segment_and_test_sampling():
    np.random.seed(1)
    t = build(dict(type='MultiModalSampleFrames', clip_len=8,
                   train_sampling='segment'))
    for _ in range(20):
        inds = t(dict(total_frames=40))['frame_inds']
        assert ((inds // 5) == np.arange(8)).all()  # one per 5-frame segment
    t = build(dict(type='MultiModalSampleFrames', clip_len=8, num_clips=2,
                   test_mode=True))
    r = t(dict(total_frames=40))
    assert r['frame_inds'].shape == (16, )
    c0, c1 = r['frame_inds'].reshape(2, 8)
    assert (c0 == np.arange(8) * 5 + 1).all()  # offsets 0.25 and 0.75
    assert (c1 == np.arange(8) * 5 + 3).all()
    assert (t(dict(total_frames=40))['frame_inds'] == r['frame_inds']).all()
    single = build(dict(type='MultiModalSampleFrames', clip_len=4,
                        test_mode=True))(dict(total_frames=8))
    assert single['frame_inds'].tolist() == [1, 3, 5, 7]
    short = build(dict(type='MultiModalSampleFrames', clip_len=8,
                       test_mode=True))(dict(total_frames=3))
    assert short['frame_inds'].max() == 2 and (np.diff(
        short['frame_inds']) >= 0).all()
    with pytest.raises(ValueError):
        build(dict(type='MultiModalSampleFrames', train_sampling='dense'))


def test_modality_clip_len_every_kth():
    t = build(dict(type='MultiModalSampleFrames',
                   modality_clip_len=dict(pose=48, rgb=16), num_clips=2))
    r = t(dict(total_frames=100))
    assert r['clip_len'] == 48 and r['frame_inds'].shape == (96, )
    full = r['frame_inds'].reshape(2, 48)
    assert (r['pose_inds'] == r['frame_inds']).all()
    assert (r['rgb_inds'].reshape(2, 16) == full[:, ::3]).all()
    assert r['rgb_clip_len'] == 16 and r['pose_clip_len'] == 48
    with pytest.raises(ValueError, match='divide'):
        build(dict(type='MultiModalSampleFrames',
                   modality_clip_len=dict(pose=48, rgb=20)))


# ------------------------------------------------------------- decoding
@pytest.fixture
def infos(tmp_path):
    root = str(tmp_path / 'raw')
    annos = make_raw(root, num_samples=1, total=12,
                     num_frames=dict(depth=6, ir=24))
    ann = write_ann(tmp_path / 'a.pkl', annos, raw_root=root)
    ds = DATASETS.build(dict(type='MultiModalActionDataset', ann_file=ann,
                             modalities=('rgb', 'depth', 'ir', 'pose'),
                             pipeline=[]))
    return ds.get_data_info(0)


def test_decode_values_shapes_and_mapping(infos):
    r = dict(infos, frame_inds=np.array([0, 3, 3, 11]))
    r = build(dict(type='MultiModalDecode'))(r)
    rgb, depth, ir = r['rgb_imgs'], r['depth_imgs'], r['ir_imgs']
    assert len(rgb) == len(depth) == len(ir) == 4
    assert rgb[0].shape == RGB_HW + (3, ) and rgb[0].dtype == np.uint8
    assert ir[0].shape == DEPTH_HW and ir[0].dtype == np.uint8
    assert depth[0].shape == DEPTH_HW and depth[0].dtype == np.uint16
    assert r['rgb_img_shape'] == RGB_HW == r['rgb_original_shape']
    assert r['depth_img_shape'] == DEPTH_HW == r['ir_img_shape']
    # rgb: same clock; depth: 6 frames -> i * 6 // 12; ir: 24 -> i * 2
    for j, i in enumerate([0, 3, 3, 11]):
        assert abs(int(np.median(rgb[j][:, 20:])) - rgb_value(i)) <= 3
        assert depth[j][-1, 0] == depth_value(i * 6 // 12)
        assert abs(int(np.median(ir[j])) - ir_value(i * 2)) <= 3
    assert (rgb[1] == rgb[2]).all()
    # pose: keypoints sliced on the shared clock
    assert r['keypoint'].shape == (1, 4, 17, 2)
    assert r['keypoint'][0, :, 0, 0].tolist() == [10, 13, 13, 21]
    assert r['keypoint_score'].shape == (1, 4, 17)
    assert r['keypoint_3d'].shape == (1, 4, 25, 3)


def test_decode_each_frame_once(infos, monkeypatch):
    import cv2
    import decord
    calls = dict(png=0, batch=[])
    real_imdecode, real_get_batch = cv2.imdecode, decord.VideoReader.get_batch

    def imdecode(*a, **k):
        calls['png'] += 1
        return real_imdecode(*a, **k)

    def get_batch(self, inds):
        calls['batch'].append(list(inds))
        return real_get_batch(self, inds)

    monkeypatch.setattr(cv2, 'imdecode', imdecode)
    monkeypatch.setattr(decord.VideoReader, 'get_batch', get_batch)
    r = dict(infos, modalities=['rgb', 'depth'],
             frame_inds=np.array([2, 2, 2, 5, 5]))
    r = build(dict(type='MultiModalDecode'))(r)
    assert len(r['rgb_imgs']) == 5 and len(r['depth_imgs']) == 5
    assert calls['batch'] == [[2, 5]]
    assert calls['png'] == 2  # depth frames 1 and 2 (6 of 12)


def test_decode_per_modality_inds(infos):
    r = dict(infos, modalities=['rgb', 'pose'],
             frame_inds=np.arange(0, 12, 2), rgb_inds=np.array([0, 6]))
    r = build(dict(type='MultiModalDecode'))(r)
    assert len(r['rgb_imgs']) == 2 and r['keypoint'].shape[1] == 6


# ----------------------------------------------------------------- jet
def test_depth_to_jet_matches_matplotlib():
    import matplotlib
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 65535, size=(3, 17, 23), dtype=np.uint16)
    frames[1] = rng.integers(300, 4500, size=(17, 23))
    r = build(dict(type='DepthToJet', modalities=('depth', )))(
        dict(depth_imgs=list(frames)))
    out = np.stack(r['depth_imgs'])
    assert out.shape == (3, 17, 23, 3) and out.dtype == np.uint8
    cmap = matplotlib.colormaps['jet']
    assert cmap.N == 256
    for t in range(3):
        f = frames[t].astype(np.float64)
        norm = (f - f.min()) / (f.max() - f.min())
        ref = cmap(norm, bytes=True)[..., :3]
        assert (out[t] == ref).all()
    # a constant frame (e.g. an empty masked depth frame) -> first colour
    r = build(dict(type='DepthToJet'))(
        dict(depth_imgs=[np.full((4, 5), 7, np.uint16)],
             ir_imgs=[np.zeros((4, 5), np.uint8)]))
    first = cmap(0.0, bytes=True)[:3]
    assert (r['depth_imgs'][0] == first).all()
    assert (r['ir_imgs'][0] == first).all()


# ---------------------------------------------------- modality transforms
def _clip(value, hw=(30, 40), t=4, gray=False):
    shape = hw if gray else hw + (3, )
    imgs = []
    for _ in range(t):
        img = np.zeros(shape, np.uint8)
        img[:, : hw[1] // 2] = value  # left half bright: flip is visible
        imgs.append(img)
    return imgs


def _results(hw_depth=(30, 40)):
    return dict(frame_dir='x', modality='RGB', modalities=['rgb', 'depth'],
                num_clips=1, clip_len=4, label=0,
                rgb_imgs=_clip(200), rgb_img_shape=(30, 40),
                depth_imgs=_clip(100, hw_depth), depth_img_shape=hw_depth)


SPATIAL = [
    dict(type='RandomCrop', size=20),
    dict(type='Flip', flip_ratio=0.5),
]


def test_shared_random_state_flips_and_crops_agree():
    t = build(dict(type='ModalityTransforms', modalities=('rgb', 'depth'),
                   transforms=SPATIAL))
    np.random.seed(3)
    flips = []
    for _ in range(20):
        r = t(_results())
        assert r['rgb_flip'] == r['depth_flip']
        assert (r['rgb_crop_bbox'] == r['depth_crop_bbox']).all()
        flips.append(bool(r['rgb_flip']))
        # same layout in both inputs -> same bright/dark pattern after
        # the shared crop and flip
        rgb, depth = r['rgb_imgs'][0], r['depth_imgs'][0]
        assert rgb.shape[:2] == depth.shape[:2] == (20, 20)
        assert ((rgb[..., 0] > 0) == (depth[..., 0] > 0)).all()
        # no leaks: shared keys untouched, state only under prefixes
        for k in ('flip', 'flip_direction', 'crop_bbox', 'img_shape',
                  'imgs', 'crop_quadruple'):
            assert k not in r
        assert r['rgb_img_shape'] == (20, 20) == r['depth_img_shape']
    assert 0 < sum(flips) < 20


def test_independent_random_state():
    t = build(dict(type='ModalityTransforms', modalities=('rgb', 'depth'),
                   transforms=SPATIAL, share_random_state=False))
    np.random.seed(4)
    agree = []
    for _ in range(30):
        r = t(_results())
        agree.append(r['rgb_flip'] == r['depth_flip'])
    assert not all(agree)


def test_global_rng_restored_and_advanced():
    t = build(dict(type='ModalityTransforms', modalities=('rgb', 'depth'),
                   transforms=SPATIAL))
    np.random.seed(5)
    random.seed(5)
    t(_results())
    a = (np.random.rand(), random.random())
    t(_results())
    b = (np.random.rand(), random.random())
    assert a != b  # not re-seeded to a constant
    np.random.seed(5)
    random.seed(5)
    np.random.randint(0, 2**31 - 1)  # the one per-clip draw
    assert np.random.rand() == a[0] and random.random() == a[1]


def test_per_modality_pipelines_and_colour_jitter_rgb_only():
    t = build(dict(
        type='ModalityTransforms',
        transforms=dict(
            rgb=SPATIAL + [dict(type='ColorJitter'),
                           dict(type='FormatShape', input_format='NCTHW')],
            depth=SPATIAL + [dict(type='FormatShape',
                                  input_format='NCTHW')])))
    np.random.seed(6)
    for _ in range(5):
        r = _results()
        depth_before = r['depth_imgs'][0].copy()
        r = t(r)
        assert r['rgb_flip'] == r['depth_flip']
        assert r['rgb_imgs'].shape == (1, 3, 4, 20, 20)
        assert r['rgb_input_shape'] == (1, 3, 4, 20, 20)
        d = r['depth_imgs'][0, :, 0]  # C x H x W of frame 0
        # depth values untouched by jitter: only the original 0/100 levels
        assert set(np.unique(d)) <= set(np.unique(depth_before))
        assert 'input_shape' not in r


def test_keypoints_follow_their_modality():
    t = build(dict(type='ModalityTransforms', modalities=('rgb', 'depth'),
                   keypoint_modality='rgb',
                   transforms=[dict(type='Flip', flip_ratio=1.0)]))
    r = _results()
    r['keypoint'] = np.full((1, 4, 17, 2), 5, np.float32)
    r['keypoint_score'] = np.ones((1, 4, 17), np.float32)
    r['img_shape'] = (30, 40)
    r = t(r)
    assert (r['keypoint'][..., 0] == 40 - 5).all()
    assert r['rgb_flip'] and r['depth_flip']


def test_missing_modality_images_is_an_error():
    t = build(dict(type='ModalityTransforms', modalities=('rgb', 'ir'),
                   transforms=SPATIAL))
    with pytest.raises(KeyError, match='ir_imgs'):
        t(_results())


def test_pack_multimodal_inputs_collects_present_modalities():
    import mmar_ext  # noqa: F401
    from mmar_ext.datasets import PackMultiModalInputs
    clip = np.zeros((1, 3, 2, 4, 4), np.float32)
    packed = PackMultiModalInputs()(dict(
        frame_dir='S001C001P001R001A001', modalities=['rgb', 'depth'],
        rgb_imgs=clip, depth_imgs=clip + 1, label=3))
    assert set(packed['inputs']) == {'rgb_imgs', 'depth_imgs'}
    assert packed['inputs']['depth_imgs'].shape == (1, 3, 2, 4, 4)
    assert packed['data_samples'].gt_label.item() == 3
    # pose is packed only when rendered; extra keys on request
    packed = PackMultiModalInputs(extra_keys=('roi_imgs', ))(dict(
        frame_dir='S001C001P001R001A001', modalities=['rgb', 'pose'],
        rgb_imgs=clip, roi_imgs=clip, label=0))
    assert set(packed['inputs']) == {'rgb_imgs', 'roi_imgs'}
    packed = PackMultiModalInputs()(dict(
        frame_dir='S001C001P001R001A001', modalities=['rgb', 'pose'],
        rgb_imgs=clip, pose_imgs=clip, label=0))
    assert set(packed['inputs']) == {'rgb_imgs', 'pose_imgs'}
    with pytest.raises(KeyError, match='S001C001P001R001A001.*ir_imgs'):
        PackMultiModalInputs()(dict(
            frame_dir='S001C001P001R001A001', modalities=['rgb', 'ir'],
            rgb_imgs=clip, label=0))
