"""Tests of data_prep.toyota_smarthome.build_annotations on a tiny raw tree.

The tree has the download's formats: ``mp4/<Activity>_pPP_rRR_vVV_cCC.mp4``
(OpenCV, mp4v, 32x24, 5 frames, 10 fps), LCR-Net skeleton JSONs of both
releases (v1.1 ``json/<clip>.json``, v1.2 ``<clip>_pose3d.json`` in another
folder) and the I3D split lists. Then one training step of every EPAM-Net
Toyota config on the converter's output.
"""
import copy
import json
import logging
import pickle

import cv2
import numpy as np
import pytest

from data_prep.common import AnnotationBuildError
from data_prep.toyota_smarthome import build_annotations as ba

pytestmark = pytest.mark.timeout(300)

W, H, T, FPS = 32, 24, 5, 10

A = 'Walk_p03_r00_v01_c01'               # CS train, CV1/CV2 train; 2 persons
B = 'Drink.Fromcup_p19_r00_v02_c05'      # CS val, CV val; v1.1 + v1.2 JSON
C = 'Cook.Cut_p02_r00_v03_c02'           # CS test; not a CV class
D = 'Usetablet_p10_r01_v04_c03'          # CS test, CV2 train
E = 'Sitdown_p25_r00_v05_c02'            # CS val, CV test; 3 ranked persons
F = 'Pour.Fromcup_p04_r00_v06_c01'       # no protocol maps the class
G = 'Enter_p03_r01_v07_c06'              # nobody in any frame
H_ = 'Getup_p04_r00_v08_c04'             # no skeleton JSON
L = 'Laydown_p06_r00_v10_c07'            # empty "frames" list
N = 'Leave_p13_r00_v09_c01'              # in no split list
NO_VIDEO = 'Walk_p02_r05_v01_c02'        # listed, no video

SPLIT_LISTS = {
    'train_CS.txt': [F, G, H_, L, A],
    'validation_CS.txt': [B, E],
    'test_CS.txt': [C, D, NO_VIDEO],
    'train_CV1.txt': [A],
    'train_CV2.txt': [G, H_, D, A],
    'validation_CV2.txt': [B],
    'test_CV1.txt': [E, NO_VIDEO],
}


def person(x0, y0=2.0, score=None):
    """An LCR-Net person: joint j at (x0 + j / 2, y0 + j) px and (j / 10 +
    x0, -j / 10, 3 + j / 100) m, coordinate-major."""
    j = np.arange(13)
    xs, ys = x0 + j / 2, y0 + j
    p = dict(pose2d=[*xs, *ys],
             pose3d=[*(j / 10 + x0), *(-j / 10), *(3 + j / 100)])
    if score is not None:
        p['cumscore'] = score
    return p


P, Q = person(2.0), person(20.0)
SKELETONS = {
    A: [[P], [], [Q, P], [P, Q], [Q, P]],
    B: [[person(10.0)]] * 4,   # 4 frames for 5 video frames: within tolerance
    C: [[person(5.0)]] * T,
    D: [[person(6.0)]] * T,
    E: [[person(1.0, score=1.0), person(8.0, score=5.0),
         person(15.0, score=3.0)]] + [[person(8.0)]] * (T - 1),
    F: [[person(3.0)]] * T,
    G: [[]] * T,
    L: [],
    N: [[person(4.0)]] * T,
}


def write_video(path, frames=T):
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), FPS,
                             (W, H))
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((H, W, 3), 30 * i + 20, np.uint8))
    writer.release()


def write_json(path, frames, njts=13):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(K=1, njts=njts, frames=frames)))


