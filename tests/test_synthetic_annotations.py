"""The annotation file built from the synthetic raw data, read three ways:
as a pkl, by our MultiModalActionDataset + pipeline, and by MMAction2's own
PoseDataset (the layout is MMAction2's, extended)."""
import os.path as osp
import pickle
import sys

import numpy as np
import pytest

import mmar_ext  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from data_prep.ntu.build_annotations import build_annotations  # noqa: E402
from data_prep.ntu.constants import parse_sample_name  # noqa: E402
from data_prep.synthetic_ntu import generate  # noqa: E402


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp('synth_ann')
    names = generate(root / 'raw', num_classes=4, clips_per_class=6,
                     frames=(10, 14), rgb_size=(160, 90),
                     depth_size=(128, 106), num_workers=1, progress=False)
    ann_file = root / 'annotations.pkl'
    build_annotations(root / 'raw', ann_file, dataset='ntu60', num_workers=1)
    with open(ann_file, 'rb') as f:
        return dict(root=root, names=names, ann_file=str(ann_file),
                    data=pickle.load(f))


def test_every_generated_sample_is_annotated(built):
    anns = {a['frame_dir']: a for a in built['data']['annotations']}
    assert sorted(anns) == sorted(built['names'])
    for name, a in anns.items():
        assert a['label'] == parse_sample_name(name)['action'] - 1
        assert set(a['num_frames']) == {'rgb', 'depth', 'ir'}
        assert set(a['num_frames'].values()) == {a['total_frames']}
        assert a['img_shape'] == (90, 160)
        assert a['modality_shapes']['depth'] == (106, 128)
        m, t = a['keypoint'].shape[:2]
        assert a['keypoint'].shape == (m, t, 17, 2) and m in (1, 2)
        assert t == a['total_frames']
        assert a['keypoint_3d'].shape == (m, t, 25, 3)


def test_splits_follow_the_ntu_protocols(built):
    split = built['data']['split']
    xsub_train = {1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28,
                  31, 34, 35, 38}
    for name in split['xsub_train']:
        assert parse_sample_name(name)['performer'] in xsub_train
    for name in split['xsub_val']:
        assert parse_sample_name(name)['performer'] not in xsub_train
    for name in split['xview_val']:
        assert parse_sample_name(name)['camera'] == 1
    assert split['xsub_val'] and split['xview_val']


def test_keypoints_are_colour_joints_scaled_to_the_video(built):
    """COCO keypoints = NTU colorX/colorY (1920x1080 space) scaled to the RGB
    video's size; the generator's own tests check these land on the person."""
    from data_prep.ntu.constants import NTU_TO_COCO
    from data_prep.ntu.skeleton import read_skeleton, to_arrays
    a = built['data']['annotations'][0]
    seq = read_skeleton(osp.join(built['root'], 'raw', 'nturgb+d_skeletons',
                                 a['frame_dir'] + '.skeleton'))
    _, color2d, _, tracking = to_arrays(seq, max_bodies=2)
    h, w = a['img_shape']
    expected = color2d[:, :, list(NTU_TO_COCO)] * [w / 1920, h / 1080]
    np.testing.assert_allclose(a['keypoint'], expected, rtol=1e-5, atol=1e-3)
    assert (a['keypoint_score'] == 1.0).all()  # synthetic joints are tracked
    inside = ((a['keypoint'] >= 0) & (a['keypoint'] < [w, h])).all(-1)
    assert inside.mean() > 0.95


def test_multimodal_dataset_reads_it(built):
    from mmengine.registry import init_default_scope
    from mmaction.registry import DATASETS
    init_default_scope('mmaction')
    ds = DATASETS.build(dict(
        type='MultiModalActionDataset', ann_file=built['ann_file'],
        split='xsub_train', modalities=('rgb', 'depth', 'ir'), num_classes=4,
        pipeline=[
            dict(type='MultiModalSampleFrames', clip_len=4, test_mode=True),
            dict(type='MultiModalDecode'),
            dict(type='DepthToJet', modalities=('depth', 'ir')),
            dict(type='ModalityTransforms', transforms=[
                dict(type='Resize', scale=(32, 32), keep_ratio=False),
                dict(type='FormatShape', input_format='NCTHW')]),
            dict(type='PackMultiModalInputs'),
        ]))
    assert len(ds) == len(built['data']['split']['xsub_train'])
    item = ds[0]
    for key in ('rgb_imgs', 'depth_imgs', 'ir_imgs'):
        assert tuple(item['inputs'][key].shape) == (1, 3, 4, 32, 32)
    assert item['inputs']['depth_imgs'].float().std() > 0  # not zero-filled


def test_mmaction_pose_dataset_reads_it(built):
    from mmengine.registry import init_default_scope
    from mmaction.registry import DATASETS
    init_default_scope('mmaction')
    ds = DATASETS.build(dict(
        type='PoseDataset', ann_file=built['ann_file'], split='xsub_val',
        pipeline=[
            dict(type='UniformSampleFrames', clip_len=8, test_mode=True),
            dict(type='PoseDecode'),
            dict(type='PoseCompact', hw_ratio=1., allow_imgpad=True),
            dict(type='Resize', scale=(32, 32), keep_ratio=False),
            dict(type='GeneratePoseTarget', with_kp=True, with_limb=False),
            dict(type='FormatShape', input_format='NCTHW_Heatmap'),
            dict(type='PackActionInputs'),
        ]))
    assert len(ds) == len(built['data']['split']['xsub_val'])
    heatmaps = ds[0]['inputs']
    assert tuple(heatmaps.shape) == (1, 17, 8, 32, 32)
    assert heatmaps.max() > 0.5
