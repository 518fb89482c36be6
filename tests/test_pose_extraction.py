"""Tests of data_prep.pose (HRNet pose extraction) on tiny generated videos.

The real MMDetection / MMPose models are built from the packaged configs
with random weights and saved as local checkpoints, so the whole loading path
is the real one. To stay fast on a CPU the detector's test resize is reduced
(``test_dataloader.dataset.pipeline.1.scale``), so is the number of RPN
proposals (the RoI head costs the same at any image size), and the pose flip
test is off; random weights still give boxes above the score threshold.
"""
import os
import pickle

import cv2
import numpy as np
import pytest

import mmar_ext  # noqa: F401  (compat fixes first)
from data_prep import pose_extraction
from data_prep.pose import models, runner
from data_prep.pose.extractor import PoseExtractor
from data_prep.pose.reference import extract_frame_by_frame
from data_prep.pose.runner import (ExtractionOptions, PoseExtractionError,
                                   merge_results, run_extraction)
from data_prep.pose.tracking import box_iou, track_persons
from data_prep.pose.video import BadVideoError, VideoFrames, read_all_frames

SIZE = (128, 96)  # (W, H) of the test videos
DET_CFG_OPTIONS = {'test_dataloader.dataset.pipeline.1.scale': (256, 192),
                   'model.test_cfg.rpn.max_per_img': 100}
POSE_CFG_OPTIONS = {'model.test_cfg.flip_test': False}
NAMES = ['S001C001P001R001A001', 'S001C002P002R001A050',
         'S002C001P003R002A013']


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------
def write_video(path, frames=4, size=SIZE):
    """An MJPG .avi of a bright rectangle moving on a grey background."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10,
                             size)
    assert writer.isOpened()
    for i in range(frames):
        image = np.full((size[1], size[0], 3), 70, np.uint8)
        cv2.rectangle(image, (20 + 6 * i, 10), (55 + 6 * i, 90),
                      (200, 170, 150), -1)
        cv2.circle(image, (90, 30 + 4 * i), 12, (40, 90, 220), -1)
        writer.write(image)
    writer.release()
    return str(path)


def write_ann(path, raw_root, names, video_frames, clock=None):
    """An annotation pkl of docs/data_format.md with colour-joint keypoints
    (in the 1920x1080 space, as without an RGB video); ``clock``: sample ->
    total_frames when it differs from the video's frame count."""
    clock = clock or {}
    annotations = []
    for label, name in enumerate(names):
        total = clock.get(name, video_frames)
        annotations.append(dict(
            frame_dir=name, label=label, total_frames=total,
            img_shape=(1080, 1920), original_shape=(1080, 1920),
            num_frames=dict(rgb=video_frames),
            modality_shapes=dict(rgb=(1080, 1920)),
            rgb_path=f'nturgb+d_rgb/{name}_rgb.avi',
            keypoint=np.ones((1, total, 17, 2), np.float32),
            keypoint_score=np.ones((1, total, 17), np.float32),
            keypoint_3d=np.zeros((1, total, 25, 3), np.float32)))
    data = dict(split=dict(xsub_train=list(names), xsub_val=[]),
                annotations=annotations,
                meta=dict(dataset='ntu60', raw_root=str(raw_root),
                          keypoint_source='ntu_color'))
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return str(path)


def make_dataset(root, names, video_frames=2, clock=None):
    raw = root / 'raw'
    for name in names:
        write_video(raw / 'nturgb+d_rgb' / f'{name}_rgb.avi', video_frames)
    return (write_ann(root / 'ann.pkl', raw, names, video_frames, clock),
            str(raw))


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """Random-weight checkpoints of the packaged detector and pose configs."""
    import torch
    folder = tmp_path_factory.mktemp('checkpoints')
    torch.manual_seed(0)
    det = models.build_detector(checkpoint=None, device='cpu',
                                cfg_options=DET_CFG_OPTIONS)
    pose = models.build_pose_model(checkpoint=None, device='cpu',
                                   cfg_options=POSE_CFG_OPTIONS)
    det_file, pose_file = folder / 'det.pth', folder / 'pose.pth'
    torch.save({'state_dict': det.state_dict(),
                'meta': {'dataset_meta': {'classes': ('person', )}}},
               det_file)
    torch.save({'state_dict': pose.state_dict()}, pose_file)
    return str(det_file), str(pose_file)


