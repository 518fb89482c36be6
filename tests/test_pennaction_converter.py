"""data_prep.pennaction.build_annotations on a tiny PennAction tree written
in the real formats (JPEG frame folders, MATLAB v5 label files with the
download's fields), the bad inputs of issue 13, one sample through
MultiModalDecode and one training step of
configs/deformable_transformer_pennaction.py, shrunk to CPU size."""
import copy
import os.path as osp
import pickle

import cv2
import numpy as np
import pytest
from scipy.io import savemat

from data_prep.common import AnnotationBuildError, FrameCountMismatchError
from data_prep.pennaction import build_annotations as ba

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(ROOT, 'configs', 'deformable_transformer_pennaction.py')
H, W = 24, 32  # frame size
J = 13

#: name -> (action, train flag, label rows T, frame files, view)
SEQUENCES = {
    '0001': ('baseball_pitch', 1, 5, 5, 'back'),
    '0002': ('tennis_serve', -1, 4, 4, 'front'),
    '0003': ('bowl', 1, 6, 5, 'right'),  # one frame short: within tolerance
    '0004': ('jumping_jacks', -1, 4, 4, 'left'),
}
NAN_JOINT = ('0002', 2, 5)  # sequence, frame, joint with NaN x
SHORT_BBOX = '0003'         # bbox one row short


def frame_value(name, index):
    """Grey level of frame ``index`` of sequence ``name`` (distinct)."""
    return 20 + 40 * (int(name) - 1) + 10 * index


def joints(name, rows):
    """Distinct x, y [T, 13] and visibility of a sequence."""
    t = np.arange(rows, dtype=np.float64)[:, None]
    j = np.arange(J, dtype=np.float64)[None]
    x = 1 + j * 2 + 0.25 * t + int(name)
    y = 2 + j + 0.5 * t
    visibility = np.ones((rows, J), np.uint8)
    visibility[:, 12] = 0                   # right ankle never visible
    visibility[np.arange(rows) % 2 == 1, 5] = 0  # left wrist every 2nd frame
    return x, y, visibility


def write_sequence(root, name, action='bowl', train=1, rows=4, frames=4,
                   view='back', x=None, y=None, visibility=None, bbox=None,
                   nframes=None, frame_names=None, mat=True):
    """Writes ``frames/<name>/`` and ``labels/<name>.mat`` as the download
    stores them (``action`` / ``pose`` char arrays, ``train`` / ``nframes``
    ``[[n]]``, ``dimensions`` ``[[H W T]]``)."""
    folder = root / 'frames' / name
    folder.mkdir(parents=True, exist_ok=True)
    names = frame_names or [f'{i + 1:06d}.jpg' for i in range(frames)]
    for i, file in enumerate(names):
        image = np.full((H, W, 3), frame_value(name, i), np.uint8)
        assert cv2.imwrite(str(folder / file), image)
    if not mat:
        return
    gx, gy, gv = joints(name, rows)
    fields = dict(
        action=action, pose=view,
        x=gx if x is None else x, y=gy if y is None else y,
        visibility=gv if visibility is None else visibility,
        train=np.array([[train]], np.int16),
        bbox=(np.tile([1., 2., 20., 22.], (rows, 1)) + np.arange(rows)[:, None]
              if bbox is None else bbox),
        dimensions=np.array([[H, W, rows]], np.float64),
        nframes=np.array([[rows if nframes is None else nframes]], np.float64))
    (root / 'labels').mkdir(parents=True, exist_ok=True)
    savemat(str(root / 'labels' / f'{name}.mat'), fields)


@pytest.fixture(scope='module')
def raw(tmp_path_factory):
    """Penn_Action with the four sequences, a label file without frames
    (0005) and a frame folder without labels (0006)."""
    top = tmp_path_factory.mktemp('penn')
    root = top / 'Penn_Action'
    for name, (action, train, rows, frames, view) in SEQUENCES.items():
        x = joints(name, rows)[0]
        if name == NAN_JOINT[0]:
            x[NAN_JOINT[1], NAN_JOINT[2]] = np.nan
        bbox = None
        if name == SHORT_BBOX:
            bbox = np.tile([1., 2., 20., 22.], (rows - 1, 1))
        write_sequence(root, name, action, train, rows, frames, view, x=x,
                       bbox=bbox)
    write_sequence(root, '0005', 'squat')
    (root / 'frames' / '0005').rename(root / 'frames_of_0005')  # labels only
    write_sequence(root, '0006', mat=False)                   # frames only
    return top


