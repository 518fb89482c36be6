"""The NW-UCLA converter (``data_prep.nwucla.build_annotations``) on a tiny
raw tree in the real file layout: ``view_<v>/aAA_sSS_eEE/`` with per-frame
``frame_<n>_tc_<t>_{rgb.jpg,depth.png,depth_vis.jpg,skeletons.txt}``, frame
numbers not zero-padded, the timestamps of one frame differing between
modalities. Labels, splits, numeric frame order, modality pairing, joints,
the decode of the frames through ``MultiModalDecode``, bad input (a
skeleton with 19 joints, a clip missing frames of a modality, an unknown
action, ``--skip-bad``), and one training iteration of both NW-UCLA configs
(M-Mixer, ActionMAE) on the converter's output, shrunk to tiny crops."""
import os
import os.path as osp
import pickle
import re

import cv2
import numpy as np
import pytest
import torch
from e2e_helpers import ROOT

from data_prep.common import AnnotationBuildError, FrameCountMismatchError
from data_prep.nwucla.build_annotations import (ACTIONS, CLASS_NAMES,
                                                build_annotations, main)

pytestmark = pytest.mark.timeout(300)

RGB_SIZE = (64, 48)  # (W, H)
DEPTH_SIZE = (32, 24)
#: clip folder -> its frame numbers (good tree); a02 in view 2 lacks depth
#: frame 7 (within the tolerance: dropped)
CLIPS = {
    'view_1/a01_s01_e00': [8, 9, 10, 11],
    'view_1/a12_s02_e01': [1, 2, 3],
    'view_2/a08_s01_e00': [3, 4, 5, 6, 7],
    'view_3/a01_s03_e02': [9, 10, 11],
    'view_3/a11_s01_e00': [1, 2, 3, 4],
}
MISSING = {'view_2/a08_s01_e00': {'depth': [7]}}


# --------------------------------------------------------------------------
# The raw tree, in NW-UCLA's formats
# --------------------------------------------------------------------------
def rgb_value(n):
    """Red channel of RGB frame ``n`` (green 60, blue 200)."""
    return 10 * n


def depth_value(n):
    return 1000 + n


def vis_value(n):
    return 5 * n


def joints(n):
    """``(xyz [20, 3], state [20])`` of frame ``n``."""
    j = np.arange(20)
    xyz = np.stack([n + j / 100, -j / 10, 3 + n / 10 + 0 * j], 1)
    return xyz, j % 3


def skeleton_text(n, num_joints=20):
    xyz, state = joints(n)
    lines = ['60'] + [f'{x:.4f},{y:.4f},{z:.4f},{s}'
                      for (x, y, z), s in zip(xyz, state)][:num_joints]
    return '\n'.join(lines) + '\n'


def write_clip(root, folder, frames, missing=None, num_joints=None):
    """Writes a clip folder; ``missing``: {kind: frame numbers without a
    file}; ``num_joints``: {frame number: joint lines of its skeleton}."""
    path = osp.join(root, 'multiview_action', folder)
    os.makedirs(path)
    missing = missing or {}
    rgb = np.empty((RGB_SIZE[1], RGB_SIZE[0], 3), np.uint8)
    for n in frames:
        tc = 90467319 + 33 * n  # the RGB camera's timestamp
        tc_depth = tc + 32  # depth and skeleton: another one
        if n not in missing.get('rgb', ()):
            rgb[:] = (200, 60, rgb_value(n))  # BGR
            cv2.imwrite(osp.join(path, f'frame_{n}_tc_{tc}_rgb.jpg'), rgb,
                        [cv2.IMWRITE_JPEG_QUALITY, 100])
        if n not in missing.get('depth', ()):
            depth = np.full(DEPTH_SIZE[::-1], depth_value(n), np.uint16)
            cv2.imwrite(osp.join(path, f'frame_{n}_tc_{tc_depth}_depth.png'),
                        depth)
            vis = np.full(DEPTH_SIZE[::-1] + (3, ), vis_value(n), np.uint8)
            cv2.imwrite(
                osp.join(path, f'frame_{n}_tc_{tc_depth}_depth_vis.jpg'), vis,
                [cv2.IMWRITE_JPEG_QUALITY, 100])
        if n not in missing.get('skeleton', ()):
            with open(osp.join(path, f'frame_{n}_tc_{tc_depth}_skeletons.txt'),
                      'w') as f:
                f.write(skeleton_text(n, (num_joints or {}).get(n, 20)))
    return path


