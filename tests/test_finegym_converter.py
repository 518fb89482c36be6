"""The FineGYM Gym99 converter (``data_prep.finegym.build_annotations``) on a
tiny raw tree in the real formats: two "YouTube" videos (OpenCV mp4v,
32x24, 10 fps, 60 and 50 frames, every frame one flat grey level that codes
its index, :data:`GREYS`), the annotation JSON, the element lists, the
categories file; a third listed video is not there (an incomplete crawl).
Then one training iteration of configs/deformable_transformer_finegym.py
on the converter's output.

Times of the fixture (seconds; frames at 10 fps, the end exclusive):

* ``A1`` = ``<VID_A>_E_000001_000005_A_0000_0001``: event at 1.0, sub-action
  0.0-1.0: frames 10..19;
* ``A2`` = ``..._A_0001_0003``: stages 1.2-2.0 and 2.5-3.04: frames 22..39;
* ``A3`` = ``<VID_A>_E_000003_000006_A_0000_0002``: event at 3.0, 0.5-1.46:
  frames 35..44;
* ``B1`` = ``<VID_B>_E_000002_000005_A_0000_0001``: event at 2.0, 0.0-1.0:
  frames 20..29; ``B2``: 1.0-2.5: frames 30..44; ``B_PAST_END``: 2.0-4.0:
  frames 40..59 of a 50-frame video.
"""
import json
import os
import pickle

import cv2
import numpy as np
import pytest

from data_prep.common import AnnotationBuildError, probe_video
from data_prep.finegym import build_annotations as finegym

FPS = 10
SIZE = (32, 24)  # (W, H)
VID_A = 'aB3_x-9Yz01'  # YouTube ids may hold '_' and '-'
VID_B = 'Zz9-Qq8_Ww7'
MISSING = 'MISSING0001'
LENGTHS = {VID_A: 60, VID_B: 50}
A1 = f'{VID_A}_E_000001_000005_A_0000_0001'
A2 = f'{VID_A}_E_000001_000005_A_0001_0003'
A3 = f'{VID_A}_E_000003_000006_A_0000_0002'
B1 = f'{VID_B}_E_000002_000005_A_0000_0001'
B2 = f'{VID_B}_E_000002_000005_A_0001_0003'
B_PAST_END = f'{VID_B}_E_000002_000005_A_0002_0004'
M1 = f'{MISSING}_E_000010_000020_A_0000_0001'
NOT_IN_JSON = f'{VID_A}_E_000009_000010_A_0000_0001'
NULL_SEGMENTS = f'{VID_A}_E_000000_000001_A_0000_0001'
#: sample -> (label, first frame, frames)
EXPECTED = {A1: (3, 10, 10), A2: (0, 22, 18), A3: (3, 35, 10),
            B1: (98, 20, 10), B2: (1, 30, 15)}
TRAIN = [(A1, 3), (A2, 0), (B1, 98), (M1, 5)]
VAL = [(A3, 3), (B2, 1)]


#: grey level of each frame index: a permutation, so that neighbouring
#: frames differ by much more than the codec's shift of flat grey levels
#: (mp4v: about -3 per encoding, constant over the clip)
GREYS = 20 + 3 * np.random.default_rng(0).permutation(64)


def grey(index):
    return GREYS[index]


def write_video(path, frames):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'),
                             FPS, SIZE)
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((SIZE[1], SIZE[0], 3), grey(i), np.uint8))
    writer.release()


def write_list(path, entries):
    path.write_text(''.join(f'{name} {label}\n' for name, label in entries))
    return str(path)


def stages(*pairs):
    return dict(timestamps=[list(p) for p in pairs])


ANNOTATION = {
    VID_A: {
        'E_000001_000005': dict(
            event=1, timestamps=[[1.0, 5.0]],
            segments={'A_0000_0001': stages((0.0, 1.0)),
                      'A_0001_0003': stages((1.2, 2.0), (2.5, 3.04))}),
        'E_000003_000006': dict(
            event=1, timestamps=[[3.0, 6.0]],
            segments={'A_0000_0002': stages((0.5, 1.46))}),
        'E_000000_000001': dict(event=1, timestamps=[[0.0, 1.0]],
                                segments=None),
    },
    VID_B: {
        'E_000002_000005': dict(
            event=4, timestamps=[[2.0, 5.0]],
            segments={'A_0000_0001': stages((0.0, 1.0)),
                      'A_0001_0003': stages((1.0, 2.5)),
                      'A_0002_0004': stages((2.0, 4.0))}),
    },
    MISSING: {
        'E_000010_000020': dict(
            event=1, timestamps=[[10.0, 20.0]],
            segments={'A_0000_0001': stages((0.0, 1.0))}),
    },
}