def make_tree(root):
    """The raw tree under ``root / 'raw'`` and the lists in ``root /
    'splits'`` (outside the raw root: no split is found by default)."""
    raw = root / 'raw'
    for name in (A, B, C, D, E, F, G, H_, L, N):
        write_video(raw / 'mp4' / f'{name}.mp4')
    for name, frames in SKELETONS.items():
        if name == B:  # v1.2 (used) and a v1.1 copy that must be ignored
            write_json(raw / 'smarthome_v1.2' / 'json' / f'{B}_pose3d.json',
                       frames)
            write_json(raw / 'json' / f'{B}.json', [[person(0.0)]] * 4)
        else:
            write_json(raw / 'json' / f'{name}.json', frames)
    splits = root / 'splits'
    splits.mkdir()
    for file_name, names in SPLIT_LISTS.items():
        (splits / file_name).write_text(
            ''.join(f'{n}.mp4\n' for n in names))
    return raw, splits


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    return make_tree(tmp_path_factory.mktemp('toyota'))


@pytest.fixture(scope='module')
def built(tree, tmp_path_factory):
    raw, splits = tree
    out = tmp_path_factory.mktemp('toyota_out') / 'toyota_{protocol}.pkl'
    data = ba.build_annotations(raw, out, splits_dir=splits, num_workers=0)
    return dict(data, out=str(out))


def by_name(data):
    return {a['frame_dir']: a for a in data['annotations']}


def test_class_lists():
    assert len(ba.CS_CLASSES) == 31 and len(ba.CV_CLASSES) == 19
    assert list(ba.CS_CLASSES) == sorted(ba.CS_CLASSES)
    assert list(ba.CV_CLASSES) == sorted(ba.CV_CLASSES)
    assert set(ba.CV_CLASSES) < set(ba.CS_CLASSES)
    assert 'Pour.Fromcup' not in ba.CS_CLASSES
    # alphabetical: Usetablet before Usetelephone (2s-AGCN swaps them)
    assert ba.CS_CLASSES.index('Usetablet') == 27
    assert ba.CV_CLASSES.index('Usetelephone') == 17


def test_joint_order_matches_the_layout_registry():
    layouts = pytest.importorskip('mmar_ext.datasets.skeleton_layouts')
    layout = layouts.get_layout('lcrnet13')
    assert tuple(layout.joints) == ba.LCRNET_JOINTS
    assert tuple(-1 if j is None else j for j in layout.coco17) == \
        ba.LCRNET_TO_COCO


def test_labels_splits_and_left_out(built):
    cs, cv = built['cs'], built['cv']
    assert by_name(cs).keys() == {A, B, C, D, E}
    assert {n: a['label'] for n, a in by_name(cs).items()} == {
        A: 29, B: 8, C: 2, D: 27, E: 24}
    assert cs['split'] == dict(cs_train=[A], cs_val=[B, E], cs_test=[C, D])
    assert by_name(cv).keys() == {A, B, D, E}
    assert {n: a['label'] for n, a in by_name(cv).items()} == {
        A: 18, B: 3, D: 16, E: 13}
    assert cv['split'] == dict(cv1_train=[A], cv1_val=[B], cv1_test=[E],
                               cv2_train=[D, A], cv2_val=[B], cv2_test=[E])
    # CV1 validation and CV2 test come from the other benchmark's list
    sources = cv['meta']['split_sources']
    assert sources['cv1_val'].endswith('validation_CV2.txt')
    assert sources['cv2_test'].endswith('test_CV1.txt')
    assert cs['meta']['left_out'] == {
        F: 'unmapped_class', G: 'no_person', H_: 'no_skeleton_file',
        L: 'no_person', N: 'not_in_splits', NO_VIDEO: 'no_video'}
    assert cv['meta']['left_out'] == {
        F: 'unmapped_class', G: 'no_person', H_: 'no_skeleton_file',
        N: 'not_in_splits', NO_VIDEO: 'no_video'}
    summary = cs['meta']['summary']
    assert summary['found'] == 9 and summary['kept'] == 5  # all but F
    assert summary['left_out'] == dict(
        unmapped_class=1, no_video=1, not_in_splits=1, no_skeleton_file=1,
        no_person=2, bad=0)
    for data, classes in ((cs, ba.CS_CLASSES), (cv, ba.CV_CLASSES)):
        meta = data['meta']
        assert meta['class_names'] == list(classes)
        assert meta['keypoint_source'] == 'lcrnet'
        assert meta['keypoint_layouts'] == dict(
            keypoint='coco17', keypoint_lcrnet13='lcrnet13',
            keypoint_3d='lcrnet13')
        assert meta['skipped'] == {}
    with open(built['out'].replace('{protocol}', 'cv'), 'rb') as f:
        assert pickle.load(f)['split'] == cv['split']


