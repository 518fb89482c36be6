"""Bad input in EPAM-Net's pipeline (issue 8 §5): defined behaviour, and a
message naming the sample where something is wrong.

Run through the NTU120 configs' own pipelines (stage 2 and the stage-1 pose
stream) on the tiny synthetic set of ``tests/conftest.py``, with one
annotation altered:

* **No person in any frame** (all keypoint scores 0, or ``M = 0`` persons as
  the HRNet extraction writes when it finds nobody): the sample is kept;
  ``SkeletonBoxCrop`` uses the whole frame and logs a warning naming the
  sample; the pose stream gets an all-zero heatmap volume (the attention
  block then sees the pose features of an empty clip, the RGB stream is
  classified as usual).
* **A clip shorter than 48 frames**: no error and no message -- common in NTU
  RGB+D and in the synthetic set. The 48 indices are drawn as for a long
  clip (one per equal segment; the segment floors, so frames repeat, in
  order): at test time every frame is used, in training every frame while
  the clip has at most 24 (1 frame: 48 times); the RGB clip is every 3rd of
  them. (``total_frames < 1`` is rejected when the dataset loads.)
* **RGB and pose of different lengths**: ``total_frames`` is the skeleton
  clock the 48 indices are drawn on. A video with another frame count
  (``num_frames['rgb']``, recorded by the converters within their tolerance)
  is read at the same relative times, ``i * num_frames // total_frames``; a
  video with fewer decodable frames than the annotation says is an
  ``IOError`` naming the sample and the file; a keypoint array shorter than
  ``total_frames`` is an ``IndexError`` naming the sample once a missing
  frame is requested, and ``tools/analysis/check_data.py`` reports every
  such sample before training (``keypoint has N frames but total_frames is
  M``).
* **No pose annotation** (no ``keypoint``): every EPAM-Net config keeps
  ``pose`` in the dataset's modalities (the RGB stream needs the keypoints
  for its crop), so loading the dataset raises ``KeyError`` naming the
  sample and the annotation file; ``missing_modality='skip'`` drops such
  samples and logs how many.
"""
import copy
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from e2e_helpers import ROOT

import mmar_ext  # noqa: F401  (registration)
import mmar_ext.datasets.transforms.heatmap as heatmap_mod
from mmar_ext.datasets.data_check import pose_problems
from mmengine import Config
from mmengine.registry import init_default_scope
from mmaction.registry import DATASETS

STAGE2 = 'configs/epam_net_ntu120.py'
POSE = 'configs/epam_net_ntu120_pose.py'
RGB = 'configs/epam_net_ntu120_rgb.py'


@pytest.fixture
def warnings(monkeypatch):
    """Messages logged through the pose transforms' warning helper."""
    msgs = []
    monkeypatch.setattr(heatmap_mod, 'print_log',
                        lambda msg, **kwargs: msgs.append(msg))
    return msgs


@pytest.fixture(scope='module')
def ann_data(e2e_data):
    with open(e2e_data['ann'], 'rb') as f:
        return pickle.load(f)


def altered(ann_data, tmp_path, alter, split='xsub_val'):
    """A copy of the annotation whose first ``split`` sample is changed by
    ``alter(annotation)``; returns (pkl path, that sample's name)."""
    data = copy.deepcopy(ann_data)
    name = data['split'][split][0]
    ann = next(a for a in data['annotations'] if a['frame_dir'] == name)
    alter(ann)
    path = str(tmp_path / 'ann.pkl')
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return path, name


def dataset(config, ann_file, e2e_data, split='test', **kwargs):
    init_default_scope('mmaction')
    cfg = Config.fromfile(osp.join(ROOT, config))
    d = copy.deepcopy(cfg[f'{split}_dataloader'].dataset)
    d.update(ann_file=ann_file, data_root=e2e_data['raw'], **kwargs)
    return DATASETS.build(d)


def run_steps(ds, name):
    """The pipeline up to packing, on sample ``name``: (results, packed)."""
    idx = next(i for i in range(len(ds))
               if ds.get_data_info(i)['frame_dir'] == name)
    results = ds.get_data_info(idx)
    for t in ds.pipeline.transforms[:-1]:
        results = t(results)
    return results, ds.pipeline.transforms[-1](copy.deepcopy(results))