@pytest.fixture(scope='module')
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp('nwucla') / 'raw'
    for folder, frames in CLIPS.items():
        write_clip(root, folder, frames, MISSING.get(folder))
    with open(osp.join(root, 'multiview_action', 'view_2', 'a08_s01_e00',
                       'fileList.txt'), 'w') as f:
        f.write('3 4 5 6 7\n')  # columns unknown; ignored
    return root


@pytest.fixture(scope='module')
def built(raw, tmp_path_factory):
    """The converter run once through its command line (2 workers, a
    cache)."""
    work = tmp_path_factory.mktemp('nwucla_out')
    out = work / 'nwucla_annotations.pkl'
    assert main(['--raw-root', str(raw), '--out', str(out), '--num-workers',
                 '2', '--cache-dir', str(work / 'cache')]) == 0
    with open(out, 'rb') as f:
        data = pickle.load(f)
    return dict(data=data, ann=str(out), cache=work / 'cache',
                anns={a['frame_dir']: a for a in data['annotations']})


# --------------------------------------------------------------------------
# The annotation
# --------------------------------------------------------------------------
def test_labels_splits_and_meta(raw, built):
    data, anns = built['data'], built['anns']
    assert sorted(anns) == ['a01_s01_e00_v01', 'a01_s03_e02_v03',
                            'a08_s01_e00_v02', 'a11_s01_e00_v03',
                            'a12_s02_e01_v01']
    labels = {name: ann['label'] for name, ann in anns.items()}
    assert labels == {'a01_s01_e00_v01': 0, 'a01_s03_e02_v03': 0,
                      'a08_s01_e00_v02': 6, 'a11_s01_e00_v03': 8,
                      'a12_s02_e01_v01': 9}
    assert [ACTIONS.index(a) for a in (1, 8, 11, 12)] == [0, 6, 8, 9]
    assert data['split'] == {
        'xview_train': ['a01_s01_e00_v01', 'a08_s01_e00_v02',
                        'a12_s02_e01_v01'],
        'xview_val': ['a01_s03_e02_v03', 'a11_s01_e00_v03'],
        'view_1': ['a01_s01_e00_v01', 'a12_s02_e01_v01'],
        'view_2': ['a08_s01_e00_v02'],
        'view_3': ['a01_s03_e02_v03', 'a11_s01_e00_v03']}
    meta = data['meta']
    assert meta['dataset'] == 'nwucla'
    assert meta['raw_root'] == str(raw / 'multiview_action')
    assert meta['class_names'] == list(CLASS_NAMES)
    assert meta['class_names'][9] == 'carry' and len(CLASS_NAMES) == 10
    assert meta['modalities'] == ['rgb', 'depth']
    assert meta['keypoint_layouts'] == {'keypoint_3d': 'kinect_v1_20'}
    assert meta['keypoint_source'] is None
    assert meta['depth_source'] == 'png'
    assert meta['depth_format'] == {'uint16, 1 channel': 5}
    assert meta['skipped'] == {}
    summary = meta['summary']
    assert (summary['found'], summary['kept']) == (5, 5)
    assert summary['views'] == {1: 2, 2: 1, 3: 2}
    assert summary['lacking'] == dict(rgb=0, depth=0, skeleton=0)
    assert summary['dropped_frames'] == dict(
        samples=1, files=dict(rgb=1, depth=0, skeleton=1))
    for ann in anns.values():
        assert 'keypoint' not in ann  # NW-UCLA has no 2D pixel keypoints


