"""TSMF (paper 003) in the analysis tools: FLOPs and throughput of both
stages (complexity.py, the leaderboard's cost columns), the weighted mosaic
without data samples, and the authors' fixed-length teacher input
(``paper_input``)."""
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from e2e_helpers import ROOT
from mmengine.registry import init_default_scope

import mmar_ext  # noqa: F401
from mmaction.registry import TRANSFORMS
from mmar_ext.datasets.transforms.roi_mosaic import band_cells, roi_weight_map

sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
import complexity  # noqa: E402
import leaderboard  # noqa: E402
from test_tsmf_model import batch, build  # noqa: E402

init_default_scope('mmaction')
SYNTH, TEACHER = (osp.join(ROOT, 'configs', f'tsmf_synth{s}.py')
                  for s in ('', '_teacher'))


def test_band_cells_are_the_mosaic_rows():
    cells = band_cells(5, (40, 30))
    weight = roi_weight_map(cells, [0., .5, 1., 1.5, 2.])
    np.testing.assert_array_equal(weight[:, 0], np.repeat(
        [0., .5, 1., 1.5, 2.], 8))
    assert (weight == weight[:, :1]).all()
    assert roi_weight_map(band_cells(3, (10, 4)), [1, 2, 3])[:, 0].tolist() \
        == [1] * 3 + [2] * 4 + [3] * 3
    with pytest.raises(ValueError, match='6 part rows'):
        band_cells(6, (5, 5))


@pytest.mark.parametrize('persons', [1, 2])
def test_tensor_mode_without_samples_weights_equal_rows(persons):
    """The SkeletonROIMosaic cells cover whole rows, one or two persons a
    cell: without data samples (FLOP counting) the logits are the same."""
    model = build().eval()
    inputs, samples = batch(m=persons)
    with torch.no_grad():
        torch.testing.assert_close(model(inputs, mode='tensor'),
                                   model(inputs, samples, mode='tensor'))


def test_flops_of_both_stages_and_their_parts():
    """complexity.py counts RecognizerGCN (stage 1; one tensor input) and
    TSMF (stage 2) at the config's inputs: the ensemble costs the teacher
    plus the student (the weighting is not counted)."""
    teacher = complexity.build_model(TEACHER)
    shapes = complexity.input_shapes(teacher, *complexity.clip_shape(TEACHER))
    assert shapes == {'inputs': (1, 2, 32, 25, 3)}
    t_flops = complexity.count_flops(teacher, shapes=shapes)
    model = complexity.build_model(SYNTH)
    shapes = complexity.input_shapes(model, *complexity.clip_shape(SYNTH))
    assert shapes == {'skeleton': (1, 2, 32, 25, 3),
                      'roi_imgs': (1, 3, 120, 120)}
    flops = complexity.count_flops(model, shapes=shapes)
    model.set_test_modalities(['rgb'])
    s_flops = complexity.count_flops(model, shapes=shapes)
    assert 0 < t_flops < flops and 0 < s_flops < flops
    assert flops == pytest.approx(t_flops + s_flops, rel=1e-3)
    model.set_test_modalities(None)
    assert complexity.complexity(model, shapes=shapes, iters=1,
                                 flops=flops)['clips_per_second'] > 0
    # the leaderboard's cost columns: all parameters (the fixed teacher
    # scores every test clip too, as the metafiles count TSMF), FLOPs of
    # the config's inputs
    params, cost = leaderboard.model_cost(SYNTH)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert params == sum(p.numel() for p in model.parameters()) > trainable
    assert params == trainable + sum(p.numel()
                                     for p in teacher.parameters())
    assert cost == flops
    assert leaderboard.model_cost(TEACHER) == (
        sum(p.numel() for p in teacher.parameters()), t_flops)
    with pytest.raises(ValueError, match='--clip-len / --size'):
        complexity.input_shapes(model, overrides=dict(rgb=(3, 1, 8, 8)))


def test_fixed_length_skeleton_pads_and_samples():
    t = TRANSFORMS.build(dict(type='FixedLengthSkeleton', length=8))
    kp = np.arange(20, dtype=np.float32).reshape(1, 20, 1, 1) + 1
    out = t(dict(keypoint=kp.repeat(3, -1), keypoint_score=kp[..., 0],
                 total_frames=20))
    assert out['keypoint'][0, :, 0, 0].tolist() == [1, 3, 6, 8, 11, 13, 16,
                                                   18]
    assert out['keypoint_score'].shape == (1, 8, 1)
    assert out['total_frames'] == 8
    out = t(dict(keypoint=kp[:, :5].repeat(3, -1), total_frames=5))
    assert out['keypoint'][0, :, 0, 0].tolist() == [1, 2, 3, 4, 5, 0, 0, 0]
    with pytest.raises(ValueError, match='positive'):
        TRANSFORMS.build(dict(type='FixedLengthSkeleton', length=0))


def test_paper_input_configs_feed_raw_300_frame_clips(e2e_data):
    """``*_paper-input`` (stage 2 and its teacher): the raw 3D joints,
    zero-padded to 300 frames, in training and test."""
    from mmengine.config import Config

    from mmaction.registry import DATASETS
    for name, key in (('tsmf_ntu60_xsub_paper-input', 'skeleton'),
                      ('tsmf_ntu60_xsub_paper-input_teacher', 'inputs')):
        cfg = Config.fromfile(osp.join(ROOT, 'configs', f'{name}.py'))
        assert cfg.clip_len == dict(skeleton=300)
        for split in ('train', 'test'):
            d = dict(cfg[f'{split}_dataloader'].dataset,
                     ann_file=e2e_data['ann'], data_root=e2e_data['raw'])
            dataset = DATASETS.build(d)
            item = dataset[0]
            x = item['inputs'][key] if key == 'skeleton' else item['inputs']
            assert tuple(x.shape) == (1, 2, 300, 25, 3)
            joints = dataset.get_data_info(0)['keypoint_3d']
            frames = joints.shape[1]
            np.testing.assert_allclose(x[0, :joints.shape[0], :frames],
                                       joints)
            assert not x[0, :, frames:].any()
