"""Modality files other than NTU's (issue 13): folders of per-frame images
listed in ``<m>_frames`` and clips that are a range (``frame_offset``) of a
longer recording, read by ``MultiModalDecode`` and checked by the data
check; the shared converter toolkit ``data_prep.common``.

Every frame written here has its own grey level (``10 * index + 5``), so a
decoded frame tells which frame it is (JPEG and MJPG keep a flat grey within
a level or two).
"""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from data_prep import common
from mmar_ext.datasets.data_check import FileCheck, check_file
from mmar_ext.datasets.transforms import MultiModalDecode

SIZE = (24, 32)  # (H, W)
NUM = 12


def level(i: int) -> int:
    return 10 * i + 5


def write_frames(folder, names, dtype=np.uint8):
    os.makedirs(folder, exist_ok=True)
    for i, name in enumerate(names):
        image = np.full(SIZE, level(i), dtype)
        if dtype == np.uint8 and name.endswith('.jpg'):
            image = np.repeat(image[..., None], 3, -1)
        assert cv2.imwrite(osp.join(folder, name), image)


def write_video(path, num=NUM):
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 10,
                             SIZE[::-1])
    for i in range(num):
        writer.write(np.full(SIZE + (3, ), level(i), np.uint8))
    writer.release()


@pytest.fixture(scope='module')
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp('frames')
    # numbers not zero-padded, written out of order: frame_10 after frame_9
    rgb = [f'frame_{n}_tc_{1000 + 7 * n}_rgb.jpg' for n in range(1, NUM + 1)]
    write_frames(str(root / 'clip_rgb'), rgb)
    depth = [f'{n:06d}.png' for n in range(1, NUM + 1)]
    write_frames(str(root / 'clip_depth'), depth, np.uint16)
    write_video(str(root / 'long.avi'))
    return dict(root=root, rgb=rgb, depth=depth)


def decode(results, modalities, inds):
    results = dict(results, modalities=modalities,
                   frame_inds=np.asarray(inds), frame_dir='sample')
    return MultiModalDecode().transform(results)


def levels(images):
    return [int(round(float(np.mean(im)))) for im in images]


def test_natural_key_orders_unpadded_frame_numbers(raw):
    shuffled = sorted(raw['rgb'])  # string order: frame_1, frame_10, ...
    assert shuffled != raw['rgb']
    assert sorted(shuffled, key=common.natural_key) == raw['rgb']


def test_listed_frame_folders_decode_in_list_order(raw):
    root = raw['root']
    out = decode(
        dict(total_frames=NUM, rgb_path=str(root / 'clip_rgb'),
             rgb_frames=raw['rgb'], depth_path=str(root / 'clip_depth'),
             depth_frames=raw['depth'], img_shape=SIZE),
        ['rgb', 'depth'], [0, 9, 11, 9])
    assert out['rgb_imgs'][0].shape == SIZE + (3, )
    assert out['depth_imgs'][0].dtype == np.uint16
    np.testing.assert_allclose(levels(out['rgb_imgs']),
                               [level(i) for i in (0, 9, 11, 9)], atol=2)
    assert levels(out['depth_imgs']) == [level(i) for i in (0, 9, 11, 9)]


def test_frame_offset_shifts_every_image_modality(raw):
    root = raw['root']
    out = decode(
        dict(total_frames=4, frame_offset=6, num_frames=dict(rgb=4, depth=4),
             rgb_path=str(root / 'long.avi'),
             depth_path=str(root / 'clip_depth'),
             depth_frames=raw['depth'], img_shape=SIZE),
        ['rgb', 'depth'], [0, 3])
    np.testing.assert_allclose(levels(out['rgb_imgs']), [level(6), level(9)],
                               atol=2)
    assert levels(out['depth_imgs']) == [level(6), level(9)]


def test_depth_video_reads_its_first_channel(raw):
    out = decode(dict(total_frames=NUM, depth_path=str(raw['root'] /
                                                       'long.avi')),
                 ['depth'], [2])
    assert out['depth_imgs'][0].shape == SIZE
    assert abs(levels(out['depth_imgs'])[0] - level(2)) <= 2