def test_frames_sorted_numerically_and_paired_by_number(built):
    ann = built['anns']['a01_s01_e00_v01']
    assert ann['total_frames'] == 4
    assert ann['num_frames'] == dict(rgb=4, depth=4)
    assert ann['rgb_path'] == ann['depth_path'] == 'view_1/a01_s01_e00'
    numbers = [int(re.match(r'frame_(\d+)_', f).group(1))
               for f in ann['rgb_frames']]
    assert numbers == [8, 9, 10, 11]  # not 10, 11, 8, 9
    for n, rgb, depth in zip(numbers, ann['rgb_frames'],
                             ann['depth_frames']):
        assert rgb == f'frame_{n}_tc_{90467319 + 33 * n}_rgb.jpg'
        assert depth == f'frame_{n}_tc_{90467351 + 33 * n}_depth.png'
    assert ann['img_shape'] == ann['original_shape'] == (48, 64)
    assert ann['modality_shapes'] == dict(rgb=(48, 64), depth=(24, 32))
    assert 'dropped_frames' not in ann
    # depth lacks frame 7: dropped from every modality, and recorded
    ann = built['anns']['a08_s01_e00_v02']
    assert ann['total_frames'] == 4
    assert [f.split('_')[1] for f in ann['depth_frames']] == \
        ['3', '4', '5', '6']
    assert ann['rgb_frames'][-1].startswith('frame_6_')
    assert ann['keypoint_3d'].shape == (1, 4, 20, 3)
    assert ann['dropped_frames'] == dict(rgb=1, depth=0, skeleton=1)


def test_joints_and_scores(built):
    ann = built['anns']['a01_s03_e02_v03']
    kp, score = ann['keypoint_3d'], ann['keypoint_3d_score']
    assert kp.dtype == score.dtype == np.float32
    assert kp.shape == (1, 3, 20, 3) and score.shape == (1, 3, 20)
    for t, n in enumerate([9, 10, 11]):
        xyz, state = joints(n)
        np.testing.assert_allclose(kp[0, t], xyz, atol=1e-4)
        # state 2 tracked -> 1, 1 inferred -> 0.5, 0 -> 0
        np.testing.assert_array_equal(score[0, t],
                                      np.array([0, 0.5, 1])[state])


def _dataset(ann_file, modalities=('rgb', 'depth', 'skeleton'), split=None):
    from mmengine.registry import init_default_scope

    import mmar_ext  # noqa: F401
    from mmaction.registry import DATASETS
    init_default_scope('mmaction')
    return DATASETS.build(dict(type='MultiModalActionDataset',
                               ann_file=ann_file, modalities=modalities,
                               split=split, pipeline=[], num_classes=10))


def _decode(info):
    from mmar_ext.datasets.transforms.decoding import MultiModalDecode
    results = dict(info, frame_inds=np.arange(info['total_frames']),
                   modalities=['rgb', 'depth'])
    return MultiModalDecode().transform(results)


def test_multimodal_decode_reads_the_right_frames(built):
    dataset = _dataset(built['ann'])
    infos = {dataset.get_data_info(i)['frame_dir']: dataset.get_data_info(i)
             for i in range(len(dataset))}
    for name, frames in (('a01_s01_e00_v01', [8, 9, 10, 11]),
                         ('a08_s01_e00_v02', [3, 4, 5, 6])):
        results = _decode(infos[name])
        assert len(results['rgb_imgs']) == len(frames)
        for n, rgb, depth in zip(frames, results['rgb_imgs'],
                                 results['depth_imgs']):
            assert rgb.shape == (48, 64, 3) and depth.shape == (24, 32)
            assert abs(int(rgb[..., 0].mean()) - rgb_value(n)) <= 2  # RGB
            assert abs(int(rgb[..., 2].mean()) - 200) <= 2
            assert depth.dtype == np.uint16
            assert (depth == depth_value(n)).all()
    # the pre-flight check finds every file the annotation names
    from mmar_ext.datasets.data_check import check_dataset
    assert check_dataset(dataset, full_decode=True, workers=0,
                         progress=False) == []


