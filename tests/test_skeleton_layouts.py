"""Tests of mmar_ext.datasets.skeleton_layouts (issue 13 §2) and of its
users: ROI mosaics, heatmap limbs / flip pairs, ``Flip(layout=...)`` and
MMAction2's ``Graph`` on the registered layouts."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch

import mmar_ext  # noqa: F401  (compat fixes + registration, before mmaction)
from mmaction.models.utils import Graph  # noqa: E402
from mmaction.registry import MODELS, TRANSFORMS  # noqa: E402
from mmar_ext.datasets import skeleton_layouts as sl  # noqa: E402
from mmar_ext.datasets.skeleton_layouts import (  # noqa: E402
    COCO17_NAMES, COCO17_STAND_INS, SkeletonLayout, flip_indices, flip_kp,
    get_layout, graph_layout, layout_names, limb_flip_pairs,
    register_layout, to_coco17)

BUILTIN = ('ntu25', 'kinect_v1_20', 'uwa3d15', 'lcrnet13', 'pennaction13',
           'coco17', 'openpose18')
NEW_GRAPHS = ('kinect_v1_20', 'uwa3d15', 'lcrnet13', 'pennaction13')
#: our layout -> the MMAction2 Graph layout it must equal
SAME_GRAPH = dict(ntu25='nturgb+d', coco17='coco', openpose18='openpose')
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture
def scratch_layout():
    """A registered throw-away layout, removed afterwards."""
    layout = register_layout(SkeletonLayout(
        name='test_stick5',
        joints=('head', 'left_hand', 'right_hand', 'left_foot',
                'right_foot'),
        limbs=((1, 0), (2, 0), (3, 0), (4, 0)),
        flip_pairs=((1, 2), (3, 4)),
        coco17=(0, ) + (None, ) * 16,
        center=0,
        roi_parts=(0, 2, 1, 4, 3)))
    yield layout
    sl._REGISTRY.pop('test_stick5', None)


def side_swapped(name):
    for a, b in (('left_', 'right_'), ('right_', 'left_')):
        if name.startswith(a):
            return b + name[len(a):]
    return name


# --------------------------------------------------------------- registry
def test_builtin_layouts_registered():
    assert set(BUILTIN) <= set(layout_names())
    sizes = dict(ntu25=25, kinect_v1_20=20, uwa3d15=15, lcrnet13=13,
                 pennaction13=13, coco17=17, openpose18=18)
    for name, size in sizes.items():
        assert get_layout(name).num_joints == size
        assert get_layout(get_layout(name)) is get_layout(name)


@pytest.mark.parametrize('name', BUILTIN)
def test_layout_consistency(name):
    layout = get_layout(name)
    n = layout.num_joints
    assert len(set(layout.joints)) == n
    for pairs in (layout.limbs, layout.flip_pairs, layout.graph_edges or ()):
        assert all(0 <= j < n for p in pairs for j in p)
    assert len(set(map(frozenset, layout.limbs))) == len(layout.limbs)
    assert 0 <= layout.center < n
    # flip: an involution mapping every left joint to its right namesake
    perm = flip_indices(layout)
    assert sorted(perm) == list(range(n))
    assert np.array_equal(perm[perm], np.arange(n))
    for j in range(n):
        assert layout.joints[perm[j]] == side_swapped(layout.joints[j])
    for a, b in layout.flip_pairs:
        assert layout.joints[a].startswith('left_')
        assert layout.joints[b].startswith('right_')
    # flipped limbs are limbs; the limb pairs swap mirrored limbs
    limbs = set(map(frozenset, layout.limbs))
    assert {frozenset(perm[list(p)]) for p in limbs} == limbs
    left, right = limb_flip_pairs(layout)
    assert len(left) == len(right) and not set(left) & set(right)
    for a, b in zip(left, right):
        assert set(perm[list(layout.limbs[a])]) == set(layout.limbs[b])
        assert any(layout.joints[j].startswith('left_')
                   for j in layout.limbs[a])
    # ROI parts: head (or nose), right/left hand, right/left foot
    head, rh, lh, rf, lf = (layout.joints[j] for j in layout.roi_parts)
    assert head in ('head', 'nose')
    assert rh.startswith('right_') and lh == side_swapped(rh)
    assert rf.startswith('right_') and lf == side_swapped(rf)
    assert rh[6:] in ('hand', 'wrist') and rf[6:] in ('ankle', 'foot')


@pytest.mark.parametrize('name', BUILTIN)
def test_coco17_mapping_by_name(name):
    layout = get_layout(name)
    assert len(layout.coco17) == 17
    for k, idx in enumerate(layout.coco17):
        coco = COCO17_NAMES[k]
        if coco in layout.joints:  # the same joint when there is one
            assert idx == layout.index(coco)
        elif idx is not None:  # else only the documented stand-in
            assert layout.joints[idx] == COCO17_STAND_INS[coco]
        else:
            assert COCO17_STAND_INS.get(coco) not in layout.joints


def test_coco17_mapping_hand_checked():
    from data_prep.ntu.constants import NTU_JOINT_NAMES, NTU_TO_COCO
    ntu = get_layout('ntu25')
    # NTU head (4, 0-based 3) stands in for the nose; no eyes / ears
    assert ntu.coco17[0] == 3 and ntu.coco17[1:5] == (None, ) * 4
    # the body joints agree with the NTU converter's NTU_TO_COCO
    for k in range(17):
        if ntu.coco17[k] is not None:
            assert ntu.coco17[k] == NTU_TO_COCO[k]
    assert ntu.coco17[5:] == NTU_TO_COCO[5:]
    # and the names with data_prep.ntu.constants' joint list
    for j, name in enumerate(NTU_JOINT_NAMES):
        assert ('left' in name) == ntu.joints[j].startswith('left_')
        assert ('right' in name) == ntu.joints[j].startswith('right_')
        if 2 <= j <= 19:  # neck, head, arms, legs: the same words
            assert ntu.joints[j] == name.replace(' ', '_')
    assert ntu.joints[20] == 'spine_shoulder'
    # Kinect v1 (1-based): 7 WristL, 19 AnkleR, 4 Head
    v1 = get_layout('kinect_v1_20')
    assert v1.coco17[COCO17_NAMES.index('left_wrist')] == 6
    assert v1.coco17[COCO17_NAMES.index('right_ankle')] == 18
    assert v1.coco17[0] == 3
    # LCR-Net: 0 R ankle ... 12 head
    lcr = get_layout('lcrnet13')
    assert lcr.coco17[COCO17_NAMES.index('right_ankle')] == 0
    assert lcr.coco17[COCO17_NAMES.index('left_shoulder')] == 11
    assert lcr.coco17[0] == 12
    # PennAction: COCO without the face, head first
    penn = get_layout('pennaction13')
    assert penn.coco17 == (0, None, None, None, None) + tuple(range(1, 13))
    # UWA3D (OpenNI): hands / feet stand in for wrists / ankles
    uwa = get_layout('uwa3d15')
    assert uwa.coco17[COCO17_NAMES.index('left_wrist')] == 5
    assert uwa.coco17[COCO17_NAMES.index('right_ankle')] == 14
    assert 'UNVERIFIED' in uwa.description
    # OpenPose-18 has all 17: left eye 15, right ear 16
    op = get_layout('openpose18')
    assert op.coco17[1] == 15 and op.coco17[4] == 16
    assert None not in op.coco17 and 1 not in op.coco17  # neck dropped
    assert get_layout('coco17').coco17 == tuple(range(17))


def test_existing_index_lists_derive_from_the_registry():
    """The constants that were written out by hand before the registry."""
    from mmar_ext.datasets.transforms import heatmap
    from mmar_ext.datasets.transforms.roi_mosaic import JOINT_LAYOUTS
    assert heatmap.COCO_SKELETONS == (
        (0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (5, 7), (7, 9), (0, 6),
        (6, 8), (8, 10), (5, 11), (11, 13), (13, 15), (6, 12), (12, 14),
        (14, 16), (11, 12))
    assert heatmap.COCO_LEFT_KP == (1, 3, 5, 7, 9, 11, 13, 15)
    assert heatmap.COCO_RIGHT_KP == (2, 4, 6, 8, 10, 12, 14, 16)
    assert heatmap.COCO_LEFT_LIMB == (0, 2, 4, 5, 6, 10, 11, 12)
    assert heatmap.COCO_RIGHT_LIMB == (1, 3, 7, 8, 9, 13, 14, 15)
    assert JOINT_LAYOUTS['ntu25'] == (3, 11, 7, 18, 14)
    assert JOINT_LAYOUTS['coco17'] == (0, 10, 9, 16, 15)
    assert JOINT_LAYOUTS['openpose18'] == (0, 4, 7, 10, 13)
    assert set(BUILTIN) <= set(JOINT_LAYOUTS)
    # the flip pairs the configs write out by hand
    assert flip_kp('ntu25') == dict(
        left_kp=[4, 5, 6, 7, 12, 13, 14, 15, 21, 22],
        right_kp=[8, 9, 10, 11, 16, 17, 18, 19, 23, 24])
    assert flip_kp('pennaction13') == dict(left_kp=[1, 3, 5, 7, 9, 11],
                                           right_kp=[2, 4, 6, 8, 10, 12])


@pytest.mark.parametrize('cfg_file,layout', [
    ('configs/_base_/datasets/deformable_transformer_ntu60_xsub.py',
     'ntu25'),
    ('configs/_base_/datasets/deformable_transformer_pennaction.py',
     'pennaction13'),
    ('configs/_base_/datasets/deformable_transformer_finegym.py', 'coco17'),
    ('configs/_base_/datasets/epam_net_ntu120_xsub.py', 'coco17'),
])
def test_config_flip_pairs_match_the_registry(cfg_file, layout):
    from mmengine.config import Config
    path = osp.join(ROOT, cfg_file)
    cfg = Config.fromfile(path)
    if 'left_kp' in cfg:
        assert dict(left_kp=list(cfg.left_kp),
                    right_kp=list(cfg.right_kp)) == flip_kp(layout)
    else:  # the config names the layout of its Flip
        [flip] = [t for t in cfg.rgb_train['transforms']
                  if t['type'] == 'Flip']
        assert flip['layout'] == layout


# ---------------------------------------------------------------- errors
def test_unknown_layout_error_lists_the_names():
    with pytest.raises(ValueError) as err:
        get_layout('kinect_v3')
    msg = str(err.value)
    assert "'kinect_v3'" in msg
    for name in BUILTIN:
        assert name in msg
    with pytest.raises(ValueError, match='known layouts'):
        flip_indices('nope')
    with pytest.raises(ValueError, match='known layouts'):
        get_layout(['ntu25'])  # unhashable: still a clear error


def test_invalid_layouts_rejected(scratch_layout):
    base = dict(name='bad', joints=('a', 'b', 'c'), limbs=((0, 1), ),
                flip_pairs=(), coco17=(None, ) * 17, center=0)
    SkeletonLayout(**base)  # valid
    for change, match in [
        (dict(joints=('a', 'a', 'c')), 'unique'),
        (dict(limbs=((0, 3), )), 'limb index out of range'),
        (dict(limbs=((1, 1), )), 'itself'),
        (dict(flip_pairs=((0, 5), )), 'flip pair index out of range'),
        (dict(flip_pairs=((0, 1), (1, 2))), 'at most one'),
        (dict(coco17=(0, ) * 16), '17'),
        (dict(coco17=(7, ) + (None, ) * 16), 'coco17 index'),
        (dict(center=3), 'centre'),
        (dict(roi_parts=(0, 1)), 'roi_parts'),
    ]:
        with pytest.raises(ValueError, match=match):
            SkeletonLayout(**dict(base, **change))
    with pytest.raises(ValueError, match='already registered'):
        register_layout(scratch_layout)
    assert register_layout(scratch_layout, overwrite=True) is scratch_layout
    with pytest.raises(TypeError):
        register_layout(dict(base))
    # frozen
    with pytest.raises(Exception):
        scratch_layout.center = 1


# ------------------------------------------------------------- to_coco17
@pytest.mark.parametrize('name', BUILTIN)
def test_to_coco17_round_trip(name):
    layout = get_layout(name)
    n = layout.num_joints
    # person m, frame t, joint j: (100 m + 10 t + j, -j, j / 2)
    m, t = np.meshgrid(np.arange(2), np.arange(3), indexing='ij')
    j = np.arange(n)
    kp = np.stack(np.broadcast_arrays(
        (100 * m + 10 * t)[..., None] + j, -j + 0. * m[..., None],
        j / 2 + 0. * m[..., None]), -1).astype(np.float32)  # [2, 3, J, 3]
    score = np.broadcast_to(0.5 + j / 100, (2, 3, n)).astype(np.float32)
    kp17, s17 = to_coco17(kp, score, name)
    assert kp17.shape == (2, 3, 17, 3) and kp17.dtype == np.float32
    assert s17.shape == (2, 3, 17) and s17.dtype == np.float32
    back = np.zeros_like(kp)
    back_score = np.zeros_like(score)
    for k, idx in enumerate(layout.coco17):
        if idx is None:  # missing: score 0, no invented position
            assert not s17[..., k].any() and not kp17[..., k, :].any()
        else:
            back[..., idx, :] = kp17[..., k, :]
            back_score[..., idx] = s17[..., k]
    mapped = sorted({i for i in layout.coco17 if i is not None})
    np.testing.assert_array_equal(back[..., mapped, :], kp[..., mapped, :])
    np.testing.assert_array_equal(back_score[..., mapped],
                                  score[..., mapped])
    # no scores: present joints have score 1; one frame [J, 2] works too
    _, ones = to_coco17(kp, None, name)
    assert set(np.unique(ones)) <= {0., 1.}
    kp1, s1 = to_coco17(kp[0, 0, :, :2], None, name)
    assert kp1.shape == (17, 2) and s1.shape == (17, )
    np.testing.assert_array_equal(kp1, kp17[0, 0, :, :2])


def test_to_coco17_identity_face_and_errors():
    from data_prep.ntu.constants import NTU_TO_COCO
    rng = np.random.default_rng(0)
    kp = rng.normal(size=(2, 4, 17, 2)).astype(np.float32)
    sc = rng.uniform(size=(2, 4, 17)).astype(np.float32)
    out, osc = to_coco17(kp, sc, 'coco17')
    np.testing.assert_array_equal(out, kp)
    np.testing.assert_array_equal(osc, sc)
    # stand_in_face: the NTU converter's NTU_TO_COCO exactly
    kp25 = rng.normal(size=(1, 3, 25, 2)).astype(np.float32)
    sc25 = rng.uniform(0.1, 1, size=(1, 3, 25)).astype(np.float32)
    out, osc = to_coco17(kp25, sc25, 'ntu25', stand_in_face=True)
    np.testing.assert_array_equal(out, kp25[:, :, list(NTU_TO_COCO)])
    np.testing.assert_array_equal(osc, sc25[:, :, list(NTU_TO_COCO)])
    out, osc = to_coco17(kp25, sc25, 'ntu25')
    assert not osc[..., 1:5].any() and osc[..., 0].all()
    with pytest.raises(ValueError, match='25 joints'):
        to_coco17(kp, sc, 'ntu25')
    with pytest.raises(ValueError, match='do not match'):
        to_coco17(kp, sc[..., :3], 'coco17')


# ----------------------------------------------------------------- Graph
def upstream_graph_class():
    """MMAction2's ``Graph`` loaded from its file, without our patch."""
    spec = importlib.util.find_spec('mmaction')
    path = osp.join(list(spec.submodule_search_locations)[0], 'models',
                    'utils', 'graph.py')
    mod_spec = importlib.util.spec_from_file_location('_upstream_graph',
                                                      path)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return module.Graph


