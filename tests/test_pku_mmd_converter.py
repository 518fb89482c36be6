"""Tests of data_prep.pku_mmd.build_annotations on a tiny PKU-MMD release.

The fixture writes the release's layout in its real formats: long MJPG
``.avi`` videos (RGB, depth, IR) whose frame ``i`` has the grey level
:func:`level` ``(i)`` (so a decoded frame tells its index), skeleton text
files of 150 numbers per line whose body-1 x coordinate is the frame index,
label files of ``action,start,end,confidence`` rows and the two split
files. Then: clip names, labels, frame ranges, keypoint slices, splits, the
clips without skeleton, the decoder reading each clip's own frames, bad
inputs, and one training step of a TSMF and an EPAM-Net PKU-MMD config on
the converter's output.
"""
import copy
import logging
import os.path as osp
import pickle
import shutil

import cv2
import numpy as np
import pytest
import torch

from data_prep.common import AnnotationBuildError
from data_prep.pku_mmd import build_annotations as pku

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
T = 40  # frames of every long video / skeleton file
#: (W, H); decord cannot decode widths below 32 (a stride mismatch)
SIZES = dict(rgb=(32, 24), depth=(32, 16), ir=(32, 20))
FOLDERS = dict(rgb='Data/RGB_VIDEO', depth='Data/DEPTH_VIDEO',
               ir='Data/IR_VIDEO', skeleton='Data/PKU_Skeleton_Renew',
               label='Label/Train_Label_PKU_final', split='Split')
#: label rows of each sequence (every view): action, start, end, confidence
ROWS = {
    '0002': [(1, 3, 12, 2), (25, 18, 30, 1)],
    '0003': [(7, 0, 9, 1), (51, 20, 39, 2)],  # the second ends at the end
    '0291': [(13, 5, 15, 2), (2, 16, 35, 1)],
}
VIDEOS = [f'{s}-{v}' for s in ROWS for v in 'LMR']
BODY2_FROM = 20  # the second body appears at frame 20 in every video
#: 0003-M: body 1 absent in frames 0-14, so its clip 0..9 has no skeleton
NO_BODY_UNTIL = {'0003-M': 15}
NO_SKELETON_FILE = ('0291-R', )
WITHOUT_SKELETON = ['F003V002C007L001', 'F291V003C013L001',
                    'F291V003C002L002']
UNLABELLED = '0004-L'  # a video and skeleton without label file


def level(i):
    """Grey level of frame ``i`` of every fixture video."""
    return 10 + 5 * i


def write_video(path, size, frames=T):
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 30,
                             size)
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), level(i), np.uint8))
    writer.release()


def skeleton_array(frames=T, no_body_until=0):
    """``[T, 2, 25, 3]``: body 1 x = frame + joint / 100, y = 0.5, z = 2.7;
    body 2 x = 100 + frame from :data:`BODY2_FROM` on, else zeros."""
    t = np.arange(frames, dtype=np.float64)[:, None]
    joints = np.arange(25)[None] / 100
    data = np.zeros((frames, 2, 25, 3))
    data[:, 0, :, 0] = t + joints
    data[:, 0, :, 1], data[:, 0, :, 2] = 0.5, 2.7
    data[:no_body_until, 0] = 0
    data[BODY2_FROM:, 1, :, 0] = 100 + t[BODY2_FROM:] + joints
    data[BODY2_FROM:, 1, :, 1:] = 1.0
    return data


