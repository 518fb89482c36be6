"""Joint tokenizer (seed 004, §3.1, eqs. (1)-(2)): JointCoordinates,
JointHeatmaps(persons='concat') and JointTokenizer agree."""
import numpy as np
import pytest
import torch

import mmar_ext  # noqa: F401  (compat fixes + registration, before mmaction)
import mmar_ext.datasets.transforms  # noqa: E402,F401  (registers)
from mmaction.registry import MODELS, TRANSFORMS  # noqa: E402
from mmar_ext.models.necks.joint_tokenizer import JointTokenizer  # noqa

K = 5


def build(cfg):
    return TRANSFORMS.build(cfg)


def two_person_sample(rng, t=3, img_hw=(32, 48)):
    """2 persons, K joints; person 1 misses joint 2 in frame 1 and has a
    NaN joint 3 in frame 0."""
    h, w = img_hw
    kp = (rng.uniform(0, 1, (2, t, K, 2)) * [w, h]).astype(np.float32)
    sc = np.ones((2, t, K), np.float32)
    sc[1, 1, 2] = 0
    kp[1, 0, 3, 0] = np.nan
    return dict(keypoint=kp, keypoint_score=sc, img_shape=img_hw)


def copy_sample(res):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v)
            for k, v in res.items()}


# ----------------------------------------------------------- transforms
def test_joint_coordinates_hand_case():
    # 40 x 60 image, feat_stride 2 -> 20 x 30 grid
    kp = np.zeros((3, 2, K, 2), np.float32)
    sc = np.ones((3, 2, K), np.float32)
    kp[0, 0, 1] = (13., 7.)
    kp[1, 1, 4] = (50., 33.)
    kp[2] = 5.  # third person: dropped
    sc[0, 1, 0] = 0  # missing
    kp[1, 0, 2, 1] = np.nan  # NaN -> missing, reported
    r = build(dict(type='JointCoordinates', feat_stride=2))(
        dict(keypoint=kp, keypoint_score=sc, img_shape=(40, 60),
             frame_dir='s1'))
    out = r['joint_coords'][0]  # one clip
    assert out.shape == (2, 2 * K, 3) and out.dtype == np.float32
    assert r['joint_coords_shape'] == (20, 30)
    np.testing.assert_allclose(out[0, 1], (13 * 30 / 60 - .5,
                                           7 * 20 / 40 - .5, 1))
    np.testing.assert_allclose(out[1, K + 4], (50 * 30 / 60 - .5,
                                               33 * 20 / 40 - .5, 1))
    np.testing.assert_array_equal(out[1, 0], (0, 0, 0))
    np.testing.assert_array_equal(out[0, K + 2], (0, 0, 0))
    assert r['num_nan_keypoints'] == 1
    assert out[..., 2].sum() == 2 * 2 * K - 2
    # single person, max_persons=2: the second person's joints are invalid
    r = build(dict(type='JointCoordinates', feat_shape=(10, 15)))(
        dict(keypoint=kp[:1], keypoint_score=sc[:1], img_shape=(40, 60)))
    out = r['joint_coords'][0]  # one clip
    assert out.shape == (2, 2 * K, 3) and not out[:, K:].any()
    np.testing.assert_allclose(out[0, 1, :2], (13 / 4 - .5, 7 / 4 - .5))