def options(checkpoints, **kwargs):
    kwargs.setdefault('batch_size', 4)
    return ExtractionOptions(
        det_checkpoint=checkpoints[0], pose_checkpoint=checkpoints[1],
        det_cfg_options=DET_CFG_OPTIONS, pose_cfg_options=POSE_CFG_OPTIONS,
        **kwargs)


@pytest.fixture(scope='module')
def loaded_models(checkpoints):
    det = models.build_detector(models.DEFAULT_DET_CONFIG, checkpoints[0],
                                'cpu', DET_CFG_OPTIONS)
    pose = models.build_pose_model(models.DEFAULT_POSE_CONFIG,
                                   checkpoints[1], 'cpu', POSE_CFG_OPTIONS)
    return det, pose


# --------------------------------------------------------------------------
# Person tracking
# --------------------------------------------------------------------------
def test_box_iou():
    iou = box_iou([[0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 15, 10],
                                     [20, 20, 30, 30]])
    np.testing.assert_allclose(iou, [[1.0, 1 / 3, 0.0]])


def test_track_persons_keeps_identities():
    """Two persons walking towards each other (overlapping at the end),
    listed in shuffled order, one missing in a frame, brief clutter."""
    rng = np.random.default_rng(0)

    def person_a(t):  # moves right, highest total score
        return [10 + 4 * t, 10, 50 + 4 * t, 100, 0.99]

    def person_b(t):  # moves left
        return [120 - 4 * t, 12, 160 - 4 * t, 98, 0.8]

    detections = []
    for t in range(12):
        dets = [person_a(t), person_b(t)]
        if t == 5:
            dets = [person_b(t)]            # A not detected in frame 5
        if t in (2, 3):
            dets.append([200, 200, 220, 240, 0.6])  # clutter
        dets = np.array(dets, np.float32)
        detections.append(dets[rng.permutation(len(dets))])
    detections.append(np.zeros((0, 5), np.float32))  # nobody in frame 12

    tracks = track_persons(detections, max_persons=2)
    assert tracks.num_persons == 2 and tracks.num_frames == 13
    for t in range(12):
        if t != 5:
            np.testing.assert_allclose(tracks.boxes[0, t], person_a(t)[:4])
            assert tracks.scores[0, t] == pytest.approx(0.99)
        np.testing.assert_allclose(tracks.boxes[1, t], person_b(t)[:4])
    assert not tracks.valid[0, 5] and not tracks.boxes[0, 5].any()
    assert not tracks.valid[:, 12].any()
    assert tracks.valid.sum() == 23

    one = track_persons(detections, max_persons=1)
    assert one.num_persons == 1
    np.testing.assert_array_equal(one.boxes[0], tracks.boxes[0])


def test_part_of_a_person_is_not_a_second_person():
    """A box of the upper body inside the whole-body box (kept by NMS for
    its low IoU) is dropped before tracking, unless contain_thr=1."""
    clip = [np.array([[10 + t, 10, 50 + t, 100, 0.9],
                      [15 + t, 10, 45 + t, 45, 0.85]], np.float32)
            for t in range(6)]
    tracks = track_persons(clip, max_persons=2)
    assert tracks.num_persons == 1
    np.testing.assert_allclose(tracks.boxes[0, 3], [13, 10, 53, 100])
    assert track_persons(clip, max_persons=2,
                         contain_thr=1.0).num_persons == 2


def test_track_persons_gap_and_empty():
    box = np.array([[0, 0, 10, 10, 0.9]], np.float32)
    empty = np.zeros((0, 5), np.float32)
    # a gap of 2 frames is bridged with max_gap=2, not with max_gap=1
    clip = [box, empty, empty, box]
    assert track_persons(clip, max_persons=2, max_gap=2).num_persons == 1
    split = track_persons(clip, max_persons=2, max_gap=1)
    assert split.num_persons == 2
    assert split.valid.tolist() == [[True, False, False, False],
                                    [False, False, False, True]]
    nobody = track_persons([empty, empty], max_persons=2)
    assert nobody.num_persons == 0 and nobody.num_frames == 2
    with pytest.raises(ValueError):
        track_persons(clip, max_persons=0)