# ------------------------------------------------------ no person at all
def _zero_scores(ann):
    ann['keypoint_score'][:] = 0


def _no_person(ann):
    t = ann['keypoint'].shape[1]
    ann['keypoint'] = np.zeros((0, t, 17, 2), np.float32)
    ann['keypoint_score'] = np.zeros((0, t, 17), np.float32)


@pytest.mark.parametrize('alter', [_zero_scores, _no_person])
@pytest.mark.parametrize('config', [STAGE2, POSE])
def test_no_person_in_any_frame(config, alter, ann_data, e2e_data, tmp_path,
                                warnings):
    ann_file, name = altered(ann_data, tmp_path, alter)
    ds = dataset(config, ann_file, e2e_data)
    results, packed = run_steps(ds, name)
    h, w = ann_data['annotations'][0]['img_shape']
    assert results['skeleton_box'].tolist() == [0, 0, w, h]
    assert results['skeleton_box_fallback'] is True
    assert any(name in m and 'no valid joint' in m and 'whole' in m
               for m in warnings), warnings
    inputs = packed['inputs']
    assert tuple(inputs['pose_imgs'].shape) == (1, 17, 48, 56, 56)
    assert not inputs['pose_imgs'].any()  # nobody: empty heatmaps
    if config == STAGE2:  # the whole frame, resized
        assert tuple(inputs['rgb_imgs'].shape) == (1, 3, 16, 224, 224)
        assert inputs['rgb_imgs'].float().std() > 0


def test_no_person_in_training(ann_data, e2e_data, tmp_path, warnings):
    """Training pipeline (random flip included) and the model's loss."""
    ann_file, name = altered(ann_data, tmp_path, _no_person, 'xsub_train')
    ds = dataset('configs/epam_net_synth.py', ann_file, e2e_data, 'train')
    idx = next(i for i in range(len(ds))
               if ds.get_data_info(i)['frame_dir'] == name)
    item = ds[idx]
    assert not item['inputs']['pose_imgs'].any()
    assert any(name in m for m in warnings)
    from mmaction.registry import MODELS
    from mmengine.dataset import pseudo_collate
    cfg = Config.fromfile(osp.join(ROOT, 'configs/epam_net_synth.py'))
    cfg.model.stream_checkpoints = None
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    batch = model.data_preprocessor(pseudo_collate([item, ds[0]]), True)
    losses = model(**batch, mode='loss')
    assert {'rgb_loss_cls', 'pose_loss_cls'} <= set(losses)
    assert all(torch.isfinite(v).all() for v in losses.values())


# ------------------------------------------------------------ short clip
def test_clip_shorter_than_48_frames(ann_data, e2e_data, warnings):
    """The synthetic clips have 12-16 frames: every frame, in order."""
    assert max(a['total_frames'] for a in ann_data['annotations']) < 48
    for split in ('train', 'test'):
        ds = dataset(STAGE2, e2e_data['ann'], e2e_data, split)
        results, packed = run_steps(ds, ds.get_data_info(0)['frame_dir'])
        total = results['total_frames']
        pose_inds, rgb_inds = results['pose_inds'], results['rgb_inds']
        assert len(pose_inds) == 48 and len(rgb_inds) == 16
        assert (np.diff(pose_inds) >= 0).all()
        assert set(pose_inds.tolist()) == set(range(total))
        assert rgb_inds.tolist() == pose_inds[::3].tolist()
        assert tuple(packed['inputs']['pose_imgs'].shape) == (1, 17, 48, 56,
                                                              56)
    assert not warnings


@pytest.mark.parametrize('total', [1, 2, 24, 47])
def test_very_short_clips_repeat_frames(total):
    """Test: every frame. Training: one draw in each of 48 segments shorter
    than a frame, sorted -- every frame while the segments are at most half
    a frame (``total <= 24``), else a few frames may be left out."""
    from mmaction.registry import TRANSFORMS
    for test_mode in (False, True):
        sampler = TRANSFORMS.build(
            dict(type='MultiModalSampleFrames', test_mode=test_mode,
                 train_sampling='segment',
                 modality_clip_len=dict(pose=48, rgb=16)))
        for seed in range(5):
            np.random.seed(seed)
            res = sampler(dict(total_frames=total, frame_dir='short'))
            inds = res['pose_inds']
            assert len(inds) == 48 and (np.diff(inds) >= 0).all()
            assert 0 <= inds.min() and inds.max() < total
            if test_mode or total <= 24:
                assert set(inds.tolist()) == set(range(total))