@pytest.fixture(scope='module')
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp('finegym')
    videos = root / 'videos'
    videos.mkdir()
    for yt_id, frames in LENGTHS.items():
        write_video(videos / f'{yt_id}.mp4', frames)
    ann = root / 'annotations'
    ann.mkdir()
    (ann / 'finegym_annotation_info_v1.1.json').write_text(
        json.dumps(ANNOTATION))
    write_list(ann / 'gym99_train_element_v1.1.txt', TRAIN)
    write_list(ann / 'gym99_val_element.txt', VAL)
    (ann / 'gym99_categories.txt').write_text(''.join(
        f'Clabel: {i:3d}; set: {1 + i // 10:2d}; Glabel: {3 * i:3d}; '
        f'(VT) element {i}, with a comma\n' for i in range(99)))
    return root


@pytest.fixture(scope='module')
def built(raw):
    out = raw / 'gym99.pkl'
    data = finegym.build_annotations(raw / 'videos', out,
                                     ann_dir=raw / 'annotations',
                                     num_workers=0)
    with open(out, 'rb') as f:
        assert pickle.load(f).keys() == data.keys()
    return data


def by_name(data):
    return {ann['frame_dir']: ann for ann in data['annotations']}


def decode(ann, raw_root, inds=None):
    """Grey levels of the frames MultiModalDecode gives for ``ann``."""
    from mmar_ext.datasets.transforms.decoding import MultiModalDecode
    results = dict(ann, modalities=('rgb', ),
                   rgb_path=os.path.join(raw_root, ann['rgb_path']),
                   frame_inds=np.arange(ann['total_frames'])
                   if inds is None else np.asarray(inds))
    results = MultiModalDecode()(results)
    return np.array([float(img.mean()) for img in results['rgb_imgs']])


def assert_frames(got, indices):
    """The decoded grey levels ``got`` are those of frames ``indices``: up
    to a shift the codec applies to the whole clip (at most 8 levels: two
    encodings for a trimmed clip), and nothing else."""
    error = np.asarray(got) - grey(np.asarray(indices))
    assert np.abs(error).max() <= 8 and error.std() <= 1.5, (got, indices)


# --------------------------------------------------------------------------
# The annotations
# --------------------------------------------------------------------------
def test_samples_labels_ranges_and_splits(built, raw):
    anns = by_name(built)
    assert list(anns) == [A1, A2, B1, A3, B2]  # list order, train first
    for name, (label, first, length) in EXPECTED.items():
        ann = anns[name]
        assert ann['label'] == label
        assert ann['frame_offset'] == first, name
        assert ann['total_frames'] == length == ann['num_frames']['rgb']
        assert ann['img_shape'] == ann['original_shape'] == (24, 32)
        assert ann['modality_shapes'] == dict(rgb=(24, 32))
        assert ann['rgb_path'] == f'{name.split("_E_")[0]}.mp4'
        assert 'keypoint' not in ann  # poses come from pose extraction
    assert built['split'] == dict(gym99_train=[A1, A2, B1],
                                  gym99_val=[A3, B2])
    meta = built['meta']
    assert meta['raw_root'] == str(raw / 'videos')
    assert meta['dataset'] == 'finegym_gym99'
    assert meta['modalities'] == ['rgb']
    assert meta['keypoint_source'] is None and meta['keypoint_layouts'] == {}
    assert len(meta['class_names']) == 99
    assert meta['class_names'][98] == '(VT) element 98, with a comma'
    assert meta['sources']['annotation'].endswith('info_v1.1.json')
    # the missing video: left out, counted, reported -- not an error
    assert meta['missing_videos'] == [MISSING]
    assert meta['summary']['left_out'] == dict(missing_video=1, bad=0)
    assert meta['summary']['videos'] == dict(listed=3, found=2, missing=1)
    assert meta['summary']['found'] == 6 and meta['summary']['kept'] == 5
    assert meta['skipped'] == {}


