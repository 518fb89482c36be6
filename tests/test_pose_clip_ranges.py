"""Pose extraction (``data_prep.pose``) of clips that are not a whole video:
a range of a longer video (``frame_offset``, PKU-MMD, FineGYM) and a folder
of per-frame images (``rgb_path`` folder + ``rgb_frames``, NW-UCLA, UWA3D,
PennAction).

Every test frame is one flat grey level that codes its index, and the
detector is replaced by one that puts a person box at ``x1 = grey level``:
the boxes of a result tell which frames went through the models. The pose
model is the real one (random weights, from the fixtures of
``test_pose_extraction.py``) in the extractor's test, and a fake one that
puts the joints on the box in the dataset runs (runner and merge).
"""
import os
import pickle

import cv2
import numpy as np
import pytest

import test_pose_extraction
from data_prep.pose import runner
from data_prep.pose.extractor import PoseExtractor, as_boxes
from data_prep.pose.runner import merge_results, run_extraction
from data_prep.pose.video import (BadVideoError, FrameFolder, VideoFrames,
                                  open_frames)

#: the random-weight checkpoints and models of the packaged configs
checkpoints = test_pose_extraction.checkpoints
loaded_models = test_pose_extraction.loaded_models

SIZE = (128, 96)  # (W, H)
VIDEO_FRAMES = 12


def grey(index: int) -> int:
    """Grey level of frame ``index`` (steps of 8: MJPG keeps them apart)."""
    return 40 + 8 * index


def write_grey_video(path, frames=VIDEO_FRAMES):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10,
                             SIZE)
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((SIZE[1], SIZE[0], 3), grey(i), np.uint8))
    writer.release()
    return str(path)


def write_grey_folder(folder, frames=VIDEO_FRAMES):
    """PNG frames ``img_1.png`` .. (numbers not zero-padded, so listing
    order is not frame order); returns the names in frame order."""
    os.makedirs(folder, exist_ok=True)
    names = [f'img_{i + 1}.png' for i in range(frames)]
    for i, name in enumerate(names):
        cv2.imwrite(os.path.join(folder, name),
                    np.full((SIZE[1], SIZE[0], 3), grey(i), np.uint8))
    return names


def levels(frames):
    return [int(round(float(frame.mean()))) for frame in frames]


def grey_boxes(frames):
    """The fake detector: one person box per frame at x1 = grey level."""
    return [np.array([[f.mean(), 10, f.mean() + 60, 90, 0.9]], np.float32)
            for f in frames]


def box_levels(result):
    """Grey level of the frame each result frame was extracted from."""
    return [int(round(float(x))) for x in result['bbox'][0, :, 0]] \
        if isinstance(result, dict) else \
        [int(round(float(x))) for x in result.bbox[0, :, 0]]


def assert_levels(got, indices):
    expected = [grey(i) for i in indices]
    assert np.abs(np.array(got) - expected).max() <= 2, (got, expected)


# --------------------------------------------------------------------------
# Reading the frames
# --------------------------------------------------------------------------
def test_video_range_reads_the_clip_frames(tmp_path):
    video = write_grey_video(tmp_path / 'long.avi')
    clip = VideoFrames(video, frame_offset=5, num_frames=4)
    assert len(clip) == 4 and clip.video_frames == VIDEO_FRAMES
    assert clip.shape == (SIZE[1], SIZE[0])
    assert_levels(levels(clip.read(0, 4)), range(5, 9))
    assert [start for start, _ in clip.batches(3)] == [0, 3]
    assert_levels(levels(clip.read(2, 4)), [7, 8])
    # without num_frames: to the end; without offset: the whole video
    assert len(VideoFrames(video, frame_offset=5)) == VIDEO_FRAMES - 5
    assert len(VideoFrames(video)) == VIDEO_FRAMES
    # a clip past the end of the video names the file and the frames
    with pytest.raises(BadVideoError) as info:
        VideoFrames(video, frame_offset=10, num_frames=4)
    assert video in str(info.value) and '10..13' in str(info.value) and \
        f'{VIDEO_FRAMES} frames' in str(info.value)
    with pytest.raises(BadVideoError, match='empty clip'):
        VideoFrames(video, frame_offset=3, num_frames=0)