def write_skeleton(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w') as f:  # as the release: '%f' numbers, spaces
        for frame in data.reshape(len(data), -1):
            f.write(' '.join(f'{v:f}' for v in frame) + '\n')


def write_labels(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(','.join(map(str, r)) + '\n' for r in rows))


def write_split(path, train, val, val_header='Validataion'):
    """The release's 4 lines, lists ending with ', '."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'Training videos: \n{", ".join(train)}, \n'
                    f'{val_header} videos: \n{", ".join(val)}, \n')


def write_release(root, videos, rows, modalities=('rgb', 'depth', 'ir'),
                  folders=FOLDERS, xsub=None, xview=None):
    """A release under ``root`` (``rows``: sequence -> label rows)."""
    for video in videos:
        seq = video[:4]
        for m in modalities:
            write_video(root / folders[m] / f'{video}.avi', SIZES[m])
        if video not in NO_SKELETON_FILE:
            write_skeleton(root / folders['skeleton'] / f'{video}.txt',
                           skeleton_array(
                               no_body_until=NO_BODY_UNTIL.get(video, 0)))
        if seq in rows:
            write_labels(root / folders['label'] / f'{video}.txt', rows[seq])
    listed = [v for v in videos if v[:4] in rows]
    xsub = xsub or ([v for v in listed if v[:4] != '0291'],
                    [v for v in listed if v[:4] == '0291'])
    xview = xview or ([v for v in listed if v[-1] != 'M'],
                      [v for v in listed if v[-1] == 'M'])
    write_split(root / folders['split'] / 'cross-subject.txt', *xsub)
    write_split(root / folders['split'] / 'cross-view.txt', *xview,
                val_header='Validation')


@pytest.fixture(scope='module')
def release(tmp_path_factory):
    """The fixture release, converted once (in-process) -> its pkl."""
    root = tmp_path_factory.mktemp('pku_mmd') / 'raw'
    write_release(root, VIDEOS + [UNLABELLED], ROWS)
    out = root.parent / 'pku_mmd_annotations.pkl'
    data = pku.build_annotations(root, out, num_workers=0)
    return dict(root=root, out=out, data=data,
                by_name={a['frame_dir']: a for a in data['annotations']})


def expected_clips():
    """``{name: (video, action, start, end, confidence)}``."""
    clips = {}
    for video in VIDEOS:
        for row, (action, start, end, conf) in enumerate(ROWS[video[:4]], 1):
            name = (f'F{int(video[:4]):03d}V{"LMR".index(video[-1]) + 1:03d}'
                    f'C{action:03d}L{row:03d}')
            clips[name] = (video, action, start, end, conf)
    return clips


# ------------------------------------------------------------- the output
def test_clip_names_labels_and_frame_ranges(release):
    clips = expected_clips()
    anns = release['data']['annotations']
    assert [a['frame_dir'] for a in anns] == list(clips)  # 18, video order
    assert 'F002V001C001L001' in clips and 'F291V003C002L002' in clips
    for ann in anns:
        video, action, start, end, conf = clips[ann['frame_dir']]
        assert ann['label'] == action - 1
        assert ann['sequence'] == video and ann['confidence'] == conf
        assert ann['frame_offset'] == start
        assert ann['total_frames'] == end - start + 1
        assert ann['num_frames'] == {m: end - start + 1
                                     for m in ('rgb', 'depth', 'ir')}
        assert ann['rgb_path'] == f'Data/RGB_VIDEO/{video}.avi'
        assert ann['depth_path'] == f'Data/DEPTH_VIDEO/{video}.avi'
        assert ann['ir_path'] == f'Data/IR_VIDEO/{video}.avi'
        assert ann['img_shape'] == ann['original_shape'] == (24, 32)
        assert ann['modality_shapes'] == dict(rgb=(24, 32), depth=(16, 32),
                                              ir=(20, 32))
    meta = release['data']['meta']
    assert meta['dataset'] == 'pku_mmd' and meta['keypoint_source'] is None
    assert meta['raw_root'] == str(release['root'])
    assert meta['keypoint_layouts'] == {'keypoint_3d': 'ntu25'}
    assert meta['class_names'][0] == 'action_1' and len(
        meta['class_names']) == 51
    assert meta['sequences']['0002-L']['num_frames'] == dict(
        rgb=T, depth=T, ir=T, skeleton=T)
    assert meta['skipped'] == {}
    summary = meta['summary']
    assert (summary['videos'], summary['found'], summary['kept']) == (9, 18,
                                                                      18)


def test_keypoint_slices(release):
    by_name = release['by_name']
    # 0002-L row 1: frames 3..12, only body 1
    kp = by_name['F002V001C001L001']['keypoint_3d']
    assert kp.dtype == np.float32 and kp.shape == (1, 10, 25, 3)
    np.testing.assert_allclose(kp[0, :, 0, 0], np.arange(3, 13), atol=1e-5)
    np.testing.assert_allclose(kp[0, 4, :, 0], 7 + np.arange(25) / 100,
                               atol=1e-5)
    # row 2: frames 18..30, body 2 from frame 20 (zeros before: absent)
    kp = by_name['F002V001C025L002']['keypoint_3d']
    assert kp.shape == (2, 13, 25, 3)
    np.testing.assert_allclose(kp[0, :, 0, 0], np.arange(18, 31), atol=1e-5)
    assert not kp[1, :2].any()
    np.testing.assert_allclose(kp[1, 2:, 0, 0], 100 + np.arange(20, 31),
                               atol=1e-5)
    # 0003-*: the last row ends at the last frame
    kp = by_name['F003V003C051L002']['keypoint_3d']
    np.testing.assert_allclose(kp[0, -1, 0, 0], T - 1, atol=1e-5)


def test_clips_without_skeleton_are_kept_and_reported(release):
    by_name = release['by_name']
    without = [n for n, a in by_name.items() if 'keypoint_3d' not in a]
    assert without == WITHOUT_SKELETON
    assert release['data']['meta']['summary']['without_skeleton'] == \
        WITHOUT_SKELETON
    # the body appears at frame 15 of 0003-M: the other clip has it
    assert by_name['F003V002C051L002']['keypoint_3d'].shape[0] == 2
    for name in WITHOUT_SKELETON:  # still a clip of the videos
        assert by_name[name]['rgb_path'].endswith(
            f'{by_name[name]["sequence"]}.avi')


def test_splits_come_from_the_split_files(release):
    data = release['data']
    clips = expected_clips()
    split = data['split']
    assert set(split) == {'xsub_train', 'xsub_val', 'xview_train',
                          'xview_val'}
    assert split['xsub_val'] == [n for n, c in clips.items()
                                 if c[0].startswith('0291')]
    assert split['xsub_train'] == [n for n, c in clips.items()
                                   if not c[0].startswith('0291')]
    assert split['xview_val'] == [n for n in clips if n[4:8] == 'V002']
    assert split['xview_train'] == [n for n in clips if n[4:8] != 'V002']
    summary = data['meta']['summary']
    assert summary['not_in_split'] == dict(xsub=[], xview=[])
    assert summary['unlabelled_videos'] == [UNLABELLED]
    assert summary['lacking'] == dict(rgb=0, depth=0, ir=0)


def test_cli_and_cache_give_the_same_pkl(release, tmp_path):
    out = tmp_path / 'cli.pkl'
    cache = tmp_path / 'cache'
    argv = ['--raw-root', str(release['root']), '--out', str(out),
            '--num-workers', '0', '--cache-dir', str(cache),
            '--modalities', 'rgb', 'ir']
    assert pku.main(argv) == 0
    assert len(list(cache.glob('*.pkl'))) == len(VIDEOS)
    assert pku.main(argv) == 0  # from the cache
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert data['split'] == release['data']['split']
    for ann in data['annotations']:
        ref = release['by_name'][ann['frame_dir']]
        assert 'depth_path' not in ann and set(ann['num_frames']) == {'rgb',
                                                                     'ir'}
        assert ann['frame_offset'] == ref['frame_offset']
        if 'keypoint_3d' in ref:
            np.testing.assert_array_equal(ann['keypoint_3d'],
                                          ref['keypoint_3d'])


def test_each_long_video_is_probed_once(release, tmp_path, monkeypatch):
    calls = []

    def probe(path, backend='auto'):
        calls.append(osp.relpath(path, release['root']))
        return probe_video(path, backend)

    probe_video = pku.probe_video
    monkeypatch.setattr(pku, 'probe_video', probe)
    pku.build_annotations(release['root'], tmp_path / 'a.pkl', num_workers=0)
    assert sorted(calls) == sorted(f'{FOLDERS[m]}/{v}.avi' for v in VIDEOS
                                   for m in ('rgb', 'depth', 'ir'))


def test_class_names_file(release, tmp_path):
    names = tmp_path / 'actions.txt'
    names.write_text(''.join(f'{a},name {a}\n' for a in range(51, 0, -1)))
    assert pku.read_class_names(names)[:2] == ['name 1', 'name 2']
    names.write_text('bow\nbrushing hair\n')
    with pytest.raises(ValueError, match='actions 1..51'):
        pku.read_class_names(names)


# ----------------------------------------------------- decoding the range
@pytest.mark.parametrize('backend', ['decord', 'pyav'])
def test_decoder_reads_each_clips_own_frames(release, backend):
    """MultiModalDecode adds frame_offset: clip frame i is video frame
    frame_offset + i in every modality (grey level check, MJPG: +-2)."""
    import mmar_ext  # noqa: F401
    from mmaction.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    dataset = DATASETS.build(dict(
        type='MultiModalActionDataset', ann_file=str(release['out']),
        modalities=('rgb', 'depth', 'ir', 'skeleton'), split='xview_val',
        missing_modality=dict(skeleton='skip'),
        pipeline=[dict(type='MultiModalDecode', video_backend=backend)]))
    names = [dataset.get_data_info(i)['frame_dir']
             for i in range(len(dataset))]
    assert 'F003V002C007L001' not in names  # no skeleton: skipped here
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        last = info['total_frames'] - 1
        info['frame_inds'] = np.array([0, last // 2, last])
        out = dataset.pipeline(copy.deepcopy(info))
        expected = level(info['frame_offset'] + info['frame_inds'])
        for m in ('rgb', 'depth', 'ir'):
            got = [float(np.mean(img)) for img in out[f'{m}_imgs']]
            np.testing.assert_allclose(got, expected, atol=2, err_msg=m)
        # the 3D joints are the clip's own (body 1 x = video frame index)
        x = out['keypoint_3d'][0, :, 0, 0]
        np.testing.assert_allclose(x, info['frame_offset'] + np.arange(
            info['total_frames']), atol=1e-5)


def data_check_problems(release, starts_at_zero):
    """Problems the pre-flight check (every clip frame decodes, files long
    enough for frame_offset + num_frames) finds in the clips whose
    frame_offset is (not) 0."""
    import mmar_ext  # noqa: F401
    from mmaction.registry import DATASETS
    from mmengine.registry import init_default_scope

    from mmar_ext.datasets.data_check import check_dataset
    init_default_scope('mmaction')
    dataset = DATASETS.build(dict(
        type='MultiModalActionDataset', ann_file=str(release['out']),
        modalities=('rgb', 'depth', 'ir'), pipeline=[]))
    assert len(dataset) == 18  # no skeleton requested: all clips
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    infos = [i for i in infos if (i['frame_offset'] == 0) == starts_at_zero]
    assert infos
    return check_dataset(infos, full_decode=True, workers=1, progress=False)


def test_data_check_accepts_the_ranges(release):
    assert data_check_problems(release, starts_at_zero=False) == []


def test_data_check_accepts_ranges_starting_at_frame_0(release):
    assert data_check_problems(release, starts_at_zero=True) == []


# ------------------------------------------------------------- bad input
def small_release(root, rows=None, **kwargs):
    """Two videos of one sequence, RGB only."""
    rows = rows or {'0002': ROWS['0002']}
    write_release(root, ['0002-L', '0002-R'], rows, modalities=('rgb', ),
                  **kwargs)
    return root


def test_row_past_the_end_of_its_video(tmp_path):
    root = small_release(tmp_path / 'raw', rows={
        '0002': [(1, 3, 12, 2), (25, 30, T, 1)]})  # frames are 0..T-1
    with pytest.raises(AnnotationBuildError) as error:
        pku.build_annotations(root, tmp_path / 'a.pkl', modalities=('rgb', ),
                              num_workers=0)
    message = str(error.value)
    assert 'Train_Label_PKU_final/0002-L.txt, row 2' in message
    assert 'video 0002-L' in message and 'Data/RGB_VIDEO/0002-L.avi' in message
    assert f'ends at frame {T}' in message
    assert not (tmp_path / 'a.pkl').exists()

    data = pku.build_annotations(root, tmp_path / 'b.pkl', skip_bad=True,
                                 modalities=('rgb', ), num_workers=0)
    assert sorted(data['meta']['skipped']) == ['F002V001C025L002',
                                               'F002V003C025L002']
    assert data['meta']['summary']['skipped'] == dict(clips=2, videos=0)
    assert [a['frame_dir'] for a in data['annotations']] == [
        'F002V001C001L001', 'F002V003C001L001']


def test_skeleton_line_with_wrong_count(tmp_path):
    root = small_release(tmp_path / 'raw')
    path = root / FOLDERS['skeleton'] / '0002-R.txt'
    lines = path.read_text().splitlines()
    lines[6] = ' '.join(lines[6].split()[:75])  # one body only
    path.write_text('\n'.join(lines) + '\n')
    with pytest.raises(AnnotationBuildError,
                       match=r'PKU_Skeleton_Renew/0002-R.txt, line 7: 75 '
                       r'values, expected 150'):
        pku.build_annotations(root, tmp_path / 'a.pkl', modalities=('rgb', ),
                              num_workers=0)
    data = pku.build_annotations(root, tmp_path / 'b.pkl', skip_bad=True,
                                 modalities=('rgb', ), num_workers=0)
    assert list(data['meta']['skipped']) == ['0002-R']  # the whole video
    assert data['meta']['summary']['skipped'] == dict(clips=0, videos=1)
    assert {a['sequence'] for a in data['annotations']} == {'0002-L'}


def test_video_missing_from_a_split_file_is_reported(tmp_path, caplog):
    root = small_release(tmp_path / 'raw',
                         xview=(['0002-L'], ['0003-M']))
    with caplog.at_level(logging.WARNING):
        data = pku.build_annotations(root, tmp_path / 'a.pkl',
                                     modalities=('rgb', ), num_workers=0)
    summary = data['meta']['summary']
    assert summary['not_in_split'] == dict(xsub=[], xview=['0002-R'])
    assert summary['listed_without_labels'] == dict(xsub=[],
                                                    xview=['0003-M'])
    assert "on neither list of cross-view.txt" in caplog.text
    in_xview = data['split']['xview_train'] + data['split']['xview_val']
    assert not any(n.startswith('F002V003') for n in in_xview)
    assert any(n.startswith('F002V003') for n in data['split']['xsub_train'])


def test_other_folder_spellings_and_bad_split_file(tmp_path):
    folders = dict(FOLDERS, rgb='RGB_VIDEO', skeleton='PKU_Skeleton_Renew',
                   label='Train_Label_PKU_final', split='.')
    root = small_release(tmp_path / 'raw', folders=folders)
    data = pku.build_annotations(root, tmp_path / 'a.pkl',
                                 modalities=('rgb', ), num_workers=0)
    assert data['meta']['folders'] == dict(
        label='Train_Label_PKU_final', skeleton='PKU_Skeleton_Renew',
        rgb='RGB_VIDEO')
    assert len(data['annotations']) == 4
    (root / 'cross-view.txt').write_text(
        'Training videos: \n0002-L, 2-R\nValidataion videos: \n0002-M\n')
    with pytest.raises(AnnotationBuildError,
                       match=r"cross-view.txt, line 2: '2-R' is not a video"):
        pku.build_annotations(root, tmp_path / 'b.pkl', modalities=('rgb', ),
                              num_workers=0)
    shutil.rmtree(root / 'PKU_Skeleton_Renew')
    with pytest.raises(FileNotFoundError, match='no PKU-MMD skeleton files'):
        pku.build_annotations(root, tmp_path / 'c.pkl', num_workers=0)


def test_video_shorter_than_its_skeleton(tmp_path):
    """Within the tolerance (max(2, 5 %) of 40 frames) the counts are
    recorded; beyond it the video is bad."""
    root = small_release(tmp_path / 'raw')
    write_video(root / FOLDERS['rgb'] / '0002-R.avi', SIZES['rgb'], T - 2)
    data = pku.build_annotations(root, tmp_path / 'a.pkl',
                                 modalities=('rgb', ), num_workers=0)
    video = data['meta']['sequences']['0002-R']
    assert video['frame_mismatch'] == dict(rgb=(T - 2, T))
    assert video['num_frames'] == dict(rgb=T - 2, skeleton=T)
    assert data['meta']['summary']['frame_mismatch'] == dict(
        within_tolerance=1)
    write_video(root / FOLDERS['rgb'] / '0002-L.avi', SIZES['rgb'], 30)
    with pytest.raises(AnnotationBuildError,
                       match=r'0002-L.avi has 30 decodable frames but the '
                       r'skeleton clock .* has 40'):
        pku.build_annotations(root, tmp_path / 'b.pkl', modalities=('rgb', ),
                              num_workers=0)


def test_malformed_label_row(tmp_path):
    root = small_release(tmp_path / 'raw')
    (root / FOLDERS['label'] / '0002-L.txt').write_text('1,3,12,2\n52,1,5,1\n')
    with pytest.raises(AnnotationBuildError,
                       match=r'0002-L.txt, line 2: action 52 is not'):
        pku.build_annotations(root, tmp_path / 'a.pkl', modalities=('rgb', ),
                              num_workers=0)


# ------------------------------------------------- training on the output
def one_train_step(cfg, train_dataset, num=2):
    """Builds ``cfg.model`` and runs one ``train_step`` on ``num`` samples
    of ``train_dataset``; returns the log variables."""
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import OptimWrapper

    from mmaction.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    batch = pseudo_collate([train_dataset[i] for i in range(num)])
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-3))
    log_vars = model.train_step(batch, optim)
    assert torch.isfinite(log_vars['loss'])
    return log_vars


def build_split(cfg, split, ann_file):
    from mmaction.registry import DATASETS
    d = copy.deepcopy(cfg[f'{split}_dataloader'].dataset)
    d.update(ann_file=str(ann_file), data_root=None)  # meta['raw_root']
    return DATASETS.build(d)


def test_tsmf_teacher_trains_on_the_output(release):
    """configs/tsmf_pku_mmd_xsub_teacher.py (ST-GCN on keypoint_3d): the
    clips without skeleton are left out by its missing_modality, one
    training step on the others (teacher clip shortened to 16 frames)."""
    import mmar_ext  # noqa: F401
    from mmengine import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'tsmf_pku_mmd_xsub_teacher.py'))
    for split in ('train', 'val'):
        for step in cfg[f'{split}_dataloader'].dataset.pipeline[0].transforms:
            if step['type'] == 'UniformSampleFrames':
                step['clip_len'] = 16
    train = build_split(cfg, 'train', release['out'])
    val = build_split(cfg, 'val', release['out'])
    xsub = release['data']['split']
    without = set(WITHOUT_SKELETON)
    assert len(train) == len(set(xsub['xsub_train']) - without) == 11
    assert len(val) == len(set(xsub['xsub_val']) - without) == 4
    assert train.num_skipped == 1 and val.num_skipped == 2
    item = train[0]
    assert tuple(item['inputs'].shape) == (1, 2, 16, 25, 3)
    one_train_step(cfg, train)


@pytest.fixture(scope='module')
def with_hrnet_keypoints(release, tmp_path_factory):
    """The converter's pkl with 2D COCO-17 keypoints added to every clip,
    as ``data_prep.pose_extraction`` adds HRNet's (PKU-MMD ships no 2D
    joints; EPAM-Net needs them). FAKE values, for the pipeline only: one
    person, a fixed 17-joint figure inside the 32x24 RGB frame, moving
    by one pixel every 10 frames, score 0.9 -- ``[1, total_frames, 17,
    2]`` on the clip's own frames."""
    data = copy.deepcopy(release['data'])
    rng = np.random.default_rng(0)
    figure = np.stack([rng.uniform(8, 24, 17), rng.uniform(4, 20, 17)], -1)
    for ann in data['annotations']:
        t = np.arange(ann['total_frames'])[:, None, None]
        frames = ann['frame_offset'] + t
        keypoint = figure[None] + np.concatenate(
            [frames // 10, np.zeros_like(frames)], -1)
        ann['keypoint'] = keypoint[None].astype(np.float32)
        ann['keypoint_score'] = np.full(ann['keypoint'].shape[:3], 0.9,
                                        np.float32)
    data['meta'].update(keypoint_source='hrnet')  # as pose_extraction
    data['meta']['keypoint_layouts']['keypoint'] = 'coco17'
    path = tmp_path_factory.mktemp('pku_hrnet') / 'pku_mmd_hrnet.pkl'
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return path


def tiny_epam(cfg):
    """EPAM-Net's clips shrunk: 6 pose frames (RGB every 3rd: 2), 64x64."""
    for split in ('train', 'val', 'test'):
        for step in cfg[f'{split}_dataloader'].dataset.pipeline:
            if step['type'] == 'MultiModalSampleFrames':
                step['modality_clip_len'] = dict(pose=6, rgb=2)
            for sub in [step] + list(step.get('transforms') or ()):
                if isinstance(sub, dict) and sub['type'] == 'Resize':
                    sub['scale'] = (64, 64)
    return cfg


def test_epam_net_trains_on_the_output(release, with_hrnet_keypoints):
    """configs/epam_net_pku_mmd_xview.py (stage 2: RGB + pose heatmaps,
    the stage-1 checkpoints not loaded) on the xview split of the output:
    every clip is used (no skeleton needed), the RGB clip is decoded from
    its range of the long video, one training step."""
    import mmar_ext  # noqa: F401
    from mmengine import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    cfg = tiny_epam(Config.fromfile(
        osp.join(ROOT, 'configs', 'epam_net_pku_mmd_xview.py')))
    cfg.model.stream_checkpoints = None
    train = build_split(cfg, 'train', with_hrnet_keypoints)
    test = build_split(cfg, 'test', with_hrnet_keypoints)
    split = release['data']['split']
    assert len(train) == len(split['xview_train']) == 12
    assert len(test) == len(split['xview_val']) == 6
    item = test[0]
    assert {k: tuple(v.shape) for k, v in item['inputs'].items()} == {
        'rgb_imgs': (1, 3, 2, 64, 64), 'pose_imgs': (1, 17, 6, 16, 16)}
    log_vars = one_train_step(cfg, train)
    assert {'rgb_loss_cls', 'pose_loss_cls'} <= set(log_vars)