def test_decoder_reads_the_sub_action_frames(built):
    """MultiModalDecode adds frame_offset: clip frame t is video frame
    frame_offset + t (grey levels), the first and last included."""
    anns = by_name(built)
    root = built['meta']['raw_root']
    for name, (_, first, length) in EXPECTED.items():
        assert_frames(decode(anns[name], root), first + np.arange(length))
    assert_frames(decode(anns[A2], root, inds=[17, 0, 9, 3]),
                  [22 + 17, 22, 22 + 9, 22 + 3])


def test_frame_range_rule():
    """round((event + sub-action) * fps), halves up; the end exclusive."""
    assert finegym.frame_range(2407.0, 3.0, 5.0, 25) == (60250, 60300)
    assert finegym.frame_range(1.0, 0.05, 0.25, 10) == (11, 13)  # .5 up
    assert finegym.short_element_id(A1) == f'{VID_A}_000001_000005_0000_0001'
    assert finegym.parse_element_id(B2) == (VID_B, 'E_000002_000005',
                                            'A_0001_0003')
    with pytest.raises(ValueError, match='element id'):
        finegym.parse_element_id(f'{VID_A}_000001_000005')


def test_trim_dir_writes_clips_and_resumes(raw, tmp_path):
    """--trim-dir (through the CLI): one mp4 per sample with the right
    frames and no offset; a re-run keeps complete clips and rewrites a
    missing one."""
    trim = tmp_path / 'clips'
    out = tmp_path / 'trimmed.pkl'
    args = ['--videos-dir', str(raw / 'videos'), '--ann-dir',
            str(raw / 'annotations'), '--out', str(out), '--trim-dir',
            str(trim), '--num-workers', '0']
    assert finegym.main(args) == 0
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert data['meta']['raw_root'] == str(trim)
    assert data['meta']['summary']['trimmed'] == dict(written=5, kept=0)
    assert sorted(os.listdir(trim)) == sorted(f'{n}.mp4' for n in EXPECTED)
    for ann in data['annotations']:
        _, first, length = EXPECTED[ann['frame_dir']]
        assert ann['rgb_path'] == f'{ann["frame_dir"]}.mp4'
        assert 'frame_offset' not in ann
        assert probe_video(trim / ann['rgb_path']) == (length, (24, 32))
        assert_frames(decode(ann, str(trim)), first + np.arange(length))
    stamps = {n: os.stat(trim / n).st_mtime_ns for n in os.listdir(trim)}
    os.remove(trim / f'{B1}.mp4')
    assert finegym.main(args) == 0
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert data['meta']['summary']['trimmed'] == dict(written=1, kept=4)
    for name, stamp in stamps.items():
        if name != f'{B1}.mp4':
            assert os.stat(trim / name).st_mtime_ns == stamp, name
    assert probe_video(trim / f'{B1}.mp4') == (10, (24, 32))


# --------------------------------------------------------------------------
# Poses of a PYSKL pkl
# --------------------------------------------------------------------------
def pose_entry(frame_dir, frames, shape=(48, 64), seed=0):
    rng = np.random.default_rng(seed)
    return dict(frame_dir=frame_dir, label=0, total_frames=frames,
                img_shape=shape, original_shape=shape,
                keypoint=rng.uniform(0, 40, (1, frames, 17, 2)).astype(
                    np.float32),
                keypoint_score=rng.uniform(0, 1, (1, frames, 17)).astype(
                    np.float32))