def test_frame_without_person_is_missing_pose(loaded_models, monkeypatch):
    """Patched detector output: no box in frame 1 gives zeros with score 0
    there (no whole-image box), the kept persons keep their slots."""
    det, pose = loaded_models
    extractor = PoseExtractor(det, pose, max_persons=2, batch_size=2,
                              optimize=False)
    boxes = {0: [[10, 10, 50, 90, 0.9], [70, 10, 110, 90, 0.8]],
             1: [],
             2: [[12, 10, 52, 90, 0.9]]}
    monkeypatch.setattr(
        extractor, 'detect', lambda frames: [
            np.array(boxes[i], np.float32).reshape(-1, 5)
            for i in range(len(frames))])
    frames = [np.full((96, 128, 3), 100 + 20 * i, np.uint8)
              for i in range(3)]
    result = extractor.extract_frames(frames)
    assert result.keypoint.shape == (2, 3, 17, 2)
    assert result.img_shape == (96, 128)
    assert not result.keypoint[:, 1].any()
    assert not result.keypoint_score[:, 1].any()
    assert not result.keypoint[1, 2].any()  # person 1 left after frame 0
    # (random weights: scores are heatmap maxima of any sign, not zeros)
    assert result.keypoint_score[0, 0].any()
    assert result.keypoint_score[0, 2].any()
    assert result.keypoint_score[1, 0].any()
    # keypoints lie in their person's padded crop (x 10..50 -> -7.5..67.5;
    # a non-positive heatmap maximum is put one heatmap pixel outside)
    x = result.keypoint[0, 0, :, 0]
    assert (x > -10).all() and (x < 70).all()
    x = result.keypoint[1, 0, :, 0]
    assert (x > 50).all() and (x < 130).all()
    np.testing.assert_allclose(result.bbox[0, 2], boxes[2][0])


def test_persons_from_label(tmp_path, loaded_models, monkeypatch):
    """--persons-from-label: one person outside NTU's mutual actions."""
    from data_prep.ntu.constants import NTU_MUTUAL_ACTIONS
    ann_file, raw = make_dataset(tmp_path, NAMES)  # labels 0, 1, 2
    with open(ann_file, 'rb') as f:
        data = pickle.load(f)
    data['annotations'][1]['label'] = 49  # A050 'punch/slap', mutual
    opts = ExtractionOptions(two_person_actions=NTU_MUTUAL_ACTIONS)
    jobs, _ = runner.list_jobs(data, raw, opts)
    assert [job.max_persons for job in jobs] == [1, 2, 1]
    assert [j.max_persons for j in runner.list_jobs(data, raw)[0]] == [2] * 3
    assert pose_extraction.parse_args(
        ['--ann-file', 'a', '--out-dir', 'o', '--persons-from-label']
    ).persons_from_label
    del data['annotations'][0]['label']
    with pytest.raises(PoseExtractionError, match='label'):
        runner.list_jobs(data, raw, opts)

    # the job's limit reaches the tracker
    det, pose = loaded_models
    extractor = PoseExtractor(det, pose, max_persons=2, batch_size=2,
                              optimize=False)
    two = np.array([[10, 10, 50, 90, 0.9], [70, 10, 110, 90, 0.8]],
                   np.float32)
    monkeypatch.setattr(extractor, 'detect',
                        lambda frames: [two for _ in frames])
    video = raw + f'/nturgb+d_rgb/{NAMES[0]}_rgb.avi'
    assert extractor.extract_video(video).keypoint.shape[0] == 2
    one = extractor.extract_video(video, max_persons=1)
    assert one.keypoint.shape[0] == 1
    np.testing.assert_allclose(one.bbox[0, :, :5], two[[0, 0]])