def test_bad_frame_folders_name_the_sample_and_path(raw):
    root = raw['root']
    with pytest.raises(KeyError, match=r'sample: rgb_path .* no rgb_frames'):
        decode(dict(total_frames=NUM, rgb_path=str(root / 'clip_rgb')),
               ['rgb'], [0])
    with pytest.raises(IndexError, match='lists 12 frames; requested frame '
                       '14'):
        decode(dict(total_frames=NUM, frame_offset=3,
                    rgb_path=str(root / 'clip_rgb'), rgb_frames=raw['rgb']),
               ['rgb'], [11])
    with pytest.raises(FileNotFoundError, match='rgb frame not found: .*'
                       'gone.jpg'):
        decode(dict(total_frames=2, rgb_path=str(root / 'clip_rgb'),
                    rgb_frames=raw['rgb'][:1] + ['gone.jpg']), ['rgb'], [1])
    with pytest.raises(IOError, match='has 12 decodable frames'):
        decode(dict(total_frames=8, frame_offset=6,
                    rgb_path=str(root / 'long.avi')), ['rgb'], [7])


def test_data_check_reads_listed_folders_and_ranges(raw):
    root = raw['root']
    folder = str(root / 'clip_rgb')
    assert check_file(FileCheck('s', 'rgb', folder, NUM, True,
                                tuple(raw['rgb']))) == []
    # a range inside the long video is fine, one past its end is not
    video = str(root / 'long.avi')
    assert check_file(FileCheck('s', 'rgb', video, 4, True, None, 8)) == []
    [problem] = check_file(FileCheck('s', 'rgb', video, 5, False, None, 8))
    assert problem.kind == 'frame_count'
    assert 'the clip needs frames 8..12' in problem.message
    # a listed frame that is not there: unreadable (first / last) or, in
    # the middle, found by the full decode
    files = list(raw['rgb'])
    files[5] = 'gone.jpg'
    [problem] = check_file(FileCheck('s', 'rgb', folder, NUM, True,
                                     tuple(files)))
    assert problem.kind == 'decode' and problem.path.endswith('gone.jpg')
    [problem] = check_file(FileCheck('s', 'rgb', folder, NUM, False,
                                     tuple(files[:-1] + ['gone.jpg'])))
    assert problem.kind == 'unreadable'


def test_probe_frame_files_checks_first_and_last(raw, tmp_path):
    folder = str(raw['root'] / 'clip_depth')
    assert common.probe_frame_files(folder, raw['depth']) == (NUM, SIZE)
    with pytest.raises(common.ModalityFileError, match='no frame files'):
        common.probe_frame_files(folder, [])
    odd = tmp_path / 'odd'
    write_frames(str(odd), ['a.png'])
    cv2.imwrite(str(odd / 'b.png'), np.zeros((5, 5), np.uint8))
    with pytest.raises(common.ModalityFileError, match='5x5 while the first'):
        common.probe_frame_files(str(odd), ['a.png', 'b.png'])


def _square(x):
    if x < 0:
        raise ValueError(f'negative {x}')
    return x * x


def test_build_all_caches_and_collects_bad_samples(tmp_path):
    items = [(f's{i}', (i, )) for i in (1, 2, -3)]
    with pytest.raises(common.AnnotationBuildError,
                       match='sample s-3: ValueError: negative -3'):
        common.build_all(items, _square, num_workers=0)
    results, skipped = common.build_all(
        items, _square, stamp_of=lambda x: ('v1', x), cache_dir=tmp_path,
        num_workers=0, skip_bad=True)
    assert results == {'s1': 1, 's2': 4}
    assert list(skipped) == ['s-3']
    assert sorted(os.listdir(tmp_path)) == ['s1.pkl', 's2.pkl']
    # a cached result is reused while its stamp is unchanged
    common.atomic_pickle_dump((('v1', 2), 'cached'), tmp_path / 's2.pkl')
    results, _ = common.build_all(items[:2], _square,
                                  stamp_of=lambda x: ('v1', x),
                                  cache_dir=tmp_path, num_workers=0)
    assert results == {'s1': 1, 's2': 'cached'}
    results, _ = common.build_all(items[:2], _square,
                                  stamp_of=lambda x: ('v2', x),
                                  cache_dir=tmp_path, num_workers=0)
    assert results == {'s1': 1, 's2': 4}


def test_check_splits_drops_samples_not_built():
    assert common.check_splits({'train': ['a', 'b'], 'val': ['c']},
                               ['a', 'c']) == {'train': ['a'], 'val': ['c']}