def test_joint_heatmaps_concat_layout_and_max_unchanged():
    rng = np.random.default_rng(0)
    res = two_person_sample(rng)
    res['keypoint'] = np.concatenate(
        [res['keypoint'], res['keypoint'][:1] + 3])  # 3 persons
    res['keypoint_score'] = np.concatenate(
        [res['keypoint_score'], res['keypoint_score'][:1]])
    cat = build(dict(type='JointHeatmaps', persons='concat', max_persons=2,
                     sigma=1.5))(copy_sample(res))['joint_heatmaps']
    assert cat.shape == (3, 2 * K, 16, 24)
    one = build(dict(type='JointHeatmaps', persons='concat', max_persons=1,
                     sigma=1.5))(copy_sample(res))['joint_heatmaps']
    np.testing.assert_array_equal(one, cat[:, :K])
    assert not cat[1, K + 2].any() and not cat[0, K + 3].any()
    # 'max' of the kept persons equals the maximum of the concat maps
    two = copy_sample(res)
    two['keypoint'], two['keypoint_score'] = \
        two['keypoint'][:2], two['keypoint_score'][:2]
    mx = build(dict(type='JointHeatmaps', sigma=1.5))(two)['joint_heatmaps']
    assert mx.shape == (3, K, 16, 24)
    np.testing.assert_array_equal(mx, np.maximum(cat[:, :K], cat[:, K:]))
    # padding: one person -> zero maps for the second
    pad = build(dict(type='JointHeatmaps', persons='concat'))(dict(
        keypoint=res['keypoint'][:1], keypoint_score=res['keypoint_score'][:1],
        img_shape=(32, 48)))['joint_heatmaps']
    assert pad.shape == (3, 2 * K, 16, 24) and not pad[:, K:].any()
    with pytest.raises(ValueError, match='persons'):
        build(dict(type='JointHeatmaps', persons='sum'))


def test_keypoint_key_reads_ntu25():
    kp25 = np.zeros((1, 1, 25, 2), np.float32)
    kp25[0, 0, 24] = (9.5, 5.5)
    res = dict(keypoint=np.zeros((1, 1, 17, 2), np.float32),
               keypoint_ntu25=kp25,
               keypoint_ntu25_score=np.ones((1, 1, 25), np.float32),
               img_shape=(16, 20))
    r = build(dict(type='JointCoordinates', keypoint_key='keypoint_ntu25',
                   feat_stride=1, max_persons=1))(copy_sample(res))
    assert r['joint_coords'].shape == (1, 1, 25, 3)
    np.testing.assert_allclose(r['joint_coords'][0, 0, 24], (9, 5, 1))
    hm = build(dict(type='JointHeatmaps', keypoint_key='keypoint_ntu25',
                    feat_stride=1))(copy_sample(res))['joint_heatmaps']
    assert hm.shape == (1, 25, 16, 20)
    assert hm[0, 24].argmax() == 5 * 20 + 9 and hm[0, 24, 5, 9] == 1
    del res['keypoint_ntu25']
    with pytest.raises(KeyError, match='keypoint_ntu25'):
        build(dict(type='JointCoordinates',
                   keypoint_key='keypoint_ntu25'))(res)


def test_coordinates_match_modality_like_heatmaps():
    kp = np.zeros((1, 12, K, 2), np.float32)
    kp[0, :, 0, 0] = np.arange(12) * 4 + 2
    kp[0, :, 0, 1] = 2
    res = dict(keypoint=kp, keypoint_score=np.ones((1, 12, K), np.float32),
               img_shape=(8, 48), total_frames=12,
               rgb_inds=np.array([1, 4, 10]),
               rgb_imgs=[np.zeros((8, 48, 3), np.uint8)] * 3)
    r = build(dict(type='JointCoordinates', feat_stride=4,
                   match_modality='rgb'))(copy_sample(res))
    np.testing.assert_allclose(r['joint_coords'][0, :, 0, 0], [1, 4, 10])


# -------------------------------------------------------------- tokenizer
def identity_tokenizer(c, **kwargs):
    tok = JointTokenizer(c, c, **kwargs)
    with torch.no_grad():
        tok.proj.weight.copy_(torch.eye(c))
        tok.proj.bias.zero_()
    return tok


