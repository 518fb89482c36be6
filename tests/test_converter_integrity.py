"""The NTU converter checks its inputs: real decodable frame counts against
the skeleton clock, samples without a skeleton, and --skip-bad.

One tiny synthetic raw tree is generated per module and copied per test, then
corrupted the way real downloads go wrong (a video cut in half, depth frames
deleted, a skeleton file missing).
"""
import logging
import os
import pickle
import shutil

import cv2
import pytest

from data_prep.ntu import build_annotations as ba
from data_prep.synthetic_ntu import generate

TINY = dict(num_classes=2, clips_per_class=3, frames=(12, 16),
            rgb_size=(96, 54), depth_size=(64, 53))
# clips of action 1 have 12 frames, clips of action 2 have 15 (seed 0)
SHORT, LONG, OTHER = ('S001C001P001R001A001', 'S002C001P006R001A002',
                      'S002C002P006R001A002')
LOGGER = 'data_prep.ntu.build_annotations'


@pytest.fixture(scope='module')
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp('integrity') / 'raw'
    names = generate(root, num_workers=1, progress=False, **TINY)
    assert SHORT in names and LONG in names and OTHER in names
    return root, names


@pytest.fixture
def raw(generated, tmp_path):
    root = tmp_path / 'raw'
    shutil.copytree(generated[0], root)
    return root


def rgb_file(root, name):
    return root / 'nturgb+d_rgb' / f'{name}_rgb.avi'


def depth_folder(root, name):
    return root / 'nturgb+d_depth_masked' / name