def test_poses_merge(raw, built, tmp_path):
    """--poses: keypoints by frame_dir (the list id, or the id without
    E_ / A_), rescaled from the pkl's 48x64 frames to the 24x32 video; a
    frame count that differs is an error naming the sample, a skip with
    skip_bad, or mapped within pose_frame_tolerance."""
    entries = [pose_entry(A1, 10), pose_entry(A2, 18, seed=1),
               pose_entry(finegym.short_element_id(B1), 10, seed=2),
               pose_entry(A3, 10, seed=3), pose_entry(B2, 14, seed=4)]
    poses = tmp_path / 'gym_hrnet.pkl'
    with open(poses, 'wb') as f:
        pickle.dump(dict(split={}, annotations=entries), f)
    common = dict(ann_dir=raw / 'annotations', num_workers=0, poses=poses)
    with pytest.raises(AnnotationBuildError) as info:
        finegym.build_annotations(raw / 'videos', tmp_path / 'p.pkl',
                                  **common)
    assert B2 in str(info.value) and '14 frames' in str(info.value)
    assert not (tmp_path / 'p.pkl').exists()

    data = finegym.build_annotations(raw / 'videos', tmp_path / 'p.pkl',
                                     skip_bad=True, **common)
    anns = by_name(data)
    assert list(anns) == [A1, A2, B1, A3]
    assert list(data['meta']['skipped']) == [B2]
    assert data['split']['gym99_val'] == [A3]
    assert data['meta']['keypoint_source'] == 'pyskl_hrnet'
    assert data['meta']['keypoint_layouts'] == dict(keypoint='coco17')
    for entry, name in zip(entries, [A1, A2, B1, A3]):
        ann = anns[name]
        assert ann['keypoint'].dtype == np.float32
        np.testing.assert_allclose(ann['keypoint'], entry['keypoint'] / 2)
        np.testing.assert_array_equal(ann['keypoint_score'],
                                      entry['keypoint_score'])

    data = finegym.build_annotations(
        raw / 'videos', tmp_path / 'p.pkl', pose_frame_tolerance=1,
        **common)
    assert by_name(data)[B2]['frame_mismatch'] == dict(pose=(14, 15))
    assert by_name(data)[B2]['keypoint'].shape == (1, 15, 17, 2)
    assert data['meta']['summary']['pose_frame_mismatch'] == 1


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------
def test_bad_samples_error_or_skip(raw, tmp_path):
    """An id not in the JSON, an event without segments and a range past
    the end of its video: errors naming the sample (no pkl written), or
    counted skips with skip_bad; a missing video with require_videos."""
    ann = raw / 'annotations'
    val = write_list(tmp_path / 'val.txt', [(B2, 1), (NOT_IN_JSON, 2)])
    train = write_list(tmp_path / 'train.txt', [(A1, 3), (B_PAST_END, 7)])
    common = dict(annotation_file=ann / 'finegym_annotation_info_v1.1.json',
                  categories_file=ann / 'gym99_categories.txt',
                  num_workers=0, train_list=train)
    out = tmp_path / 'bad.pkl'
    with pytest.raises(AnnotationBuildError) as info:
        finegym.build_annotations(raw / 'videos', out, val_list=val,
                                  **common)
    assert NOT_IN_JSON in str(info.value)
    assert 'event E_000009_000010' in str(info.value)
    good_val = write_list(tmp_path / 'good_val.txt', [(B2, 1)])
    with pytest.raises(AnnotationBuildError) as info:
        finegym.build_annotations(raw / 'videos', out, val_list=good_val,
                                  **common)
    message = str(info.value)
    assert B_PAST_END in message and f'{VID_B}.mp4' in message
    assert 'past the end' in message and '40..59' in message
    assert '50 decodable frames' in message
    assert not out.exists()

    data = finegym.build_annotations(raw / 'videos', out, skip_bad=True,
                                     val_list=val, **common)
    assert [a['frame_dir'] for a in data['annotations']] == [A1, B2]
    assert sorted(data['meta']['skipped']) == sorted([B_PAST_END,
                                                      NOT_IN_JSON])
    assert data['meta']['summary']['left_out']['bad'] == 2
    assert data['split'] == dict(gym99_train=[A1], gym99_val=[B2])
    null = write_list(tmp_path / 'null.txt', [(NULL_SEGMENTS, 0)])
    with pytest.raises(AnnotationBuildError, match='segments are null'):
        finegym.build_annotations(raw / 'videos', out, val_list=null,
                                  **common)

    missing = write_list(tmp_path / 'missing.txt', [(M1, 5)])
    with pytest.raises(AnnotationBuildError, match=MISSING):
        finegym.build_annotations(raw / 'videos', out, val_list=missing,
                                  require_videos=True, **dict(
                                      common, train_list=good_val))