@pytest.fixture(scope='module')
def built(raw, tmp_path_factory):
    out = tmp_path_factory.mktemp('penn_out') / 'pennaction.pkl'
    data = ba.build_annotations(raw, out, num_workers=0)  # the parent folder
    return data, out


def test_classes_are_alphabetical():
    assert list(ba.CLASSES) == sorted(ba.CLASSES) and len(ba.CLASSES) == 15


def test_labels_splits_frames_and_meta(built, raw):
    data, out = built
    with open(out, 'rb') as f:
        assert pickle.load(f)['split'] == data['split']
    anns = {a['frame_dir']: a for a in data['annotations']}
    assert list(anns) == list(SEQUENCES)
    assert data['split'] == dict(train=['0001', '0003'],
                                 test=['0002', '0004'])
    for name, (action, _, rows, frames, view) in SEQUENCES.items():
        ann = anns[name]
        assert ann['label'] == ba.CLASSES.index(action)
        assert ann['total_frames'] == rows
        assert ann['rgb_path'] == f'frames/{name}'
        assert ann['rgb_frames'] == [f'{i + 1:06d}.jpg'
                                     for i in range(frames)]
        assert ann['num_frames'] == dict(rgb=frames)
        assert ann['img_shape'] == ann['original_shape'] == (H, W)
        assert ann['modality_shapes'] == dict(rgb=(H, W))
        assert ann['view'] == view
        assert ann['bbox'].shape == (rows, 4) and ann['bbox'].dtype == \
            np.float32
    assert anns['0003']['frame_mismatch'] == dict(rgb=(5, 6))
    assert all('frame_mismatch' not in anns[n] for n in ('0001', '0002'))
    assert np.isnan(anns['0003']['bbox'][-1]).all()
    np.testing.assert_array_equal(anns['0001']['bbox'][1], [2, 3, 21, 23])
    meta = data['meta']
    assert meta['raw_root'] == str(raw / 'Penn_Action')
    assert meta['class_names'] == list(ba.CLASSES)
    assert meta['keypoint_layouts'] == dict(keypoint='pennaction13')
    assert meta['left_out'] == {'0005': 'no_frames', '0006': 'no_label'}
    assert meta['skipped'] == {}
    summary = meta['summary']
    assert summary['found'] == 6 and summary['kept'] == 4
    assert summary['split'] == dict(train=2, test=2)
    assert summary['left_out'] == dict(no_frames=1, no_label=1, bad=0)
    assert summary['frame_mismatch'] == dict(within_tolerance=1)
    assert summary['nan_joints'] == dict(samples=1, joints=1)
    assert summary['bbox_rows_mismatch'] == 1
    assert summary['dimensions'] == dict(HWT=4, WHT=0, other=0, absent=0)


def test_keypoints_and_visibility(built):
    anns = {a['frame_dir']: a for a in built[0]['annotations']}
    for name, (_, _, rows, _, _) in SEQUENCES.items():
        kp, score = anns[name]['keypoint'], anns[name]['keypoint_score']
        assert kp.shape == (1, rows, J, 2) and kp.dtype == np.float32
        assert score.shape == (1, rows, J) and score.dtype == np.float32
        x, y, visibility = joints(name, rows)
        expect = np.stack([x, y], -1)[None].astype(np.float32)
        expect_score = visibility[None].astype(np.float32)
        if name == NAN_JOINT[0]:
            _, t, j = NAN_JOINT
            expect[0, t, j] = 0
            expect_score[0, t, j] = 0
        np.testing.assert_array_equal(kp, expect)
        np.testing.assert_array_equal(score, expect_score)
    assert anns['0001']['keypoint_score'][0, :, 12].sum() == 0
    np.testing.assert_array_equal(anns['0001']['keypoint_score'][0, :, 5],
                                  [1, 0, 1, 0, 1])


def test_cli_and_cache(raw, built, tmp_path, capsys):
    out, cache = tmp_path / 'cli.pkl', tmp_path / 'cache'
    args = ['--raw-root', str(raw / 'Penn_Action'), '--out', str(out),
            '--num-workers', '0', '--cache-dir', str(cache)]
    assert ba.main(args) == 0
    assert len(list(cache.glob('*.pkl'))) == 4
    assert ba.main(args) == 0  # from the cache
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert data['split'] == built[0]['split']
    for got, want in zip(data['annotations'], built[0]['annotations']):
        assert got.keys() == want.keys()
        np.testing.assert_array_equal(got['keypoint'], want['keypoint'])
    assert ba.main(['--raw-root', str(tmp_path), '--out',
                    str(tmp_path / 'none.pkl')]) == 1
    assert 'no PennAction labels folder' in capsys.readouterr().err