def test_upstream_graph_rejects_our_layout_names():
    """Why mmar_ext.models.graph_layouts exists: without it MMAction2's
    Graph asserts on any other name (it does take the dict we make)."""
    Upstream = upstream_graph_class()
    assert not getattr(Upstream.__init__, '_mmar_ext_layouts', False)
    for name in NEW_GRAPHS:
        with pytest.raises(AssertionError):
            Upstream(layout=name)
        np.testing.assert_array_equal(
            Upstream(layout=graph_layout(name), mode='stgcn_spatial').A,
            Graph(layout=name, mode='stgcn_spatial').A)
    assert getattr(Graph.__init__, '_mmar_ext_layouts', False)


@pytest.mark.parametrize('mode', ['spatial', 'stgcn_spatial'])
def test_mmaction_layouts_unchanged_and_equal_to_ours(mode):
    Upstream = upstream_graph_class()
    for ours, theirs in SAME_GRAPH.items():
        ref = Upstream(layout=theirs, mode=mode).A
        np.testing.assert_array_equal(Graph(layout=theirs, mode=mode).A, ref)
        np.testing.assert_array_equal(Graph(layout=ours, mode=mode).A, ref)
        assert graph_layout(ours)['inward'] == Upstream(layout=theirs).inward
        assert Graph(layout=ours).layout == ours


