"""data_prep.uwa3d.build_annotations on tiny UWA3D II raw trees in the
layouts of the public copies, and one training iteration of the UWA3D II
config on its output.

Every frame has its own value -- RGB grey level ``30 * i + 15`` for frame
``i``, depth ``1000 * sample + i`` -- so a read frame tells which one it is;
frame files are numbered without padding (``9.jpg`` before ``10.jpg``).
Skeletons are MATLAB v7.3 files (h5py, dataset ``A``) and v5 files (scipy),
in both orientations.
"""
import importlib.util
import logging
import os
import pickle

import cv2
import numpy as np
import pytest
import scipy.io

from data_prep.common import AnnotationBuildError, natural_key
from data_prep.uwa3d import build_annotations as ba

# h5py is a runtime requirement (MATLAB v7.3 skeletons): its absence fails
# here instead of skipping the v7.3 checks
assert importlib.util.find_spec('h5py') is not None, \
    'h5py is in requirements/runtime.txt'

SIZE = (24, 32)            # (H, W) of the fake RGB and depth frames
FIRST_FRAME = 8            # frame files 8.jpg, 9.jpg, 10.jpg, 11.jpg
RGB_DIR = 'UWA3DII_RGB/UWA3D-RGB'
DEPTH_DIR = 'UWA3DII_Depth_ROI/UWA3D-Depth'
SKELETON_DIR = 'ActionsSkeleton'

#: name -> (RGB frames, depth frames (None: no depth), skeleton format,
#: name order of its folders). Skeleton frames = depth frames (the clock).
SAMPLES = {
    'a01_s01_v01_e01': (4, 4, 'v7.3', 've'),
    'a02_s02_v02_e01': (4, 4, 'v5', 'ev'),       # folders aAA_sSS_eEE_vVV
    'a03_s01_v03_e01': (4, 4, 'v5T', 've'),      # v5 stored [45, T]
    'a04_s03_v04_e01': (3, 3, 'v7.3', 've'),
    'a30_s04_v03_e01': (4, 3, 'v7.3', 've'),     # RGB one frame more
    'a01_s05_v04_e01': (4, 4, 'v5', 've'),
    'a21_s02_v04_e01': (4, None, 'v5', 've'),    # no depth (ActionMAE list)
}
COMPLETE = sorted(n for n, s in SAMPLES.items() if s[1] is not None)
NO_DEPTH = 'a21_s02_v04_e01'


def folder_name(name, order):
    if order == 've':
        return name
    a, s, v, e = name.split('_')
    return f'{a}_{s}_{e}_{v}'


def rgb_level(i):
    return 30 * i + 15


def depth_value(sample_index, i):
    return 1000 * (sample_index + 1) + i


def joints_of(sample_index, frames):
    """[T, 15, 3]: distinct per sample, frame, joint and axis."""
    t, j, c = np.meshgrid(np.arange(frames), np.arange(15), np.arange(3),
                          indexing='ij')
    return (sample_index + 0.01 * t + 0.1 * j + 10.0 * c).astype(np.float32)