def build_one(tmp_path, **kwargs):
    root = tmp_path / 'Penn_Action'
    write_sequence(root, '0001', **kwargs)
    return root


@pytest.mark.parametrize('kwargs, error, words', [
    (dict(rows=10, frames=4), FrameCountMismatchError,
     ['sample 0001', 'frames/0001 has 4', 'has 10']),
    (dict(rows=4, frames=4, nframes=9), FrameCountMismatchError,
     ['sample 0001', 'has 4 frames', 'nframes = 9', '0001.mat']),
    (dict(action='curling'), AnnotationBuildError,
     ['sample 0001', 'labels/0001.mat', "unknown action 'curling'"]),
    (dict(x=np.zeros((4, 14))), AnnotationBuildError,
     ['sample 0001', '0001.mat', 'x, y and visibility must be [T, 13]']),
    (dict(train=0), AnnotationBuildError,
     ['0001.mat', 'train must be 1 (train) or -1 (test), got 0']),
    (dict(frame_names=['000001.jpg', '000002.jpg', '000004.jpg',
                       '000005.jpg']), AnnotationBuildError,
     ['sample 0001', 'frames/0001', 'missing [3]']),
], ids=['frames', 'nframes', 'action', 'joints', 'train', 'gap'])
def test_bad_input_is_an_error_naming_the_sample(tmp_path, kwargs, error,
                                                 words):
    root = build_one(tmp_path, **kwargs)
    with pytest.raises(error) as info:
        ba.build_annotations(root, tmp_path / 'out.pkl', num_workers=0)
    for word in words:
        assert word in str(info.value)
    assert not (tmp_path / 'out.pkl').exists()


def test_skip_bad_counts_and_lists(tmp_path):
    root = build_one(tmp_path, rows=10, frames=4)
    write_sequence(root, '0002', 'pushup', train=-1)
    (root / 'labels' / '0003.mat').write_bytes(b'not a mat file')
    write_sequence(root, '0003', mat=False)
    data = ba.build_annotations(root, tmp_path / 'out.pkl', num_workers=0,
                                skip_bad=True)
    assert [a['frame_dir'] for a in data['annotations']] == ['0002']
    assert data['split'] == dict(train=[], test=['0002'])
    skipped = data['meta']['skipped']
    assert sorted(skipped) == ['0001', '0003']
    assert 'beyond the tolerance' in skipped['0001']
    assert '0003.mat' in skipped['0003']
    assert data['meta']['summary']['left_out']['bad'] == 2


def dataset(out, split, pipeline, modalities=('rgb', 'pose')):
    from mmengine.registry import init_default_scope

    import mmar_ext  # noqa: F401
    from mmaction.registry import DATASETS
    init_default_scope('mmaction')
    return DATASETS.build(dict(type='MultiModalActionDataset',
                               ann_file=str(out), split=split,
                               modalities=modalities, num_classes=15,
                               pipeline=pipeline))