@pytest.mark.parametrize('name', NEW_GRAPHS)
def test_graph_for_new_layouts(name):
    n = get_layout(name).num_joints
    g = Graph(layout=name, mode='spatial')
    assert g.A.shape == (3, n, n) and g.num_node == n
    adj = Graph(layout=name, mode='binary_adj').A[0]
    assert adj.shape == (n, n)
    np.testing.assert_array_equal(adj, adj.T)
    assert not np.diag(adj).any()
    # connected: every joint reaches every other within n - 1 hops
    reach = np.linalg.matrix_power(adj + np.eye(n), n - 1) > 0
    assert reach.all()
    # edges point towards the centre
    hops = Graph(layout=name, max_hop=n).hop_dis
    center = get_layout(name).center
    for i, j in g.inward:
        assert hops[j, center] <= hops[i, center]
    a = Graph(layout=name, mode='stgcn_spatial').A
    assert a.shape == (3, n, n) and np.isfinite(a).all()
    # every column of the normalised stgcn partitions sums to one
    np.testing.assert_allclose(a.sum(0).sum(0), 1, rtol=1e-6)


def test_graph_dict_layout_and_errors(scratch_layout):
    spec = graph_layout('kinect_v1_20')
    np.testing.assert_array_equal(
        Graph(layout=spec, mode='spatial').A,
        Graph(layout='kinect_v1_20', mode='spatial').A)
    assert Graph(layout='test_stick5').A.shape == (3, 5, 5)  # registered
    with pytest.raises(ValueError, match='MMAction2 layouts.*kinect_v1_20'):
        Graph(layout='kinect_v3')