@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('sampling_ratio', [0, 2])
def test_embedding_bag_roi_align_equals_mmcv(aligned, sampling_ratio):
    """Same output as MMCV's RoIAlign for RoIs of every size, inside and
    across the border, empty ones, two images, NCHW or NHWC features."""
    import torch
    from mmcv.ops import RoIAlign

    from data_prep.pose.roi_align import EmbeddingBagRoIAlign
    torch.manual_seed(0)
    features = torch.randn(2, 8, 23, 31)
    num = 200
    corner = torch.rand(num, 2) * torch.tensor([31 * 8., 23 * 8.]) - 20
    size = torch.rand(num, 2) * 150
    size[:4] = 0                      # empty RoIs
    size[4:8] = 0.3                   # under a feature pixel
    rois = torch.cat([torch.randint(0, 2, (num, 1)).float(), corner,
                      corner + size], dim=1)
    mmcv_op = RoIAlign(7, 1 / 8, sampling_ratio, aligned=aligned)
    ours = EmbeddingBagRoIAlign.from_mmcv(mmcv_op)
    expected = mmcv_op(features, rois)
    for layout in (torch.contiguous_format, torch.channels_last):
        got = ours(features.contiguous(memory_format=layout), rois)
        assert got.shape == expected.shape == (num, 8, 7, 7)
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)
    assert ours(features, rois[:0]).shape == (0, 8, 7, 7)


def test_optimized_detector_uses_embedding_bag_roi_align(loaded_models):
    from mmcv.ops import RoIAlign

    from data_prep.pose.roi_align import EmbeddingBagRoIAlign
    det, pose = loaded_models
    extractor = PoseExtractor(det, pose, optimize=True)
    layers = extractor.det_model.roi_head.bbox_roi_extractor.roi_layers
    assert all(isinstance(m, EmbeddingBagRoIAlign) for m in layers)
    assert any(isinstance(m, RoIAlign) for m in det.modules())  # untouched


# --------------------------------------------------------------------------
# Batched extraction == frame-by-frame
# --------------------------------------------------------------------------
def test_batched_equals_frame_by_frame(tmp_path, loaded_models):
    det, pose = loaded_models
    video = write_video(tmp_path / 'clip.avi', frames=3)
    frames = read_all_frames(video)
    reference = extract_frame_by_frame(det, pose, frames, max_persons=2)
    # 3 frames in batches of 2: a full and a partial batch; default
    # optimisation (BN folding, channels-last) on
    extractor = PoseExtractor(det, pose, max_persons=2, batch_size=2)
    batched = extractor.extract_video(video)
    assert reference.bbox[..., 4].any(), 'random detector found no box'
    assert batched.keypoint.shape == reference.keypoint.shape
    np.testing.assert_array_equal(batched.bbox[..., 4] > 0,
                                  reference.bbox[..., 4] > 0)
    np.testing.assert_allclose(batched.bbox, reference.bbox, atol=1e-2)
    np.testing.assert_allclose(batched.keypoint_score,
                               reference.keypoint_score, atol=1e-3)
    # Keypoints: float rounding may flip MMPose's decoding where it compares
    # near-equal heatmap values (a maximum ~0 from random weights has no
    # location; the quarter-pixel refinement follows the sign of a
    # difference of neighbours): compare the located keypoints, all within
    # half a pixel and nearly all within 0.01 px.
    located = np.minimum(batched.keypoint_score,
                         reference.keypoint_score) > 1e-2
    assert located.mean() > 0.7
    diff = np.abs(batched.keypoint - reference.keypoint)[located]
    assert diff.max() < 0.5
    assert (diff < 1e-2).mean() > 0.95
    # frames without a person are zeros in both
    np.testing.assert_array_equal(batched.keypoint_score == 0,
                                  reference.keypoint_score == 0)
    assert batched.img_shape == reference.img_shape == (96, 128)