def test_video_probe_and_skeleton_versions(built):
    anns = by_name(built['cs'])
    for name, ann in anns.items():
        assert ann['rgb_path'] == f'mp4/{name}.mp4'
        assert ann['img_shape'] == ann['original_shape'] == (H, W)
        assert ann['num_frames'] == dict(rgb=T)
        assert ann['fps'] == FPS
    assert anns[B]['skeleton_version'] == 'v1.2'
    assert anns[B]['skeleton_path'] == \
        f'smarthome_v1.2/json/{B}_pose3d.json'
    assert anns[B]['total_frames'] == 4
    assert anns[B]['frame_mismatch'] == dict(rgb=(T, 4))
    assert anns[B]['keypoint'][0, 0, 0, 0] == 10.0 + 12 / 2  # not v1.1
    assert anns[A]['skeleton_version'] == 'v1.1'
    assert anns[A]['total_frames'] == T and 'frame_mismatch' not in anns[A]
    summary = built['cs']['meta']['summary']
    assert summary['skeleton_versions'] == {'v1.1': 4, 'v1.2': 1}
    assert summary['fps'] == {FPS: 5}
    assert summary['resolutions'] == {f'{W}x{H}': 5}
    assert summary['frames_without_person'] == dict(clips=1, frames=1)
    assert summary['pose2d_outside_frame'] == 0


def test_keypoints(built):
    ann = by_name(built['cs'])[A]
    kp, score = ann['keypoint'], ann['keypoint_score']
    lcr, lcr_score = ann['keypoint_lcrnet13'], ann['keypoint_lcrnet13_score']
    kp3d = ann['keypoint_3d']
    assert kp.shape == (2, T, 17, 2) and score.shape == (2, T, 17)
    assert lcr.shape == (2, T, 13, 2) and lcr_score.shape == (2, T, 13)
    assert kp3d.shape == (2, T, 13, 3)
    assert all(a.dtype == np.float32
               for a in (kp, score, lcr, lcr_score, kp3d))
    j = np.arange(13)
    p2d = np.stack([2.0 + j / 2, 2.0 + j], -1)
    p3d = np.stack([j / 10 + 2.0, -j / 10, 3 + j / 100], -1)
    q2d = np.stack([20.0 + j / 2, 2.0 + j], -1)
    # person P stays in slot 0 although listed second in frames 2 and 4
    for t in (0, 2, 3, 4):
        np.testing.assert_allclose(lcr[0, t], p2d)
        np.testing.assert_allclose(kp3d[0, t], p3d, rtol=1e-6)
    for t in (2, 3, 4):
        np.testing.assert_allclose(lcr[1, t], q2d)
    np.testing.assert_array_equal(lcr_score[0].T, [[1, 0, 1, 1, 1]] * 13)
    np.testing.assert_array_equal(lcr_score[1].T, [[0, 0, 1, 1, 1]] * 13)
    # the empty frame: zeros with score 0 in every slot
    assert not kp[:, 1].any() and not score[:, 1].any()
    assert not kp3d[:, 1].any() and not lcr[:, 1].any()
    # COCO-17: head -> nose, left/right joints from their LCR-Net twins
    coco = {0: 12, 5: 11, 6: 10, 7: 9, 8: 8, 9: 7, 10: 6, 11: 5, 12: 4,
            13: 3, 14: 2, 15: 1, 16: 0}
    for c, lj in coco.items():
        np.testing.assert_allclose(kp[:, :, c], lcr[:, :, lj])
        np.testing.assert_array_equal(score[:, :, c], lcr_score[:, :, lj])
    assert not kp[:, :, 1:5].any() and not score[:, :, 1:5].any()  # eyes, ears
    # three persons in a frame: the two of highest cumscore are kept
    ann = by_name(built['cs'])[E]
    assert ann['keypoint'].shape[0] == 2
    assert sorted(ann['keypoint_lcrnet13'][:, 0, 0, 0]) == [8.0, 15.0]
    # one person in every frame: M = 1
    assert by_name(built['cs'])[C]['keypoint'].shape == (1, T, 17, 2)