def test_stgcn_builds_and_runs_on_a_new_layout():
    model = MODELS.build(dict(
        type='STGCN', graph_cfg=dict(layout='kinect_v1_20',
                                     mode='stgcn_spatial'),
        base_channels=8, num_stages=2, inflate_stages=[], down_stages=[]))
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 1, 6, 20, 3))  # [N, M, T, V, C]
    assert out.shape == (2, 1, 8, 6, 20)


# ---------------------------------------------------- transforms & necks
def test_roi_mosaic_any_layout(scratch_layout):
    from mmar_ext.datasets.transforms.roi_mosaic import JOINT_LAYOUTS
    for name in BUILTIN:
        t = TRANSFORMS.build(dict(type='SkeletonROIMosaic', layout=name))
        assert t.joints == get_layout(name).roi_parts
    t = TRANSFORMS.build(dict(type='SkeletonROIMosaic', layout='lcrnet13'))
    assert t.joints == (12, 6, 7, 0, 1) and t.keypoint_key == 'keypoint'
    # registered later: visible to the transform and to JOINT_LAYOUTS
    assert JOINT_LAYOUTS['test_stick5'] == (0, 2, 1, 4, 3)
    t = TRANSFORMS.build(dict(type='SkeletonROIMosaic', layout='test_stick5',
                              test_mode=True, out_size=None, num_frames=2))
    rng = np.random.default_rng(0)
    kp = rng.uniform(50, 100, (1, 4, 5, 2)).astype(np.float32)
    res = t(dict(frame_dir='s', keypoint=kp, img_shape=(160, 160),
                 rgb_imgs=[np.full((160, 160, 3), i, np.uint8)
                           for i in range(4)]))
    assert res['roi_imgs'][0].shape == (5 * 96, 2 * 96, 3)
    assert res['roi_cells']['joints'].tolist() == [0, 2, 1, 4, 3]
    with pytest.raises(ValueError, match='known layouts'):
        TRANSFORMS.build(dict(type='SkeletonROIMosaic', layout='kinect_v3'))
    register_layout(SkeletonLayout(
        name='test_stick5', joints=scratch_layout.joints,
        limbs=scratch_layout.limbs, flip_pairs=scratch_layout.flip_pairs,
        coco17=scratch_layout.coco17, center=0), overwrite=True)
    assert 'test_stick5' not in JOINT_LAYOUTS
    with pytest.raises(ValueError, match='no ROI parts'):
        TRANSFORMS.build(dict(type='SkeletonROIMosaic',
                              layout='test_stick5'))