# ---------------------------------------------- RGB and pose lengths differ
def test_video_longer_than_skeleton_clock(ann_data, e2e_data, tmp_path):
    """A video with twice the skeleton's frames: read at the same times."""
    import decord

    def halve_clock(ann):
        half = ann['total_frames'] // 2
        ann['total_frames'] = half
        for key in ('keypoint', 'keypoint_score', 'keypoint_3d'):
            ann[key] = ann[key][:, :half]

    ann_file, name = altered(ann_data, tmp_path, halve_clock)
    ds = dataset(STAGE2, ann_file, e2e_data)
    idx = next(i for i in range(len(ds))
               if ds.get_data_info(i)['frame_dir'] == name)
    sample, decode = ds.pipeline.transforms[:2]
    results = decode(sample(ds.get_data_info(idx)))
    total, num = results['total_frames'], results['num_frames']['rgb']
    assert num >= 2 * total
    assert results['keypoint'].shape[1] == 48  # on the skeleton clock
    video = decord.VideoReader(results['rgb_path'])
    for k, i in enumerate(results['rgb_inds']):
        assert np.array_equal(results['rgb_imgs'][k],
                              video[i * num // total].asnumpy())
    _, packed = run_steps(ds, name)  # and the rest of the pipeline runs
    assert tuple(packed['inputs']['rgb_imgs'].shape) == (1, 3, 16, 224, 224)


def test_video_shorter_than_annotation(ann_data, e2e_data, tmp_path):
    def more_frames(ann):
        ann['num_frames']['rgb'] = ann['total_frames'] + 40

    ann_file, name = altered(ann_data, tmp_path, more_frames)
    ds = dataset(STAGE2, ann_file, e2e_data)
    with pytest.raises(IOError) as e:
        run_steps(ds, name)
    msg = str(e.value)
    assert name in msg and '_rgb.avi' in msg and 'decodable' in msg


def test_keypoints_shorter_than_skeleton_clock(ann_data, e2e_data,
                                               tmp_path):
    def cut_keypoints(ann):
        for key in ('keypoint', 'keypoint_score', 'keypoint_3d'):
            ann[key] = ann[key][:, :5]

    ann_file, name = altered(ann_data, tmp_path, cut_keypoints)
    for config in (STAGE2, POSE):
        ds = dataset(config, ann_file, e2e_data)
        with pytest.raises(IndexError) as e:
            run_steps(ds, name)
        assert name in str(e.value) and 'keypoint has 5 frames' in str(
            e.value)
    # the pre-flight check names it before any training
    with open(ann_file, 'rb') as f:
        annotations = pickle.load(f)['annotations']
    info = next(a for a in annotations if a['frame_dir'] == name)
    assert any('keypoint has 5 frames but total_frames is' in m
               for m in pose_problems(info))


# ------------------------------------------------------ no pose annotation
def _drop_pose(ann):
    for key in ('keypoint', 'keypoint_score', 'keypoint_3d'):
        ann.pop(key, None)


@pytest.mark.parametrize('config', [STAGE2, RGB, POSE])
def test_missing_pose_annotation(config, ann_data, e2e_data, tmp_path,
                                 monkeypatch):
    ann_file, name = altered(ann_data, tmp_path, _drop_pose)
    with pytest.raises(KeyError) as e:
        dataset(config, ann_file, e2e_data)
    msg = str(e.value)
    assert name in msg and 'pose' in msg and ann_file in msg
    logged = []
    import mmar_ext.datasets.multimodal_dataset as dataset_mod
    monkeypatch.setattr(dataset_mod, 'print_log',
                        lambda msg, **kwargs: logged.append(msg))
    ds = dataset(config, ann_file, e2e_data, missing_modality='skip')
    assert ds.num_skipped == 1
    assert name not in [ds.get_data_info(i)['frame_dir']
                        for i in range(len(ds))]
    assert any('skipped 1 of' in m and name in m for m in logged), logged