def test_derived_splits_without_split_files(tree, tmp_path, caplog):
    raw, _ = tree
    with caplog.at_level(logging.INFO):
        data = ba.build_annotations(raw, tmp_path / '{protocol}.pkl',
                                    num_workers=0)
    assert 'derived from the clip names' in caplog.text
    # the same rules as the lists; N, in no list, now is in CS/CV training
    assert {k: set(v) for k, v in data['cs']['split'].items()} == dict(
        cs_train={A, N}, cs_val={B, E}, cs_test={C, D})
    assert {k: set(v) for k, v in data['cv']['split'].items()} == dict(
        cv1_train={A, N}, cv1_val={B}, cv1_test={E}, cv2_train={A, D, N},
        cv2_val={B}, cv2_test={E})
    assert data['cs']['meta']['split_sources']['cs_train'] == \
        'derived: subjects 3, 4, 6, 7, 9, 12, 13, 15, 17'


def test_keep_missing_skeletons(tree, tmp_path):
    raw, splits = tree
    data = ba.build_annotations(raw, tmp_path / 'cs.pkl', protocols=['cs'],
                                splits_dir=splits, num_workers=0,
                                keep_missing_skeletons=True)
    anns = by_name(data['cs'])
    assert anns.keys() == {A, B, C, D, E, G, H_, L}
    for name in (G, H_, L):  # no keypoint fields, the video's clock
        assert not any(k.startswith('keypoint') for k in anns[name])
        assert anns[name]['total_frames'] == T
    assert data['cs']['meta']['summary']['kept_without_keypoints'] == 3
    assert data['cs']['split']['cs_train'] == [G, H_, L, A]


def test_cli_and_cache(tree, built, tmp_path):
    raw, splits = tree
    out = tmp_path / 'toyota_{protocol}.pkl'
    args = ['--raw-root', str(raw), '--splits-dir', str(splits), '--out',
            str(out), '--num-workers', '0', '--cache-dir',
            str(tmp_path / 'cache')]
    for _ in range(2):  # the second run reads every clip from the cache
        assert ba.main(args) == 0
        for protocol in ('cs', 'cv'):
            with open(str(out).replace('{protocol}', protocol), 'rb') as f:
                data = pickle.load(f)
            assert data['split'] == built[protocol]['split']
            for ann in data['annotations']:
                ref = by_name(built[protocol])[ann['frame_dir']]
                assert ann['label'] == ref['label']
                np.testing.assert_array_equal(ann['keypoint'],
                                              ref['keypoint'])
    assert len(list((tmp_path / 'cache').glob('*.pkl'))) == 7  # G, L too


def test_protocols_need_a_placeholder(tree, tmp_path):
    raw, splits = tree
    with pytest.raises(ValueError, match='{protocol}'):
        ba.build_annotations(raw, tmp_path / 'one.pkl', splits_dir=splits)