def test_joint_spatial_weights_layout():
    assert MODELS.build(dict(type='JointSpatialWeights')).joints == (
        3, 11, 7, 18, 14)
    assert MODELS.build(dict(type='JointSpatialWeights',
                             layout='kinect_v1_20')).joints == (
                                 3, 11, 7, 18, 14)
    assert MODELS.build(dict(type='JointSpatialWeights',
                             layout='lcrnet13')).joints == (12, 6, 7, 0, 1)
    assert MODELS.build(dict(type='JointSpatialWeights', joints=[1, 2],
                             layout='lcrnet13')).joints == (1, 2)


def test_heatmap_volume_layout():
    from mmar_ext.datasets.transforms.heatmap import (COCO_LEFT_LIMB,
                                                      COCO_RIGHT_LIMB)
    default = TRANSFORMS.build(dict(type='PoseHeatmapVolume'))
    coco = TRANSFORMS.build(dict(type='PoseHeatmapVolume', layout='coco17'))
    for t in (default, coco):
        assert t.skeletons == get_layout('coco17').limbs
        assert (t.left_limb, t.right_limb) == (COCO_LEFT_LIMB,
                                               COCO_RIGHT_LIMB)
        assert list(t.left_kp) == flip_kp('coco17')['left_kp']
    # a 13-joint layout: its limbs and flip pairs; flip swaps left / right
    t = TRANSFORMS.build(dict(type='PoseHeatmapVolume', layout='pennaction13',
                              with_limb=True, double=True))
    penn = get_layout('pennaction13')
    kp = np.zeros((1, 1, 13, 2), np.float32)
    kp[0, 0, :, 0] = np.arange(13) * 3 + 5
    kp[0, 0, :, 1] = 20
    hm = t(dict(keypoint=kp, img_shape=(40, 48)))['imgs']
    assert hm.shape == (2, 13 + len(penn.limbs), 40, 48)
    order = np.arange(hm.shape[1])
    order[:13] = flip_indices(penn)
    left, right = limb_flip_pairs(penn)
    for a, b in zip(left, right):
        order[13 + a], order[13 + b] = 13 + b, 13 + a
    np.testing.assert_array_equal(hm[1], hm[0, order, :, ::-1])
    # explicit arguments still win
    t = TRANSFORMS.build(dict(type='PoseHeatmapVolume', layout='pennaction13',
                              left_kp=[1], right_kp=[2]))
    assert (t.left_kp, t.right_kp) == ((1, ), (2, ))


