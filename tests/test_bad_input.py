"""Bad raw data and annotations fail loudly, naming the sample and the file.

Never a silent black frame (DESIGN.md, "Pipeline principles").
"""
import os
import os.path as osp
import sys

import numpy as np
import pytest

import mmar_ext  # noqa: F401  (compat fixes + registration, before mmaction)
from mmaction.registry import DATASETS  # noqa: E402

sys.path.insert(0, osp.dirname(__file__))
from test_multimodal_dataset import make_raw, sample_name, write_ann  # noqa

PIPELINE = [
    dict(type='MultiModalSampleFrames', clip_len=8, test_mode=True),
    dict(type='MultiModalDecode'),
]


def _dataset(tmp_path, annos, **kwargs):
    ann = write_ann(tmp_path / 'ann.pkl', annos, raw_root=str(tmp_path /
                                                               'raw'))
    cfg = dict(type='MultiModalActionDataset', ann_file=ann,
               modalities=('rgb', 'depth', 'ir'), pipeline=PIPELINE)
    cfg.update(kwargs)
    return DATASETS.build(cfg), ann


@pytest.fixture
def raw(tmp_path):
    return str(tmp_path / 'raw'), make_raw(str(tmp_path / 'raw'),
                                           num_samples=2, total=10)


def _assert_names(excinfo, *parts):
    msg = str(excinfo.value)
    for p in parts:
        assert p in msg, f'{p!r} not in {msg!r}'


@pytest.mark.parametrize('modality', ['rgb', 'ir'])
def test_missing_video_file(tmp_path, raw, modality):
    root, annos = raw
    path = osp.join(root, annos[0][f'{modality}_path'])
    os.remove(path)
    ds, _ = _dataset(tmp_path, annos)
    with pytest.raises(FileNotFoundError) as e:
        ds[0]
    _assert_names(e, annos[0]['frame_dir'], path)


def test_missing_depth_folder(tmp_path, raw):
    import shutil
    root, annos = raw
    path = osp.join(root, annos[1]['depth_path'])
    shutil.rmtree(path)
    ds, _ = _dataset(tmp_path, annos)
    with pytest.raises(FileNotFoundError) as e:
        ds[1]
    _assert_names(e, annos[1]['frame_dir'], path)


def test_depth_folder_missing_a_frame(tmp_path, raw):
    root, annos = raw
    path = osp.join(root, annos[0]['depth_path'], 'MDepth-00000004.png')
    os.remove(path)
    ds, _ = _dataset(tmp_path, annos, modalities=('depth', ))
    with pytest.raises(FileNotFoundError) as e:
        ds[0]  # uniform 8 of 10 frames includes frame index 3
    _assert_names(e, annos[0]['frame_dir'], path)


def test_unreadable_depth_png(tmp_path, raw):
    root, annos = raw
    path = osp.join(root, annos[0]['depth_path'], 'MDepth-00000002.png')
    with open(path, 'wb') as f:
        f.write(b'not a png at all')
    ds, _ = _dataset(tmp_path, annos, modalities=('depth', ))
    with pytest.raises(IOError) as e:
        ds[0]
    _assert_names(e, annos[0]['frame_dir'], path)


def test_garbage_video(tmp_path, raw):
    root, annos = raw
    path = osp.join(root, annos[0]['rgb_path'])
    with open(path, 'wb') as f:
        f.write(np.random.default_rng(0).bytes(4096))
    ds, _ = _dataset(tmp_path, annos, modalities=('rgb', ))
    with pytest.raises(IOError) as e:
        ds[0]
    _assert_names(e, annos[0]['frame_dir'], path)


@pytest.mark.parametrize('keep', [0.5, 0.75, 0.95])
def test_truncated_video(tmp_path, raw, keep):
    """Cut at different points: the container cannot be opened, holds
    fewer frames than the annotation, or fails on a requested frame."""
    root, annos = raw
    path = osp.join(root, annos[1]['ir_path'])
    size = osp.getsize(path)
    with open(path, 'r+b') as f:
        f.truncate(int(size * keep))
    ds, _ = _dataset(tmp_path, annos, modalities=('ir', ))
    with pytest.raises(IOError) as e:
        ds[1]
    _assert_names(e, annos[1]['frame_dir'], path)


def test_video_shorter_than_annotation(tmp_path, raw):
    root, annos = raw
    annos[0]['num_frames']['rgb'] = 30  # the file has 10
    ds, _ = _dataset(tmp_path, annos, modalities=('rgb', ))
    with pytest.raises(IOError) as e:
        ds[0]
    _assert_names(e, annos[0]['frame_dir'],
                  osp.join(root, annos[0]['rgb_path']), '30')


def test_label_outside_class_range(tmp_path, raw):
    _, annos = raw
    annos[1]['label'] = 5
    with pytest.raises(ValueError) as e:
        _dataset(tmp_path, annos, num_classes=5)
    _assert_names(e, annos[1]['frame_dir'], str(tmp_path / 'ann.pkl'), '5')
    annos[1]['label'] = -1
    with pytest.raises(ValueError) as e:
        _dataset(tmp_path, annos, num_classes=5)
    _assert_names(e, annos[1]['frame_dir'])


def test_missing_modality_path_error(tmp_path, raw):
    _, annos = raw
    del annos[1]['depth_path']
    with pytest.raises(KeyError) as e:
        _dataset(tmp_path, annos)
    _assert_names(e, annos[1]['frame_dir'], 'depth', str(tmp_path /
                                                         'ann.pkl'))
    # a modality that is not requested may be absent
    ds, _ = _dataset(tmp_path, annos, modalities=('rgb', 'ir'))
    assert len(ds) == 2


def test_missing_modality_path_skip(tmp_path, raw, monkeypatch):
    import mmar_ext.datasets.multimodal_dataset as mod
    logged = []
    monkeypatch.setattr(mod, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    _, annos = raw
    del annos[0]['ir_path']
    ds, ann = _dataset(tmp_path, annos, missing_modality='skip')
    assert len(ds) == 1 and ds.num_skipped == 1
    assert ds.get_data_info(0)['frame_dir'] == sample_name(1, 2)
    assert len(logged) == 1  # reported once, through MMEngine's logger
    msg, kw = logged[0]
    assert kw.get('logger') == 'current'
    assert 'skipped 1 of 2' in msg and ann in msg
    assert annos[0]['frame_dir'] in msg and 'ir' in msg


def test_missing_pose(tmp_path, raw):
    _, annos = raw
    del annos[0]['keypoint']
    with pytest.raises(KeyError) as e:
        _dataset(tmp_path, annos, modalities=('rgb', 'pose'))
    _assert_names(e, annos[0]['frame_dir'], 'pose')