def test_bf16_trunks_hand_float32_on(tmp_path, loaded_models):
    """precision='bf16': backbone, neck and RPN head run in bfloat16, the
    rest (decoding, NMS, RoIAlign, heads) gets float32."""
    import torch
    det, pose = loaded_models
    extractor = PoseExtractor(det, pose, batch_size=2, precision='bf16')
    seen = []
    first_conv = extractor.det_model.backbone.conv1
    first_conv.register_forward_hook(
        lambda module, args, out: seen.append(out.dtype))
    feats = extractor.det_model.extract_feat(torch.zeros(1, 3, 64, 96))
    assert seen == [torch.bfloat16]
    assert all(f.dtype == torch.float32 for f in feats)
    assert next(det.parameters()).dtype == torch.float32  # copies changed
    frames = read_all_frames(write_video(tmp_path / 'clip.avi', frames=2))
    result = extractor.extract_frames(frames)
    for array in (result.keypoint, result.keypoint_score, result.bbox):
        assert array.dtype == np.float32 and np.isfinite(array).all()
    with pytest.raises(ValueError, match='CUDA'):
        PoseExtractor(det, pose, precision='fp16')
    with pytest.raises(ValueError, match='precision'):
        PoseExtractor(det, pose, precision='int8')


# --------------------------------------------------------------------------
# Dataset runs: resume, workers, merge
# --------------------------------------------------------------------------
def test_interrupted_run_resumes(tmp_path, checkpoints):
    ann_file, _ = make_dataset(tmp_path, NAMES)
    out_dir = tmp_path / 'out'
    opts = options(checkpoints, max_persons=1)
    first = run_extraction(ann_file, out_dir, workers=1, device='cpu',
                           progress=False, options=opts)
    assert sorted(first.processed) == sorted(NAMES)
    files = {n: runner.result_file(out_dir, n) for n in NAMES}
    kept_mtime = os.stat(files[NAMES[0]]).st_mtime_ns

    # interruption: one result never written, one written half (a
    # non-atomic copy), a stale temporary file of a killed write
    os.remove(files[NAMES[1]])
    with open(files[NAMES[2]], 'r+b') as f:
        f.truncate(os.path.getsize(files[NAMES[2]]) // 2)
    stale = out_dir / '.tmp_killed.pkl'
    stale.write_bytes(b'partial')
    os.utime(stale, (1e9, 1e9))

    second = run_extraction(ann_file, out_dir, workers=1, device='cpu',
                            progress=False, options=opts)
    assert second.already_done == [NAMES[0]]
    assert sorted(second.processed) == sorted(NAMES[1:])
    assert os.stat(files[NAMES[0]]).st_mtime_ns == kept_mtime
    assert not stale.exists()
    assert sorted(os.listdir(out_dir)) == sorted(f'{n}.pkl' for n in NAMES)

    third = run_extraction(ann_file, out_dir, workers=1, device='cpu',
                           progress=False, options=opts)
    assert third.processed == [] and len(third.already_done) == 3
    # other settings make a stored result stale
    jobs, _ = runner.list_jobs(runner.load_annotations(ann_file))
    assert runner.is_done(jobs[0], out_dir, opts.stamp())
    assert not runner.is_done(
        jobs[0], out_dir, options(checkpoints, max_persons=2).stamp())

    merged = merge_results(ann_file, out_dir)
    assert [a['frame_dir'] for a in merged['annotations']] == NAMES


def test_workers_merge_and_pose_dataset(tmp_path, checkpoints):
    """Two spawned workers; the merged pkl loads in MMAction2's
    PoseDataset."""
    from mmaction.datasets import PoseDataset
    from mmengine.registry import DefaultScope
    names = NAMES[:2]
    # the second sample's clock has 5 frames for its 3-frame video
    ann_file, _ = make_dataset(tmp_path, names, video_frames=3,
                               clock={names[1]: 5})
    out_dir = tmp_path / 'out'
    summary = run_extraction(ann_file, out_dir, workers=2, device='cpu',
                             progress=False,
                             options=options(checkpoints, max_persons=1))
    assert sorted(summary.processed) == sorted(names)
    merged_file = str(tmp_path / 'merged.pkl')
    merge_results(ann_file, out_dir, merged_file)

    with open(merged_file, 'rb') as f:
        data = pickle.load(f)
    assert data['meta']['keypoint_source'] == 'hrnet'
    assert data['meta']['pose_extraction']['missing'] == []
    for ann in data['annotations']:
        m, t = ann['keypoint'].shape[:2]
        assert m == 1 and t == ann['total_frames']
        assert ann['keypoint'].shape == (m, t, 17, 2)
        assert ann['keypoint_score'].shape == (m, t, 17)
        assert ann['keypoint'].dtype == np.float32
        assert ann['img_shape'] == ann['original_shape'] == (96, 128)
        assert ann['modality_shapes']['rgb'] == (96, 128)
        assert ann['keypoint_3d'].shape[1] == t  # untouched
    # clock frame t of 5 shows video frame t * 3 // 5
    result = runner.load_result(runner.result_file(out_dir, names[1]))
    assert result['keypoint'].shape[1] == 3
    np.testing.assert_array_equal(data['annotations'][1]['keypoint'],
                                  result['keypoint'][:, [0, 0, 1, 1, 2]])

    with DefaultScope.overwrite_default_scope('mmaction'):
        dataset = PoseDataset(ann_file=merged_file, split='xsub_train',
                              pipeline=[dict(type='PoseDecode')])
        assert len(dataset) == 2
        sample = dataset[1]
    assert sample['keypoint'].shape == (1, 5, 17, 2)
    assert sample['keypoint_score'].shape == (1, 5, 17)


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------
def write_zero_frame_video(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10,
                             SIZE)
    writer.release()
    return str(path)


def test_bad_videos_name_the_file(tmp_path):
    corrupt = tmp_path / 'corrupt.avi'
    corrupt.write_bytes(b'RIFF' + bytes(range(256)) * 8)
    empty = write_zero_frame_video(tmp_path / 'empty.avi')
    for path, reason in ((str(corrupt), 'cannot open'),
                         (empty, 'no frame'),
                         (str(tmp_path / 'absent.avi'), 'no such')):
        with pytest.raises(BadVideoError) as info:
            VideoFrames(path)
        assert path in str(info.value) and reason in str(info.value)
    assert len(VideoFrames(write_video(tmp_path / 'ok.avi'))) == 4


def test_cli_bad_video_error_then_skip(tmp_path, checkpoints, capsys):
    names = NAMES[:3]
    ann_file, raw = make_dataset(tmp_path, names)
    corrupt = os.path.join(raw, 'nturgb+d_rgb', f'{names[1]}_rgb.avi')
    with open(corrupt, 'wb') as f:
        f.write(b'not a video at all' * 100)
    empty = write_zero_frame_video(
        os.path.join(raw, 'nturgb+d_rgb', f'{names[2]}_rgb.avi'))
    out_dir = str(tmp_path / 'out')
    args = ['--ann-file', ann_file, '--out-dir', out_dir, '--workers', '1',
            '--device', 'cpu', '--batch-size', '4', '--max-persons', '1',
            '--det-checkpoint', checkpoints[0],
            '--pose-checkpoint', checkpoints[1], '--no-progress',
            '--det-cfg-options',
            'test_dataloader.dataset.pipeline.1.scale=(256,192)',
            '--pose-cfg-options', 'model.test_cfg.flip_test=False']

    assert pose_extraction.main(args) == 1
    err = capsys.readouterr().err
    assert corrupt in err and names[1] in err
    # the run stopped at the bad video; the good one before it is kept and
    # the annotation file is untouched
    assert os.listdir(out_dir) == [f'{names[0]}.pkl']
    with open(ann_file, 'rb') as f:
        assert pickle.load(f)['meta']['keypoint_source'] == 'ntu_color'

    assert pose_extraction.main(args + ['--skip-bad']) == 0
    err = capsys.readouterr().err
    assert corrupt in err and f'{empty}: the video has no frame' in err
    with open(ann_file, 'rb') as f:
        data = pickle.load(f)
    assert data['meta']['keypoint_source'] == 'hrnet'
    assert sorted(data['meta']['pose_extraction']['missing']) == \
        sorted(names[1:])
    good, bad, bad_empty = data['annotations']
    assert good['keypoint'].shape == (1, 2, 17, 2)
    assert good['img_shape'] == (96, 128)
    assert 'keypoint' not in bad and 'keypoint' not in bad_empty

    # without results for every sample, the merge refuses by default
    with pytest.raises(PoseExtractionError, match=names[1]):
        merge_results(ann_file, out_dir)