def test_depth_vis_source_and_cache(raw, built, tmp_path):
    out = tmp_path / 'vis.pkl'
    data = build_annotations(raw / 'multiview_action', out,
                             depth_source='vis', num_workers=0,
                             modalities=('rgb', 'depth'))
    ann = {a['frame_dir']: a for a in data['annotations']}['a01_s01_e00_v01']
    assert ann['depth_frames'][0] == f'frame_8_tc_{90467351 + 264}' \
        '_depth_vis.jpg'
    assert 'keypoint_3d' not in ann
    assert data['meta']['depth_format'] == {'uint8, 3 channels': 5}
    assert data['meta']['keypoint_layouts'] == {}
    info = _dataset(str(out), ('rgb', 'depth'),
                    split='xview_train').get_data_info(0)
    depth = _decode(info)['depth_imgs']
    assert [abs(int(d.mean()) - vis_value(n)) <= 2
            for d, n in zip(depth, [8, 9, 10, 11])] == [True] * 4
    # a second run of the CLI's build from its cache gives the same pkl
    again = build_annotations(raw, tmp_path / 'again.pkl', num_workers=0,
                              cache_dir=built['cache'])
    for a, b in zip(again['annotations'], built['data']['annotations']):
        assert a.keys() == b.keys() and a['rgb_frames'] == b['rgb_frames']
        np.testing.assert_array_equal(a['keypoint_3d'], b['keypoint_3d'])
    assert sorted(os.listdir(built['cache'])) == sorted(
        f'{name}.pkl' for name in built['anns'])


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------
def test_skeleton_with_19_joints_is_an_error_naming_the_file(tmp_path):
    write_clip(tmp_path, 'view_1/a01_s01_e00', [8, 9, 10],
               num_joints={9: 19})
    with pytest.raises(AnnotationBuildError) as error:
        build_annotations(tmp_path, tmp_path / 'out.pkl', num_workers=0)
    message = str(error.value)
    assert 'a01_s01_e00_v01' in message and '19 joint lines' in message
    assert re.search(r'view_1/a01_s01_e00/frame_9_tc_\d+_skeletons\.txt',
                     message), message
    assert not (tmp_path / 'out.pkl').exists()


def test_clip_missing_frames_of_a_modality(tmp_path):
    # 3 of 8 depth frames missing: beyond max(2, 5%) -> bad sample
    write_clip(tmp_path, 'view_2/a03_s04_e01', list(range(1, 9)),
               missing={'depth': [2, 5, 6]})
    with pytest.raises(FrameCountMismatchError) as error:
        build_annotations(tmp_path, tmp_path / 'out.pkl', num_workers=0)
    message = str(error.value)
    assert 'a03_s04_e01_v02' in message and 'view_2/a03_s04_e01' in message
    assert 'depth lacks 3 (frame_2, frame_5, frame_6)' in message, message
    # the tolerance is an option
    data = build_annotations(tmp_path, tmp_path / 'out.pkl', num_workers=0,
                             frame_tolerance=3)
    ann = data['annotations'][0]
    assert ann['total_frames'] == 5
    assert ann['dropped_frames'] == dict(rgb=3, depth=0, skeleton=3)
    # a clip without any depth frame lacks the modality (no depth_path),
    # counted; the dataset's missing_modality decides
    write_clip(tmp_path, 'view_3/a04_s01_e00', [1, 2, 3],
               missing={'depth': [1, 2, 3]})
    data = build_annotations(tmp_path, tmp_path / 'out.pkl', num_workers=0,
                             frame_tolerance=3)
    ann = {a['frame_dir']: a for a in data['annotations']}['a04_s01_e00_v03']
    assert 'depth_path' not in ann and ann['num_frames'] == dict(rgb=3)
    assert data['meta']['summary']['lacking'] == dict(rgb=0, depth=1,
                                                      skeleton=0)


