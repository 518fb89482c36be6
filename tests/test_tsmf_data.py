"""TSMF's data (paper 003): the teacher's GCN input next to the RGB ROI
mosaic in one sample (GCNSkeletonInput, the dataset's skeleton modality)."""
import copy

import numpy as np
import pytest
from mmengine.registry import init_default_scope

import mmar_ext  # noqa: F401
from mmaction.registry import DATASETS, TRANSFORMS

init_default_scope('mmaction')
GCN = [dict(type='PreNormalize3D'),
       dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
       dict(type='UniformSampleFrames', clip_len=20, test_mode=True),
       dict(type='PoseDecode'), dict(type='FormatGCNInput', num_person=2)]


def sample(t=30):
    rng = np.random.default_rng(0)
    return dict(frame_dir='S001C001P001R001A001', total_frames=t,
                keypoint=rng.uniform(0, 50, (1, t, 17, 2)).astype(np.float32),
                keypoint_score=np.ones((1, t, 17), np.float32),
                keypoint_3d=rng.normal(0, 1, (1, t, 25, 3)).astype(
                    np.float32),
                frame_inds=np.arange(5))


def test_gcn_input_equals_the_stock_transforms_and_leaves_the_rest():
    res = sample()
    before = copy.deepcopy(res)
    out = TRANSFORMS.build(dict(type='GCNSkeletonInput', transforms=GCN))(res)
    stock = dict(keypoint=before['keypoint_3d'].copy(), total_frames=30,
                 start_index=0)
    for t in GCN:
        stock = TRANSFORMS.build(t)(stock)
    np.testing.assert_array_equal(out['skeleton'], stock['keypoint'])
    assert out['skeleton'].shape == (1, 2, 20, 25, 3)
    for key in ('keypoint', 'keypoint_score', 'keypoint_3d', 'frame_inds',
                'total_frames'):
        np.testing.assert_array_equal(out[key], before[key])
    assert 'clip_len' not in out and 'num_clips' not in out


def test_gcn_input_bad_samples_are_named():
    t = TRANSFORMS.build(dict(type='GCNSkeletonInput', transforms=GCN))
    res = sample()
    del res['keypoint_3d']
    with pytest.raises(KeyError, match='S001C001P001R001A001: no keypoint_3d'):
        t(res)
    res = sample()
    res['keypoint_3d'][0, 3, 4] = np.nan
    with pytest.raises(ValueError, match='A001: 1 joints of keypoint_3d'):
        t(res)


def test_skeleton_modality_of_the_dataset(e2e_data, tmp_path):
    """``skeleton`` needs ``keypoint_3d``: a sample without it is an error
    naming it, or left out with ``missing_modality=dict(skeleton='skip')``
    (the paper drops 6 PKU-MMD clips without skeleton frames)."""
    import pickle
    with open(e2e_data['ann'], 'rb') as f:
        data = pickle.load(f)
    lacking = data['annotations'][0]
    del lacking['keypoint_3d']
    ann = tmp_path / 'ann.pkl'
    with open(ann, 'wb') as f:
        pickle.dump(data, f)
    cfg = dict(type='MultiModalActionDataset', ann_file=str(ann),
               data_root=e2e_data['raw'], modalities=('rgb', 'skeleton'),
               pipeline=[])
    with pytest.raises(KeyError, match=lacking['frame_dir']):
        DATASETS.build(cfg)
    kept = DATASETS.build(dict(cfg, missing_modality=dict(skeleton='skip')))
    assert len(kept) == len(data['annotations']) - 1
    with pytest.raises(ValueError, match='not supported for skeleton'):
        DATASETS.build(dict(cfg, missing_modality=dict(skeleton='allow')))