def test_tokenizer_equals_einsum_with_concat_heatmaps():
    rng = np.random.default_rng(1)
    samples = [two_person_sample(rng), two_person_sample(rng)]
    samples[1]['keypoint'] = samples[1]['keypoint'][:1]  # absent person
    samples[1]['keypoint_score'] = samples[1]['keypoint_score'][:1]
    sigma = 1.3
    hms, coords = [], []
    for s in samples:
        hms.append(build(dict(type='JointHeatmaps', persons='concat',
                              sigma=sigma))(copy_sample(s))['joint_heatmaps'])
        coords.append(build(dict(type='JointCoordinates'))(
            copy_sample(s))['joint_coords'][0])
    hm = torch.from_numpy(np.stack(hms))  # [B, T, J, h, w]
    co = torch.from_numpy(np.stack(coords))  # [B, T, J, 3]
    c = 6
    feat = torch.randn(2, c, 3, 16, 24,
                       generator=torch.Generator().manual_seed(0))
    ref = torch.einsum('bcthw,btjhw->btjc', feat, hm)
    tok = identity_tokenizer(c, sigma=sigma)
    tokens, missing = tok(feat, co)
    assert tokens.shape == (2, 3, 2 * K, c)
    torch.testing.assert_close(tokens, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(tok.pool(feat, co), ref, atol=1e-5,
                               rtol=1e-5)
    exp_missing = torch.zeros(2, 3, 2 * K, dtype=torch.bool)
    exp_missing[0, 1, K + 2] = exp_missing[0, 0, K + 3] = True
    exp_missing[1, 1, K + 2] = exp_missing[1, 0, K + 3] = True
    exp_missing[1, :, K:] = True
    assert torch.equal(missing, exp_missing)
    assert not tokens[missing].any()
    # the default projection C -> 4C gives the bias at missing joints
    tok4 = JointTokenizer(c, sigma=sigma)
    t4, _ = tok4(feat, co)
    assert t4.shape == (2, 3, 2 * K, 4 * c)
    torch.testing.assert_close(t4[missing],
                               tok4.proj.bias.expand(int(missing.sum()), -1))
    # normalize: divided by the Gaussian's sum over the grid
    norm = identity_tokenizer(c, sigma=sigma, normalize=True).pool(feat, co)
    torch.testing.assert_close(
        norm[~missing], (ref / hm.sum((-2, -1))[..., None].clamp_min(
            1e-12))[~missing], atol=1e-5, rtol=1e-4)


def test_sharp_joint_picks_the_cell_at_row_y_column_x():
    c, h, w = 4, 5, 7
    feat = torch.randn(1, c, 2, h, w)
    coords = torch.tensor([[[[3., 1., 1.], [0., 4., 1.]],
                            [[6., 2., 1.], [2., 2., 0.]]]])  # [1, 2, 2, 3]
    tokens, missing = identity_tokenizer(c, sigma=0.05)(feat, coords)
    torch.testing.assert_close(tokens[0, 0, 0], feat[0, :, 0, 1, 3])
    torch.testing.assert_close(tokens[0, 0, 1], feat[0, :, 0, 4, 0])
    torch.testing.assert_close(tokens[0, 1, 0], feat[0, :, 1, 2, 6])
    assert not tokens[0, 1, 1].any() and missing.tolist() == [[[False,
                                                               False],
                                                              [False, True]]]
    # coordinates on a 10 x 14 grid, rescaled to the 5 x 7 feature map:
    # x -> (x + .5) / 2 - .5, so (6.5, 2.5) -> (3, 1), (.5, 8.5) -> (0, 4)
    fine = torch.tensor([[[[6.5, 2.5, 1.]], [[0.5, 8.5, 1.]]]])
    tok, _ = identity_tokenizer(c, sigma=0.05)(feat, fine, grid_shape=(10, 14))
    torch.testing.assert_close(tok[0, 0, 0], feat[0, :, 0, 1, 3])
    torch.testing.assert_close(tok[0, 1, 0], feat[0, :, 1, 4, 0])


def test_gradients_reach_feat_and_projection():
    feat = torch.randn(2, 3, 2, 6, 8, requires_grad=True)
    coords = torch.rand(2, 2, 4, 3) * torch.tensor([7., 5., 1.])
    coords[..., 2] = 1
    coords[0, 0, 0, 2] = 0
    tok = MODELS.build(dict(type='JointTokenizer', in_channels=3,
                            out_channels=5))
    tokens, missing = tok(feat, coords)
    tokens[~missing].pow(2).sum().backward()
    assert feat.grad is not None and feat.grad.abs().sum() > 0
    assert tok.proj.weight.grad.abs().sum() > 0
    assert tok.proj.bias.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='coords'):
        tok(feat, coords[:, :1])