def test_malformed_lists_and_cli_errors(raw, tmp_path, capsys):
    bad_label = write_list(tmp_path / 'l.txt', [(A1, 99)])
    with pytest.raises(AnnotationBuildError, match='line 1: label 99'):
        finegym.read_element_list(bad_label)
    (tmp_path / 'm.txt').write_text(f'{A1}\n')
    with pytest.raises(AnnotationBuildError, match='line 1'):
        finegym.read_element_list(tmp_path / 'm.txt')
    twice = write_list(tmp_path / 't.txt', [(A1, 3), (A1, 4)])
    with pytest.raises(AnnotationBuildError, match='again with label 4'):
        finegym.read_element_list(twice)
    names = tmp_path / 'label_map_gym99.txt'  # MMAction2's: one per line
    names.write_text('first class\nsecond class\n')
    assert finegym.read_categories(names) == ['first class', 'second class']
    # the CLI prints one line and exits 1 (an annotation folder without
    # the files)
    assert finegym.main(['--videos-dir', str(raw / 'videos'), '--ann-dir',
                         str(tmp_path), '--out', str(tmp_path / 'x.pkl')]) \
        == 1
    assert 'no annotation file' in capsys.readouterr().err


# --------------------------------------------------------------------------
# One training iteration of the config on the converter's output
# --------------------------------------------------------------------------
def shrink_pipeline(pipeline, clip_len=4):
    """The config's pipeline at CPU size: clip_len frames, Resize(-1, 72),
    64 x 64 crops (as configs/deformable_transformer_synth.py)."""
    sizes = dict(Resize=dict(scale=(-1, 72)), RandomCrop=dict(size=64),
                 CenterCrop=dict(crop_size=64))
    out = []
    for step in pipeline:
        step = dict(step)
        if step['type'] == 'MultiModalSampleFrames':
            step['clip_len'] = clip_len
        if step['type'] == 'ModalityTransforms':
            step['transforms'] = [dict(t, **sizes.get(t['type'], {}))
                                  for t in step['transforms']]
        out.append(step)
    return out


def test_one_training_iteration_of_the_finegym_config(built, tmp_path):
    """configs/deformable_transformer_finegym.py, shrunk (widths / 4, 4
    frames of 64 x 64, one block), trains one step on the converter's
    output (ranges of the long videos, decoded with frame_offset)."""
    import torch
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    import mmar_ext  # noqa: F401
    from mmaction.registry import DATASETS, MODELS
    init_default_scope('mmaction')

    # The converter writes no keypoints: HRNet pose extraction
    # (python -m data_prep.pose_extraction) adds COCO-17 'keypoint' /
    # 'keypoint_score' [M, T, 17, ...] in RGB pixels, one person here. These
    # FAKE keypoints stand in for its output so that the R + pose config
    # can run.
    data = pickle.loads(pickle.dumps(built))
    rng = np.random.default_rng(0)
    for ann in data['annotations']:
        t = ann['total_frames']
        ann['keypoint'] = rng.uniform([4, 4], [28, 20], (1, t, 17, 2)).astype(
            np.float32)
        ann['keypoint_score'] = np.ones((1, t, 17), np.float32)
    data['meta'].update(keypoint_source='fake_for_test',
                        keypoint_layouts=dict(keypoint='coco17'))
    ann_file = tmp_path / 'with_fake_poses.pkl'
    with open(ann_file, 'wb') as f:
        pickle.dump(data, f)

    cfg = Config.fromfile(os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        'configs', 'deformable_transformer_finegym.py'))
    assert cfg.train_dataloader.dataset.split == 'gym99_train'
    assert cfg.val_dataloader.dataset.split == 'gym99_val'
    assert cfg.model.cls_head.num_classes == 99
    cfg.model.backbone.rgb.base_channels = 16
    cfg.model.neck.update(in_channels=(16, 64), token_shape=(4, 8, 8),
                          num_layers=1, num_heads=2, kernel_size=3)
    cfg.model.cls_head.in_channels = 3 * 64
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)

    for split in ('train', 'val'):
        d = cfg[f'{split}_dataloader'].dataset
        dataset = DATASETS.build(dict(d, ann_file=str(ann_file),
                                      pipeline=shrink_pipeline(d.pipeline)))
        assert len(dataset) == len(data['split'][f'gym99_{split}'])
        item = dataset[0]
        assert tuple(item['inputs']['rgb_imgs'].shape) == (1, 3, 4, 64, 64)
        assert tuple(item['inputs']['pose_imgs'].shape) == (1, 4, 34, 3)
        if split == 'train':
            batch = pseudo_collate([dataset[0], dataset[1]])
    model.train()
    losses = model.train_step(batch, optim_wrapper)
    assert torch.isfinite(losses['loss'])