def cut_in_half(path):
    """Truncates a file to half its bytes (how the issue made its video)."""
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:
        f.truncate(size // 2)


def delete_last_depth_frames(root, name, count):
    folder = depth_folder(root, name)
    frames = sorted(folder.glob('MDepth-*.png'))
    for frame in frames[len(frames) - count:]:
        frame.unlink()
    return len(frames) - count


def decodable_frames(path, backend):
    """Ground truth: frames decoded one by one from the start."""
    if backend == 'cv2':
        capture, count = cv2.VideoCapture(str(path)), 0
        while capture.read()[0]:
            count += 1
        capture.release()
        return count
    import decord
    reader, count = decord.VideoReader(str(path), num_threads=1), 0
    for index in range(len(reader)):
        try:
            reader[index].asnumpy()
        except Exception:
            break
        count += 1
    return count


def build(root, tmp_path, **kwargs):
    kwargs.setdefault('num_workers', 0)
    out = tmp_path / 'out' / 'ann.pkl'
    returned = ba.build_annotations(root, out, **kwargs)
    with open(out, 'rb') as f:
        data = pickle.load(f)
    assert data['meta'] == returned['meta']
    return data


def by_name(data):
    return {ann['frame_dir']: ann for ann in data['annotations']}


def backend_or_skip(backend):
    if backend == 'decord':
        pytest.importorskip('decord')
    return backend


# --------------------------------------------------------------------------
# Probing: real decodable counts
# --------------------------------------------------------------------------
@pytest.mark.parametrize('backend', ['cv2', 'decord'])
def test_probe_video_counts_the_frames_that_decode(raw, backend):
    backend_or_skip(backend)
    video = rgb_file(raw, LONG)
    assert ba.probe_video(video, backend) == (15, (54, 96))  # intact
    cut_in_half(video)
    truth = decodable_frames(video, backend)
    assert 0 < truth < 15
    assert ba.probe_video(video, backend) == (truth, (54, 96))


@pytest.mark.parametrize('backend', ['cv2', 'decord'])
def test_intact_video_check_is_one_seek_and_one_decode(raw, backend,
                                                       monkeypatch):
    backend_or_skip(backend)
    decoded = []
    if backend == 'cv2':
        real_capture = cv2.VideoCapture

        class CountingCapture:
            def __init__(self, *args):
                self.capture = real_capture(*args)

            def read(self):
                decoded.append('read')
                return self.capture.read()

            def grab(self):
                decoded.append('grab')
                return self.capture.grab()

            def __getattr__(self, name):
                return getattr(self.capture, name)

        monkeypatch.setattr(cv2, 'VideoCapture', CountingCapture)
        expected = ['read']  # after one seek to the last frame
    else:
        import decord
        real_getitem = decord.VideoReader.__getitem__
        monkeypatch.setattr(
            decord.VideoReader, '__getitem__',
            lambda self, index: decoded.append(index)
            or real_getitem(self, index))
        expected = [14]  # the last frame only
    assert ba.probe_video(rgb_file(raw, LONG), backend) == (15, (54, 96))
    assert decoded == expected


def test_decord_searches_the_last_decodable_frame(raw, monkeypatch):
    """A container whose length claims frames that do not decode."""
    decord = pytest.importorskip('decord')
    real_reader, decoded = decord.VideoReader, []

    class OverClaimingReader(real_reader):
        def __len__(self):
            return super().__len__() + 30

        def __getitem__(self, index):
            decoded.append(index)
            if index >= super().__len__():
                raise decord.DECORDError(f'cannot decode frame {index}')
            return super().__getitem__(index)

    monkeypatch.setattr(decord, 'VideoReader', OverClaimingReader)
    assert ba.probe_video(rgb_file(raw, LONG), 'decord') == (15, (54, 96))
    assert decoded[0] == 44 and len(decoded) <= 2 + 6  # last, first, search


def test_probe_depth_folder_needs_a_readable_last_frame(raw):
    folder = depth_folder(raw, SHORT)
    assert ba.probe_depth_folder(folder) == (12, (53, 64))
    last = folder / 'MDepth-00000012.png'
    last.write_bytes(last.read_bytes()[:40])  # a truncated copy
    with pytest.raises(ba.ModalityFileError, match='MDepth-00000012.png'):
        ba.probe_depth_folder(folder)


# --------------------------------------------------------------------------
# Frame counts against the skeleton clock
# --------------------------------------------------------------------------
@pytest.mark.parametrize('backend', ['cv2', 'decord'])
def test_truncated_rgb_video_is_an_error_naming_sample_file_and_counts(
        raw, tmp_path, backend):
    backend_or_skip(backend)
    video = rgb_file(raw, LONG)
    cut_in_half(video)
    decoded = decodable_frames(video, backend)
    with pytest.raises(ba.FrameCountMismatchError) as info:
        build(raw, tmp_path, video_backend=backend)
    message = str(info.value)
    for part in (LONG, str(video), f'{decoded} decodable frames',
                 'total_frames) has 15'):
        assert part in message, f'{part!r} not in {message!r}'
    assert not (tmp_path / 'out' / 'ann.pkl').exists()


def test_deleted_trailing_depth_frames_are_an_error(raw, tmp_path):
    assert delete_last_depth_frames(raw, LONG, 6) == 9
    with pytest.raises(ba.AnnotationBuildError) as info:
        build(raw, tmp_path)
    message = str(info.value)
    for part in (LONG, str(depth_folder(raw, LONG)), '9 decodable frames',
                 'has 15'):
        assert part in message, f'{part!r} not in {message!r}'


def test_small_mismatch_is_kept_recorded_and_counted(raw, tmp_path, caplog):
    assert delete_last_depth_frames(raw, LONG, 1) == 14  # 1 <= 2 frames
    caplog.set_level(logging.INFO, logger=LOGGER)
    data = build(raw, tmp_path, skip_bad=True)
    ann = by_name(data)[LONG]
    assert ann['total_frames'] == 15
    assert ann['num_frames'] == dict(rgb=15, depth=14, ir=15)
    assert ann['frame_mismatch'] == dict(depth=(14, 15))
    assert all('frame_mismatch' not in a for a in data['annotations']
               if a['frame_dir'] != LONG)  # synthetic counts are exact
    summary = data['meta']['summary']
    assert summary['frame_mismatch'] == dict(within_tolerance=1, rejected=0)
    assert summary['kept'] == 6 and data['meta']['skipped'] == {}
    assert any('within the tolerance' in r.getMessage()
               and LONG in r.getMessage() for r in caplog.records)
    # the tolerance is an option: exact counts required
    with pytest.raises(ba.FrameCountMismatchError, match=LONG):
        build(raw, tmp_path, frame_tolerance=0, frame_tolerance_fraction=0)


# --------------------------------------------------------------------------
# Listing: the union of the modality folders
# --------------------------------------------------------------------------
def test_sample_without_skeleton_is_reported_and_kept_on_request(
        raw, tmp_path, caplog):
    (raw / 'nturgb+d_skeletons' / f'{LONG}.skeleton').unlink()
    delete_last_depth_frames(raw, LONG, 1)  # depth 14, rgb / ir 15
    caplog.set_level(logging.INFO, logger=LOGGER)
    data = build(raw, tmp_path, skip_bad=True)
    assert LONG not in by_name(data) and len(data['annotations']) == 5
    summary = data['meta']['summary']
    assert summary['found'] == 6
    assert summary['lacking']['skeleton'] == 1
    assert summary['left_out']['no_skeleton_file'] == 1
    assert any(r.levelno == logging.WARNING and LONG in r.getMessage()
               and 'no .skeleton file' in r.getMessage()
               for r in caplog.records)

    data = build(raw, tmp_path, keep_missing_skeletons=True)
    ann = by_name(data)[LONG]
    for key in ('keypoint', 'keypoint_score', 'keypoint_3d'):
        assert key not in ann
    # the depth clock, with RGB and IR compared against it
    assert ann['total_frames'] == 14
    assert ann['num_frames'] == dict(rgb=15, depth=14, ir=15)
    assert ann['frame_mismatch'] == dict(rgb=(15, 14), ir=(15, 14))
    assert ann['rgb_path'] == f'nturgb+d_rgb/{LONG}_rgb.avi'
    assert LONG in data['split']['xsub_train'] + data['split']['xsub_val']


def test_lacking_modalities_are_counted(raw, tmp_path):
    rgb_file(raw, SHORT).unlink()
    rgb_file(raw, OTHER).unlink()
    (raw / 'nturgb+d_ir' / f'{LONG}_ir.avi').unlink()
    (raw / 'nturgb+d_skeletons' / f'{OTHER}.skeleton').unlink()
    data = build(raw, tmp_path, skip_bad=True, keep_missing_skeletons=True)
    summary = data['meta']['summary']
    assert summary['lacking'] == dict(skeleton=1, rgb=2, depth=0, ir=1)
    assert summary['found'] == summary['kept'] == 6
    assert summary['kept_without_keypoints'] == 1
    assert set(by_name(data)[OTHER]['num_frames']) == {'depth', 'ir'}
    # only the requested modalities are listed: OTHER has neither a
    # skeleton nor an RGB video
    data = build(raw, tmp_path, skip_bad=True, modalities=('rgb',))
    summary = data['meta']['summary']
    assert summary['lacking'] == dict(skeleton=0, rgb=1)
    assert summary['found'] == summary['kept'] == 5
    assert OTHER not in by_name(data)


# --------------------------------------------------------------------------
# --skip-bad
# --------------------------------------------------------------------------
def corrupt_two(raw):
    """LONG: RGB cut in half; OTHER (after LONG): a truncated skeleton."""
    cut_in_half(rgb_file(raw, LONG))
    skeleton = raw / 'nturgb+d_skeletons' / f'{OTHER}.skeleton'
    lines = skeleton.read_text().splitlines()
    skeleton.write_text('\n'.join(lines[:40]) + '\n')
    return skeleton


@pytest.mark.parametrize('workers', [0, 2])
def test_skip_bad_writes_the_rest_and_lists_the_bad(raw, tmp_path, caplog,
                                                    workers):
    skeleton = corrupt_two(raw)
    caplog.set_level(logging.INFO, logger=LOGGER)
    data = build(raw, tmp_path, skip_bad=True, num_workers=workers,
                 video_backend='cv2')
    anns = by_name(data)
    assert len(anns) == 4 and OTHER not in anns and LONG not in anns
    skipped = data['meta']['skipped']
    assert list(skipped) == [LONG, OTHER]
    assert str(rgb_file(raw, LONG)) in skipped[LONG]
    assert 'total_frames) has 15' in skipped[LONG]
    assert str(skeleton) in skipped[OTHER] and 'line 41' in skipped[OTHER]
    summary = data['meta']['summary']
    assert summary['left_out']['bad'] == 2
    assert summary['frame_mismatch'] == dict(within_tolerance=0, rejected=1)
    assert summary['found'] == 6 and summary['kept'] == 4
    printed = '\n'.join(r.getMessage() for r in caplog.records)
    assert 'skipped 2 bad samples' in printed
    assert skipped[LONG] in printed and skipped[OTHER] in printed
    assert sorted(sum(data['split'].values(), [])) == sorted(
        2 * list(anns))  # the splits hold the kept samples only


def test_without_skip_bad_the_first_bad_sample_stops_the_build(raw, tmp_path):
    corrupt_two(raw)
    for workers in (0, 2):
        with pytest.raises(ba.AnnotationBuildError) as info:
            build(raw, tmp_path, video_backend='cv2', num_workers=workers)
        message = str(info.value)
        assert LONG in message and str(rgb_file(raw, LONG)) in message
        assert OTHER not in message
    assert not (tmp_path / 'out' / 'ann.pkl').exists()


def test_cache_keeps_good_samples_and_retries_bad_ones(generated, raw,
                                                      tmp_path):
    cache = tmp_path / 'cache'
    cut_in_half(rgb_file(raw, LONG))
    data = build(raw, tmp_path, skip_bad=True, cache_dir=cache,
                 video_backend='cv2')
    assert list(data['meta']['skipped']) == [LONG]
    assert (cache / f'{SHORT}.pkl').exists()
    assert not (cache / f'{LONG}.pkl').exists()  # failures are not cached
    shutil.copy(rgb_file(generated[0], LONG), rgb_file(raw, LONG))
    data = build(raw, tmp_path, skip_bad=True, cache_dir=cache,
                 video_backend='cv2')
    assert data['meta']['skipped'] == {}
    assert by_name(data)[LONG]['num_frames']['rgb'] == 15


def test_cli_returns_1_with_a_clear_message(raw, tmp_path, capsys):
    cut_in_half(rgb_file(raw, LONG))
    out = tmp_path / 'cli.pkl'
    args = ['--raw-root', str(raw), '--out', str(out), '--num-workers', '0',
            '--video-backend', 'cv2']
    assert ba.main(args) == 1
    err = capsys.readouterr().err
    assert f'error: sample {LONG}: rgb {rgb_file(raw, LONG)}' in err
    assert 'total_frames) has 15' in err
    assert not out.exists()

    assert ba.main(args + ['--skip-bad']) == 0
    with open(out, 'rb') as f:
        meta = pickle.load(f)['meta']
    assert list(meta['skipped']) == [LONG]

    assert ba.main(args + ['--frame-tolerance', '20']) == 0  # within it now
    with open(out, 'rb') as f:
        ann = by_name(pickle.load(f))[LONG]
    assert ann['frame_mismatch']['rgb'][1] == 15