def test_decode_frames_and_keypoints(built):
    """MultiModalDecode reads the frame folder through rgb_frames, in frame
    order; 0003 (5 frames for 6 label rows) is mapped onto the label
    clock; the keypoints are sliced to the same frames."""
    from mmar_ext.datasets.transforms.decoding import MultiModalDecode
    ds = dataset(built[1], 'train', [])
    anns = {a['frame_dir']: a for a in built[0]['annotations']}
    for index in range(len(ds)):
        info = copy.deepcopy(ds.get_data_info(index))
        name, rows = info['frame_dir'], info['total_frames']
        info['frame_inds'] = np.arange(rows)[::-1].copy()
        out = MultiModalDecode()(info)
        files = anns[name]['num_frames']['rgb']
        mapped = np.minimum(np.arange(rows)[::-1] * files // rows, files - 1)
        means = [img.mean() for img in out['rgb_imgs']]
        np.testing.assert_allclose(
            means, [frame_value(name, i) for i in mapped], atol=3)
        assert out['rgb_imgs'][0].shape == (H, W, 3)
        np.testing.assert_array_equal(
            out['keypoint'], anns[name]['keypoint'][:, ::-1])
        np.testing.assert_array_equal(
            out['keypoint_score'], anns[name]['keypoint_score'][:, ::-1])


def shrunk_config(flip_ratio=None):
    """configs/deformable_transformer_pennaction.py at CPU size: 4 frames,
    Resize(-1, 40), 32 x 32 crops, widths / 4, one block."""
    from mmengine.config import Config
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.rgb.base_channels = 16
    cfg.model.neck.update(in_channels=(16, 64), token_shape=(4, 4, 4),
                          num_layers=1, num_heads=2, kernel_size=3)
    cfg.model.cls_head.in_channels = 3 * 64
    sizes = dict(Resize=dict(scale=(-1, 40)), RandomCrop=dict(size=32),
                 CenterCrop=dict(crop_size=32))
    if flip_ratio is not None:
        sizes['Flip'] = dict(flip_ratio=flip_ratio)
    pipelines = {}
    for split in ('train', 'test'):
        pipeline = copy.deepcopy(cfg[f'{split}_dataloader'].dataset.pipeline)
        pipeline[0]['clip_len'] = 4
        pipeline[2]['transforms'] = [dict(t, **sizes.get(t['type'], {}))
                                     for t in pipeline[2]['transforms']]
        pipelines[split] = pipeline
    return cfg, pipelines


def test_config_flips_left_and_right_joints(built):
    """The config's flip pairs swap PennAction's left / right joints:
    flipped, left shoulder (1) is the mirrored right shoulder (2)."""
    cfg, _ = shrunk_config()
    flips = [t for t in cfg.train_dataloader.dataset.pipeline[2][
        'transforms'] if t['type'] == 'Flip']
    assert flips[0]['layout'] == 'pennaction13'
    from mmar_ext.datasets.skeleton_layouts import flip_kp
    assert flip_kp('pennaction13') == dict(left_kp=[1, 3, 5, 7, 9, 11],
                                           right_kp=[2, 4, 6, 8, 10, 12])
    assert cfg.train_dataloader.dataset.split == 'train'
    assert cfg.test_dataloader.dataset.split == 'test'
    assert cfg.model.cls_head.num_classes == 15
    coords = {}
    for ratio in (0., 1.):
        _, pipelines = shrunk_config(flip_ratio=ratio)
        pipeline = pipelines['test'][:2] + [dict(
            pipelines['train'][2], transforms=[
                t for t in pipelines['train'][2]['transforms']
                if t['type'] in ('Resize', 'Flip', 'FormatShape')])
        ] + pipelines['test'][3:]
        item = dataset(built[1], 'train', pipeline)[0]
        coords[ratio] = item['inputs']['pose_imgs'].numpy()
    assert coords[0.].shape == (1, 4, J, 3)
    w = 53 // 2  # Resize(-1, 40) of 24 x 32 frames: 40 x 53, F_a 20 x 26
    left, right = [1, 3, 5, 7, 9, 11], [2, 4, 6, 8, 10, 12]
    np.testing.assert_array_equal(coords[1.][..., left + right, 2],
                                  coords[0.][..., right + left, 2])
    valid = coords[1.][..., left, 2] > 0
    assert valid.sum() > 10
    np.testing.assert_allclose(coords[1.][..., left, 0][valid],
                               w - 1 - coords[0.][..., right, 0][valid],
                               atol=1e-4)
    assert coords[0.][..., 12, 2].sum() == 0  # invisible: not a token


def test_one_training_step_of_the_config(built):
    import torch
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import OptimWrapper

    from mmaction.registry import MODELS
    cfg, pipelines = shrunk_config()
    train = dataset(built[1], cfg.train_dataloader.dataset.split,
                    pipelines['train'])
    assert len(train) == 2
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    batch = pseudo_collate([train[0], train[1]])
    assert tuple(batch['inputs']['rgb_imgs'][0].shape) == (1, 3, 4, 32, 32)
    assert tuple(batch['inputs']['pose_imgs'][0].shape) == (1, 4, J, 3)
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-4))
    log_vars = model.train_step(batch, optim)
    assert torch.isfinite(log_vars['loss'])
    test = dataset(built[1], cfg.test_dataloader.dataset.split,
                   pipelines['test'])
    model.eval()
    with torch.no_grad():
        results = model.test_step(pseudo_collate([test[0]]))
    assert results[0].pred_score.shape == (15, )