def write_mat(path, array, version, variable='A'):
    """``array`` as MATLAB would store it: ``version`` 'v7.3' writes the
    h5py view (as given), 'v5' the MATLAB matrix."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if version == 'v7.3':
        import h5py
        with h5py.File(path, 'w') as f:
            f.create_dataset(variable, data=array)
    else:
        scipy.io.savemat(path, {variable: array})


def write_frames(folder, values, ext):
    os.makedirs(folder, exist_ok=True)
    for i, value in enumerate(values):
        if ext == '.jpg':
            image = np.full(SIZE + (3, ), value, np.uint8)
        else:
            image = np.full(SIZE, value, np.uint16)
        path = os.path.join(folder, f'{FIRST_FRAME + i}{ext}')
        assert cv2.imwrite(path, image)


def write_skeleton(root, name, joints, how):
    flat = joints.reshape(len(joints), 45)
    array = flat.T if how == 'v5T' else flat
    write_mat(os.path.join(root, SKELETON_DIR, f'{name}.mat'), array,
              'v7.3' if how == 'v7.3' else 'v5')


def write_tree(root, samples=SAMPLES):
    for index, (name, (n_rgb, n_depth, how, order)) in enumerate(
            sorted(samples.items())):
        folder = folder_name(name, order)
        write_frames(os.path.join(root, RGB_DIR, folder),
                     [rgb_level(i) for i in range(n_rgb)], '.jpg')
        if n_depth is not None:
            write_frames(os.path.join(root, DEPTH_DIR, folder),
                         [depth_value(index, i) for i in range(n_depth)],
                         '.png')
        write_skeleton(root, name, joints_of(index, n_depth or n_rgb), how)


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def build(*args, **kwargs):
    """build_annotations with its log messages."""
    handler = Records()
    logger = logging.getLogger(ba.__name__)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        data = ba.build_annotations(*args, num_workers=0, **kwargs)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return data, '\n'.join(handler.messages)


@pytest.fixture(scope='module')
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp('uwa3d')
    write_tree(str(root / 'raw'))
    data, log = build(root / 'raw', root / 'annotations.pkl')
    return dict(root=root, raw=str(root / 'raw'), data=data, log=log,
                ann=str(root / 'annotations.pkl'))


def annotations(data):
    return {a['frame_dir']: a for a in data['annotations']}


# ------------------------------------------------------------ the converter
def test_labels_layouts_and_meta(raw):
    data = raw['data']
    anns = annotations(data)
    assert sorted(anns) == COMPLETE
    for name, ann in anns.items():
        assert ann['label'] == int(name[1:3]) - 1
    meta = data['meta']
    assert meta['dataset'] == 'uwa3d' and meta['raw_root'] == raw['raw']
    assert meta['modalities'] == ['rgb', 'depth', 'skeleton']
    assert meta['class_names'][0] == 'a01' and len(meta['class_names']) == 30
    assert meta['keypoint_layouts'] == {'keypoint_3d': 'uwa3d15'}
    assert meta['layouts']['rgb']['folder'] == RGB_DIR
    assert meta['layouts']['rgb']['name_orders'] == {
        'aAA_sSS_eEE_vVV': 1, 'aAA_sSS_vVV_eEE': 6}
    assert meta['layouts']['depth'] == dict(
        folder=DEPTH_DIR, kind='frames',
        name_orders={'aAA_sSS_eEE_vVV': 1, 'aAA_sSS_vVV_eEE': 5})
    assert f'rgb: {RGB_DIR}/ (folders of frame images), 7 sequences' in \
        raw['log']
    assert meta['skipped'] == {}


def test_xview_splits(raw):
    split = raw['data']['split']
    assert split['xview34_train'] == [
        'a01_s05_v04_e01', 'a03_s01_v03_e01', 'a04_s03_v04_e01',
        'a30_s04_v03_e01']
    assert split['xview34_val'] == ['a01_s01_v01_e01', 'a02_s02_v02_e01']
    assert split['xview12_train'] == split['xview34_val']
    assert split['xview12_val'] == split['xview34_train']
    assert split['xview13_train'] == ['a01_s01_v01_e01', 'a03_s01_v03_e01',
                                      'a30_s04_v03_e01']
    assert set(split) == {f'xview{p}_{s}' for p in ('12', '13', '14', '23',
                                                    '24', '34')
                          for s in ('train', 'val')} | {
                                f'view{v}' for v in range(1, 5)}
    assert split['view4'] == ['a01_s05_v04_e01', 'a04_s03_v04_e01']


def test_frames_are_listed_in_numeric_order_and_paths_resolve(raw):
    anns = annotations(raw['data'])
    ann = anns['a01_s01_v01_e01']
    assert ann['rgb_frames'] == ['8.jpg', '9.jpg', '10.jpg', '11.jpg']
    assert sorted(ann['rgb_frames']) != ann['rgb_frames']
    assert ann['depth_frames'] == ['8.png', '9.png', '10.png', '11.png']
    assert ann['rgb_path'] == f'{RGB_DIR}/a01_s01_v01_e01'
    # the aAA_sSS_eEE_vVV folder keeps its own name in the path
    assert anns['a02_s02_v02_e01']['depth_path'] == \
        f'{DEPTH_DIR}/a02_s02_e01_v02'
    for name, ann in anns.items():
        index = sorted(SAMPLES).index(name)
        rgb = [cv2.imread(os.path.join(raw['raw'], ann['rgb_path'], f))
               for f in ann['rgb_frames']]
        assert [round(float(im.mean())) for im in rgb] == [
            rgb_level(i) for i in range(len(rgb))]
        depth = [cv2.imread(os.path.join(raw['raw'], ann['depth_path'], f),
                            cv2.IMREAD_UNCHANGED) for f in ann['depth_frames']]
        assert [int(d[0, 0]) for d in depth] == [
            depth_value(index, i) for i in range(len(depth))]
        assert ann['img_shape'] == ann['original_shape'] == SIZE
        assert ann['modality_shapes'] == dict(rgb=SIZE, depth=SIZE)


def test_frame_counts_and_clock(raw):
    anns = annotations(raw['data'])
    assert anns['a04_s03_v04_e01']['num_frames'] == dict(rgb=3, depth=3)
    assert anns['a04_s03_v04_e01']['total_frames'] == 3
    assert 'frame_mismatch' not in anns['a04_s03_v04_e01']
    # RGB one frame more than depth / skeleton: within max(2, 5 %)
    odd = anns['a30_s04_v03_e01']
    assert odd['total_frames'] == 3
    assert odd['num_frames'] == dict(rgb=4, depth=3)
    assert odd['frame_mismatch'] == dict(rgb=(4, 3))
    assert raw['data']['meta']['summary']['frame_mismatch'] == dict(
        within_tolerance=1)


def test_joints_in_both_mat_versions_and_orientations(raw):
    anns = annotations(raw['data'])
    for name, ann in anns.items():
        index = sorted(SAMPLES).index(name)
        kp = ann['keypoint_3d']
        assert kp.dtype == np.float32
        assert kp.shape == (1, ann['total_frames'], 15, 3)
        np.testing.assert_array_equal(
            kp[0], joints_of(index, ann['total_frames']))
    formats = raw['data']['meta']['summary']['skeleton_format']
    assert formats == {'v5 [45,T]': 1, 'v5 [T,45]': 2, 'v7.3 [T,45]': 3}
    assert raw['data']['meta']['summary']['depth_format'] == {
        'uint16 x1': 6}


def test_sample_lacking_depth_is_left_out_counted_and_named(raw):
    summary = raw['data']['meta']['summary']
    assert summary['found'] == 7 and summary['kept'] == 6
    assert summary['lacking'] == dict(rgb=0, depth=1, skeleton=0)
    assert summary['incomplete'] == {NO_DEPTH: ['depth']}
    assert summary['left_out'] == dict(lacking_modality=1, actionmae_list=0,
                                       bad=0)
    assert f'{NO_DEPTH} (no depth)' in raw['log']
    assert f'{NO_DEPTH} lacks depth' in raw['log']  # ActionMAE's list
    assert 'a06_s06_v04_e01 not in this copy' in raw['log']


def test_keep_incomplete_and_rgb_only(raw, tmp_path):
    data, _ = build(raw['raw'], tmp_path / 'keep.pkl', keep_incomplete=True)
    ann = annotations(data)[NO_DEPTH]
    assert 'depth_path' not in ann and 'depth_frames' not in ann
    assert ann['rgb_frames'] == ['8.jpg', '9.jpg', '10.jpg', '11.jpg']
    assert ann['num_frames'] == dict(rgb=4) and ann['total_frames'] == 4
    assert data['meta']['summary']['kept_incomplete'] == 1
    assert NO_DEPTH in data['split']['xview34_train']
    # RGB only: nothing lacks, the ActionMAE R+D list does not apply
    data, _ = build(raw['raw'], tmp_path / 'rgb.pkl', modalities=['rgb'])
    anns = annotations(data)
    assert len(anns) == 7 and data['meta']['keypoint_layouts'] == {}
    assert anns['a30_s04_v03_e01']['total_frames'] == 4  # the RGB clock
    assert 'keypoint_3d' not in anns['a30_s04_v03_e01']


def test_actionmae_sequence_with_both_modalities_is_left_out(tmp_path):
    listed = 'a06_s06_v04_e01'
    samples = {listed: (3, 3, 'v5', 've'),
               'a06_s06_v03_e01': (3, 3, 'v5', 've')}
    write_tree(str(tmp_path / 'raw'), samples)
    data, log = build(tmp_path / 'raw', tmp_path / 'a.pkl')
    assert [a['frame_dir'] for a in data['annotations']] == [
        'a06_s06_v03_e01']
    assert data['meta']['summary']['left_out']['actionmae_list'] == 1
    assert f'{listed} has RGB and depth here, left out' in log


def test_skeleton_with_14_joints_names_the_file(tmp_path):
    samples = {'a01_s01_v01_e01': (3, 3, 'v5', 've'),
               'a02_s01_v03_e01': (3, 3, 'v5', 've')}
    root = str(tmp_path / 'raw')
    write_tree(root, samples)
    bad = os.path.join(root, SKELETON_DIR, 'a02_s01_v03_e01.mat')
    write_mat(bad, np.zeros((3, 42), np.float32), 'v7.3')
    with pytest.raises(AnnotationBuildError) as error:
        build(root, tmp_path / 'a.pkl')
    message = str(error.value)
    assert 'a02_s01_v03_e01' in message and bad in message
    assert '[3, 42]' in message and '[T, 45]' in message
    assert not (tmp_path / 'a.pkl').exists()
    data, _ = build(root, tmp_path / 'a.pkl', skip_bad=True)
    assert [a['frame_dir'] for a in data['annotations']] == [
        'a01_s01_v01_e01']
    assert bad in data['meta']['skipped']['a02_s01_v03_e01']
    assert data['meta']['summary']['left_out']['bad'] == 1


def test_frame_count_beyond_the_tolerance_is_an_error(tmp_path):
    root = str(tmp_path / 'raw')
    write_tree(root, {'a01_s01_v01_e01': (8, 4, 'v5', 've')})
    with pytest.raises(AnnotationBuildError, match='beyond the tolerance'):
        build(root, tmp_path / 'a.pkl')
    data, _ = build(root, tmp_path / 'a.pkl', frame_tolerance=4)
    assert data['annotations'][0]['frame_mismatch'] == dict(rgb=(8, 4))


@pytest.mark.parametrize('version', ['v5', 'v7.3'])
def test_other_depth_layouts(tmp_path, version):
    """Actions_images PNG folders, and ActionsNew ``curFrame`` .mat files
    converted once to PNG folders."""
    root = tmp_path / 'raw'
    name = 'a05_s02_v03_e01'
    write_frames(str(root / RGB_DIR / name), [20, 60, 100], '.jpg')
    write_frames(str(root / 'UWA3DII_Depth/Actions_images/a05_s02_e01_v03'),
                 [7, 8, 9], '.png')
    data, log = build(root, tmp_path / 'images.pkl', modalities=['rgb',
                                                                 'depth'])
    ann = data['annotations'][0]
    assert ann['depth_path'] == 'UWA3DII_Depth/Actions_images/a05_s02_e01_v03'
    assert 'depth: UWA3DII_Depth/Actions_images/' in log
    # the .mat variant: H x W x T in MATLAB, T x W x H through h5py
    volume = np.stack([np.full(SIZE, 500 + i, np.uint16) for i in range(3)])
    volume[:, 0, 1] = 7  # marks the orientation
    stored = (volume.transpose(0, 2, 1) if version == 'v7.3'
              else volume.transpose(1, 2, 0))
    write_mat(str(root / 'ActionsNew' / 'a05_s02_v03.mat'), stored, version,
              'curFrame')
    data, log = build(root, tmp_path / 'mat.pkl', depth_dir='ActionsNew')
    ann = data['annotations'][0]
    assert ann['frame_dir'] == name
    assert ann['depth_path'] == f'ActionsNew_png/{name}'
    assert ann['depth_frames'] == ['000001.png', '000002.png', '000003.png']
    for i, file in enumerate(ann['depth_frames']):
        image = cv2.imread(str(root / ann['depth_path'] / file),
                           cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(image, volume[i])
    assert data['meta']['layouts']['depth']['kind'] == 'mat'
    assert 'also present, not used' not in log
    # converted once: a second run reuses the folder
    png = root / ann['depth_path'] / '000001.png'
    before = png.stat().st_mtime_ns
    build(root, tmp_path / 'mat2.pkl', depth_dir='ActionsNew')
    assert png.stat().st_mtime_ns == before


def test_missing_layout_and_cli(raw, tmp_path, capsys):
    out = tmp_path / 'cli.pkl'
    assert ba.main(['--raw-root', raw['raw'], '--out', str(out),
                    '--modalities', 'rgb', 'depth', '--num-workers', '0',
                    '--cache-dir', str(tmp_path / 'cache')]) == 0
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert [a['frame_dir'] for a in data['annotations']] == COMPLETE
    assert sorted(os.listdir(tmp_path / 'cache')) == [
        f'{n}.pkl' for n in COMPLETE]
    assert ba.main(['--raw-root', str(tmp_path), '--out', str(out)]) == 1
    assert 'no UWA3D II data' in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match='no folder'):
        ba.build_annotations(tmp_path / 'none', out)
    (tmp_path / 'only_rgb' / RGB_DIR / 'a01_s01_v01_e01').mkdir(parents=True)
    with pytest.raises(FileNotFoundError,
                       match='no UWA3D II skeleton.*--skeleton-dir'):
        ba.build_annotations(tmp_path / 'only_rgb', out,
                             modalities=['rgb', 'skeleton'])


def test_natural_order_helper_agrees():
    files = [f'{n}.jpg' for n in (10, 8, 11, 9)]
    assert sorted(files, key=natural_key) == ['8.jpg', '9.jpg', '10.jpg',
                                              '11.jpg']


# ------------------------------------------------------ one training step
def test_one_training_iteration_of_the_uwa3d_config(raw):
    import torch
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import OptimWrapper
    from mmengine.registry import init_default_scope

    import mmar_ext  # noqa: F401
    from mmaction.registry import DATASETS, MODELS
    from e2e_helpers import ROOT
    init_default_scope('mmaction')
    cfg = Config.fromfile(
        os.path.join(ROOT, 'configs/actionmae_uwa3d_xview34_rgb-depth.py'))
    assert cfg.train_dataloader.dataset.split == 'xview34_train'
    assert cfg.val_dataloader.dataset.split == 'xview34_val'
    # tiny clips: 2 frames; train: resize to 36, crop 36 then 32; test:
    # resize to 36, centre crop 32
    for split in ('train', 'val'):
        for step in cfg[f'{split}_dataloader'].dataset.pipeline:
            if step['type'] == 'MultiModalSampleFrames':
                step['clip_len'] = 2
            groups = step.get('transforms') or []
            for group in (groups.values() if isinstance(groups, dict)
                          else [groups]):
                for t in group:
                    if t['type'] == 'Resize':
                        t['scale'] = (-1, 36)
                    elif t['type'] == 'CenterCrop':
                        t['crop_size'] = 36 if split == 'train' else 32
                    elif t['type'] == 'RandomCrop':
                        t['size'] = 32
    for enc in cfg.model.backbone.values():
        enc.space_encoder.pretrained = None  # no downloads
        enc.space_encoder.depth = 18
    model = MODELS.build(cfg.model)
    items = {}
    for split in ('train', 'val'):
        dataset = DATASETS.build(dict(cfg[f'{split}_dataloader'].dataset,
                                      ann_file=raw['ann']))
        assert len(dataset) == (4 if split == 'train' else 2)
        items[split] = [dataset[i] for i in range(2)]
        shapes = {k: tuple(v.shape) for k, v in
                  items[split][0]['inputs'].items()}
        assert shapes == {'rgb_imgs': (1, 3, 2, 32, 32),
                          'depth_imgs': (1, 3, 2, 32, 32)}
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-4))
    log_vars = model.train_step(pseudo_collate(items['train']), optim)
    assert torch.isfinite(log_vars['loss'])
    results = model.val_step(pseudo_collate(items['val']))
    assert [r.pred_score.shape for r in results] == [(30, )] * 2