def test_skip_bad_counts_and_reports(tmp_path, capsys):
    write_clip(tmp_path, 'view_1/a01_s01_e00', [8, 9, 10],
               num_joints={10: 19})
    write_clip(tmp_path, 'view_2/a03_s04_e01', list(range(1, 9)),
               missing={'rgb': [2, 5, 6]})
    write_clip(tmp_path, 'view_3/a07_s01_e00', [1, 2])  # no action 07
    write_clip(tmp_path, 'view_3/a05_s02_e00', [9, 10, 11])
    out = tmp_path / 'out.pkl'
    assert main(['--raw-root', str(tmp_path), '--out', str(out),
                 '--num-workers', '0']) == 1
    assert 'error: sample a01_s01_e00_v01' in capsys.readouterr().err
    assert not out.exists()
    assert main(['--raw-root', str(tmp_path), '--out', str(out),
                 '--num-workers', '0', '--skip-bad']) == 0
    with open(out, 'rb') as f:
        data = pickle.load(f)
    skipped = data['meta']['skipped']
    assert sorted(skipped) == ['a01_s01_e00_v01', 'a03_s04_e01_v02',
                               'a07_s01_e00_v03']
    assert 'skeletons.txt: 19 joint lines' in skipped['a01_s01_e00_v01']
    assert 'rgb lacks 3' in skipped['a03_s04_e01_v02']
    assert 'action 07 is not an NW-UCLA class' in skipped['a07_s01_e00_v03']
    summary = data['meta']['summary']
    assert (summary['found'], summary['kept'],
            summary['left_out']) == (4, 1, dict(bad=3))
    assert data['split']['xview_train'] == []
    assert data['split']['xview_val'] == ['a05_s02_e00_v03']


# --------------------------------------------------------------------------
# One training iteration of each NW-UCLA config on the converter's output
# --------------------------------------------------------------------------
#: crop / resize sizes of the configs -> tiny ones
SIZES = {224: 64, 256: 72, 268: 72}


def _shrink(node):
    """The pipeline with tiny crops, 4-frame clips (ActionMAE's sampler)
    and consecutive frames (M-Mixer keeps its 12 frames: CFEM needs 10)."""
    if isinstance(node, (list, tuple)):
        return [_shrink(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _shrink(value) for key, value in node.items()}
    for key in ('scale', 'crop_size', 'size'):
        value = node.get(key)
        if isinstance(value, int):
            node[key] = SIZES.get(value, value)
        elif isinstance(value, (list, tuple)):
            node[key] = tuple(SIZES.get(v, v) for v in value)
    if node.get('type') == 'MultiModalSampleFrames':
        node['clip_len'] = 4
    if node.get('type') == 'SampleFrames':
        node['frame_interval'] = 1
    return node


@pytest.mark.parametrize('config', [
    'configs/m_mixer_nwucla_xview_rgb-depth.py',
    'configs/actionmae_nwucla_xview_rgb-depth.py'])
def test_one_training_iteration_of_the_nwucla_configs(config, built):
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    import mmar_ext  # noqa: F401
    from mmaction.registry import DATASETS, MODELS
    init_default_scope('mmaction')
    cfg = Config.fromfile(osp.join(ROOT, config))
    assert cfg.train_dataloader.dataset.split == 'xview_train'
    assert cfg.val_dataloader.dataset.split == 'xview_val'
    for enc in cfg.model.backbone.values():
        enc.space_encoder.pretrained = None  # no downloads
    if cfg.model.neck.type == 'MMixer':  # 2x2 maps of the 64x64 crops
        cfg.merge_from_dict({'model.neck.cfem.num_tokens': 4})
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    datasets = {}
    for split in ('train', 'val'):
        d = cfg[f'{split}_dataloader'].dataset.to_dict()
        d.update(ann_file=built['ann'], data_root=None,
                 pipeline=_shrink(d['pipeline']))
        datasets[split] = DATASETS.build(d)
    assert len(datasets['train']) == 3 and len(datasets['val']) == 2
    batch = pseudo_collate([datasets['train'][i] for i in range(2)])
    clip = batch['inputs']['rgb_imgs'][0].shape
    assert clip[-2:] == (64, 64) and clip[2] in (4, 12), clip
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    model.train()
    log_vars = model.train_step(batch, optim_wrapper)
    assert torch.isfinite(log_vars['loss'])
    model.eval()
    with torch.no_grad():
        out = model.val_step(pseudo_collate([datasets['val'][0]]))
    assert tuple(out[0].pred_score.shape) == (10, )