def test_frame_folder_reads_the_listed_files(tmp_path):
    folder = tmp_path / 'frames'
    names = write_grey_folder(folder)
    whole = FrameFolder(folder, names)
    assert len(whole) == VIDEO_FRAMES and whole.shape == (SIZE[1], SIZE[0])
    assert_levels(levels(whole.read(0, VIDEO_FRAMES)), range(VIDEO_FRAMES))
    clip = open_frames(str(folder), frame_files=names, frame_offset=9,
                       num_frames=3)
    assert isinstance(clip, FrameFolder)
    assert_levels(levels(clip.read(0, 3)), [9, 10, 11])
    with pytest.raises(BadVideoError, match='frame list has 12 frames'):
        FrameFolder(folder, names, frame_offset=10, num_frames=3)
    # a folder needs its list; a listed file that is not there is named
    with pytest.raises(BadVideoError, match='rgb_frames'):
        open_frames(str(folder))
    os.remove(folder / names[4])
    with pytest.raises(BadVideoError) as info:
        whole.read(3, 6)
    assert str(folder / names[4]) in str(info.value)
    cv2.imwrite(str(folder / names[4]), np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(BadVideoError, match='10x10 while the first frame'):
        whole.read(4, 5)


# --------------------------------------------------------------------------
# The extractor and the dataset run
# --------------------------------------------------------------------------
def box_keypoints(frames, boxes):
    """The fake pose model (dataset runs, where the models do not matter):
    joint j of a box at x1 sits at (x1 + j, y1)."""
    out = []
    for frame_boxes in boxes:
        frame_boxes = as_boxes(frame_boxes)  # [n, 4]
        kpt = np.zeros((len(frame_boxes), 17, 2), np.float32)
        kpt[..., 0] = frame_boxes[:, :1] + np.arange(17)
        kpt[..., 1] = frame_boxes[:, 1:2]
        out.append((kpt, np.ones((len(frame_boxes), 17), np.float32)))
    return out


@pytest.fixture
def extractor(loaded_models, monkeypatch):
    """The real extractor with the grey-level detector."""
    det, pose = loaded_models
    extractor = PoseExtractor(det, pose, max_persons=1, batch_size=3,
                              optimize=False)
    monkeypatch.setattr(extractor, 'detect', grey_boxes)
    return extractor


@pytest.fixture
def fast_extractor(extractor, monkeypatch):
    """The same with the fake pose model, built by the dataset run."""
    monkeypatch.setattr(extractor, 'estimate', box_keypoints)
    monkeypatch.setattr(runner.ExtractionOptions, 'build_extractor',
                        lambda self, device='auto': extractor)
    return extractor


def test_extractor_takes_only_the_clip(tmp_path, extractor):
    video = write_grey_video(tmp_path / 'long.avi')
    result = extractor.extract_video(video, frame_offset=6, num_frames=4)
    assert result.keypoint.shape == (1, 4, 17, 2)
    assert result.keypoint_score[0].any(axis=1).all()  # each frame posed
    assert_levels(box_levels(result), range(6, 10))
    folder = tmp_path / 'frames'
    names = write_grey_folder(folder)
    result = extractor.extract_video(str(folder), frame_files=names,
                                     frame_offset=2, num_frames=3)
    assert result.keypoint.shape == (1, 3, 17, 2)
    assert_levels(box_levels(result), range(2, 5))


def clip_annotations(raw):
    """A whole video, a range of the same long video, a frame folder and a
    range of a frame folder (as the converters of issue 13 write them)."""
    write_grey_video(raw / 'videos' / 'long.avi')
    names = write_grey_folder(raw / 'frames' / 'seq')

    def ann(name, label, total, **keys):
        return dict(frame_dir=name, label=label, total_frames=total,
                    img_shape=(SIZE[1], SIZE[0]),
                    original_shape=(SIZE[1], SIZE[0]),
                    num_frames=dict(rgb=total),
                    modality_shapes=dict(rgb=(SIZE[1], SIZE[0])), **keys)

    annotations = [
        ann('whole', 0, VIDEO_FRAMES, rgb_path='videos/long.avi'),
        ann('range', 1, 4, rgb_path='videos/long.avi', frame_offset=7),
        ann('folder', 2, VIDEO_FRAMES, rgb_path='frames/seq',
            rgb_frames=names),
        ann('folder_range', 3, 3, rgb_path='frames/seq', rgb_frames=names,
            frame_offset=4),
    ]
    return dict(split=dict(train=[a['frame_dir'] for a in annotations]),
                annotations=annotations,
                meta=dict(dataset='clips', raw_root=str(raw),
                          keypoint_source=None))


def test_run_and_merge_clips(tmp_path, fast_extractor):
    """run_extraction + merge_results on ranges and folders: each result
    holds the clip's frames only; a re-run keeps them; another range in
    the annotation makes its result stale."""
    data = clip_annotations(tmp_path / 'raw')
    ann_file = tmp_path / 'ann.pkl'
    with open(ann_file, 'wb') as f:
        pickle.dump(data, f)
    out_dir = tmp_path / 'out'
    summary = run_extraction(ann_file, out_dir, device='cpu', progress=False)
    assert sorted(summary.processed) == ['folder', 'folder_range', 'range',
                                         'whole']
    expected = dict(whole=range(VIDEO_FRAMES), range=range(7, 11),
                    folder=range(VIDEO_FRAMES), folder_range=range(4, 7))
    for name, indices in expected.items():
        result = runner.load_result(runner.result_file(out_dir, name))
        assert result['num_frames'] == len(indices)
        assert_levels(box_levels(result), indices)
    assert runner.load_result(runner.result_file(out_dir, 'whole'))[
        'clip'] is None  # as results of earlier versions

    again = run_extraction(ann_file, out_dir, device='cpu', progress=False)
    assert again.processed == [] and len(again.already_done) == 4
    data['annotations'][1]['frame_offset'] = 2  # another range: redone
    with open(ann_file, 'wb') as f:
        pickle.dump(data, f)
    third = run_extraction(ann_file, out_dir, device='cpu', progress=False)
    assert third.processed == ['range']
    assert_levels(box_levels(runner.load_result(
        runner.result_file(out_dir, 'range'))), range(2, 6))

    merged = merge_results(ann_file, out_dir)
    for ann in merged['annotations']:
        total = ann['total_frames']
        assert ann['keypoint'].shape == (1, total, 17, 2)
        assert ann['keypoint_score'].shape == (1, total, 17)
        assert ann['num_frames']['rgb'] == total
    assert merged['annotations'][1]['frame_offset'] == 2  # kept


def test_clock_mapping_applies_within_the_clip(tmp_path, fast_extractor):
    """A range whose clock (total_frames) is longer than its RGB clip:
    clock frame t takes clip frame t * n // T, counted from frame_offset."""
    raw = tmp_path / 'raw'
    write_grey_video(raw / 'long.avi')
    ann = dict(frame_dir='clip', label=0, total_frames=6,
               img_shape=(SIZE[1], SIZE[0]), num_frames=dict(rgb=3),
               rgb_path='long.avi', frame_offset=5)
    ann_file = tmp_path / 'ann.pkl'
    with open(ann_file, 'wb') as f:
        pickle.dump(dict(split={}, annotations=[ann],
                         meta=dict(raw_root=str(raw))), f)
    run_extraction(ann_file, tmp_path / 'out', device='cpu', progress=False)
    result = runner.load_result(runner.result_file(tmp_path / 'out', 'clip'))
    assert_levels(box_levels(result), [5, 6, 7])
    merged = merge_results(ann_file, tmp_path / 'out')['annotations'][0]
    np.testing.assert_array_equal(merged['keypoint'],
                                  result['keypoint'][:, [0, 0, 1, 1, 2, 2]])


def test_bad_range_is_a_bad_video(tmp_path, fast_extractor):
    """A range past the end of its video stops the run naming the sample
    and the video, or is skipped with skip_bad."""
    from data_prep.pose.runner import PoseExtractionError
    data = clip_annotations(tmp_path / 'raw')
    data['annotations'][1]['frame_offset'] = 10  # frames 10..13 of 12
    ann_file = tmp_path / 'ann.pkl'
    with open(ann_file, 'wb') as f:
        pickle.dump(data, f)
    with pytest.raises(PoseExtractionError) as info:
        run_extraction(ann_file, tmp_path / 'out', device='cpu',
                       progress=False)
    assert 'range' in str(info.value) and 'long.avi' in str(info.value)
    summary = run_extraction(ann_file, tmp_path / 'out', device='cpu',
                             progress=False, skip_bad=True)
    assert list(summary.bad) == ['range']
    assert '10..13' in summary.bad['range']