@pytest.mark.parametrize('fault', ['njts', 'length'])
def test_bad_skeleton(tmp_path, fault, capsys):
    raw = tmp_path / 'raw'
    write_video(raw / 'mp4' / f'{A}.mp4')
    write_video(raw / 'mp4' / f'{C}.mp4')
    write_json(raw / 'json' / f'{C}.json', SKELETONS[C])
    bad = raw / 'json' / f'{A}.json'
    if fault == 'njts':  # a 12-joint skeleton
        j = list(range(12))
        write_json(bad, [[dict(pose2d=[*j, *j], pose3d=[*j, *j, *j])]] * T,
                   njts=12)
        message = 'njts=12, expected 13'
    else:
        write_json(bad, [[dict(pose2d=[0.0] * 24, pose3d=[0.0] * 39)]] * T)
        message = 'frame 0, person 0'
    with pytest.raises(AnnotationBuildError, match=message) as error:
        ba.build_annotations(raw, tmp_path / '{protocol}.pkl', num_workers=0)
    assert A in str(error.value) and str(bad) in str(error.value)
    assert not list(tmp_path.glob('*.pkl'))
    assert ba.main(['--raw-root', str(raw), '--out',
                    str(tmp_path / '{protocol}.pkl'), '--num-workers',
                    '0']) == 1
    assert message in capsys.readouterr().err
    data = ba.build_annotations(raw, tmp_path / '{protocol}.pkl',
                                num_workers=0, skip_bad=True)['cs']
    assert [a['frame_dir'] for a in data['annotations']] == [C]
    assert list(data['meta']['skipped']) == [A]
    assert data['meta']['left_out'] == {A: 'bad'}
    assert data['meta']['summary']['left_out']['bad'] == 1


def test_split_file_with_a_bad_line(tree, tmp_path):
    raw, splits = tree
    bad = tmp_path / 'splits'
    bad.mkdir()
    (bad / 'train_CS.txt').write_text(f'{A}.mp4\nnot a clip\n')
    with pytest.raises(ValueError, match='line 2'):
        ba.build_annotations(raw, tmp_path / 'cs.pkl', protocols=['cs'],
                             splits_dir=bad, num_workers=0)


# ------------------------------------------------------------- training
CONFIGS = [f'configs/epam_net_toyota_{protocol}{stage}.py'
           for protocol in ('cs', 'cv2') for stage in ('', '_rgb', '_pose')]


def shrink(cfg):
    """Tiny clips: 6 pose frames, 2 RGB frames, 64x64 (as
    test_epam_net_end_to_end.tiny_options)."""
    for split in ('train', 'test'):
        for step in cfg[f'{split}_dataloader'].dataset.pipeline:
            if step['type'] == 'MultiModalSampleFrames':
                step['modality_clip_len'] = dict(pose=6, rgb=2)
            for sub in [step] + list(step.get('transforms') or ()):
                if isinstance(sub, dict) and sub['type'] == 'Resize':
                    sub['scale'] = (64, 64)


@pytest.mark.parametrize('config', CONFIGS)
def test_one_training_step(config, built):
    import torch
    from mmengine import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import OptimWrapper
    from mmengine.registry import init_default_scope

    import mmar_ext  # noqa: F401  (registration)
    from e2e_helpers import ROOT
    from mmaction.registry import DATASETS, MODELS

    cfg = Config.fromfile(f'{ROOT}/{config}')
    shrink(cfg)
    protocol = 'cv' if '_cv2' in config else 'cs'
    init_default_scope('mmaction')
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.ann_file = built['out'].replace('{protocol}', protocol)
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == len(built[protocol]['split'][dataset_cfg.split])
    assert dataset.num_classes == len(built[protocol]['meta']['class_names'])
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)  # no init_weights: no checkpoint read
    model.train()
    batch = pseudo_collate([dataset[0], dataset[len(dataset) - 1]])
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-3))
    losses = model.train_step(batch, optim)
    streams = {'rgb', 'pose'} if stage_of(config) == 'both' else {
        stage_of(config)}
    assert {f'{s}_loss_cls' for s in streams} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    if stage_of(config) == 'both':  # the test split and pipeline as well
        test_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
        test_cfg.ann_file = dataset_cfg.ann_file
        sample = DATASETS.build(test_cfg)[0]
        assert set(sample['inputs']) == {'rgb_imgs', 'pose_imgs'}


def stage_of(config):
    return ('rgb' if config.endswith('_rgb.py') else
            'pose' if config.endswith('_pose.py') else 'both')