def test_flip_layout_in_modality_transforms():
    from mmar_ext.datasets.transforms.modality import flip_layout_cfg
    cfg = dict(type='Flip', flip_ratio=1., layout='ntu25')
    assert flip_layout_cfg(cfg) == dict(type='Flip', flip_ratio=1.,
                                        **flip_kp('ntu25'))
    assert flip_layout_cfg(dict(type='Resize', scale=(4, 4))) == dict(
        type='Resize', scale=(4, 4))
    with pytest.raises(ValueError, match='not both'):
        flip_layout_cfg(dict(cfg, left_kp=[1], right_kp=[2]))

    def run(flip):
        t = TRANSFORMS.build(dict(
            type='ModalityTransforms', modalities=('rgb', ),
            keypoint_modality='rgb', transforms=[flip]))
        kp = np.random.default_rng(0).uniform(
            0, 30, (1, 2, 13, 2)).astype(np.float32)
        return t(dict(rgb_imgs=[np.zeros((32, 32, 3), np.uint8)] * 2,
                      keypoint=kp, keypoint_score=np.ones((1, 2, 13)),
                      modalities=['rgb'], img_shape=(32, 32)))['keypoint']

    by_layout = run(dict(type='Flip', flip_ratio=1., layout='pennaction13'))
    by_lists = run(dict(type='Flip', flip_ratio=1.,
                        **flip_kp('pennaction13')))
    np.testing.assert_array_equal(by_layout, by_lists)
    unflipped = run(dict(type='Flip', flip_ratio=0., layout='pennaction13'))
    perm = flip_indices('pennaction13')
    np.testing.assert_allclose(by_layout[..., 1],
                               unflipped[..., perm, 1])
