"""Time batched pose extraction against MMAction2's frame-by-frame way.

    python tools/analysis/benchmark_pose_extraction.py [--frames 16] \\
        [--size 480x270] [--batch-size 16] [--det-batch-size N] \\
        [--max-persons 2] [--video clip.avi] [--det-checkpoint ...] \\
        [--pose-checkpoint ...] [--device cpu] [--no-optimize] \\
        [--precision bf16]

Same models, same frames, same run:

* **frame-by-frame**: :mod:`data_prep.pose.reference`, i.e. what
  MMAction2's ``tools/data/skeleton/ntu_pose_extraction.py`` does: one
  ``mmdet.apis.inference_detector`` call per frame, then one
  ``mmpose.apis.inference_topdown`` call per frame on its tracked persons
  (frames kept in memory: its JPEG round trip through disk is not counted);
* **batched**: :class:`data_prep.pose.PoseExtractor`: ``--batch-size``
  frames decoded at once, all their person crops in one pose forward,
  ``--det-batch-size`` frames per detector forward (default as the
  extractor's: 1 on the CPU, where bigger detector batches are slower per
  frame, ``--batch-size`` on CUDA),
  models prepared for inference (BatchNorm folding; on the CPU also
  channels-last and a multi-threaded RoIAlign; ``--no-optimize`` measures
  batching alone); ``--precision bf16`` runs its convolutional trunks in
  bfloat16 (faster where the CPU has bfloat16 instructions; the agreement
  line then shows how far the results move).

Both use the same person tracking. The models are the packaged Faster R-CNN
R50 person detector and HRNet-w32 256x192 configs (flip test on, as
packaged), with random weights unless checkpoints are given: the cost of a
forward does not depend on the weights, and ``--max-persons`` boxes per
frame are posed either way. The frames are a synthetic clip (``--size``;
NTU's 1920x1080 is resized by the detector to the same 1333x750) or the
first ``--frames`` of ``--video``. After one warm-up frame per path, prints
the wall-clock and process-CPU seconds of the detection and pose stages of
each path, the frames per second and the ratios, and checks that the two
results agree. Times depend on the machine and its load; CPU seconds are
the steadier figure on a shared machine.
"""
import argparse
import os.path as osp
import sys
import time

import numpy as np

# data_prep is run from the repository root (python -m data_prep...)
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))


def synthetic_clip(num_frames, width, height, seed=0):
    """BGR frames of two coloured 'persons' walking over a noisy floor."""
    import cv2
    rng = np.random.default_rng(seed)
    background = rng.integers(60, 120, (height, width, 3), dtype=np.uint8)
    frames = []
    for t in range(num_frames):
        frame = background.copy()
        for k, colour in enumerate([(40, 60, 200), (200, 120, 40)]):
            x = int(width * (0.2 + 0.4 * k) + 3 * t * (1 - 2 * k))
            top, bottom = int(height * 0.15), int(height * 0.95)
            cv2.rectangle(frame, (x, top + height // 8),
                          (x + width // 10, bottom), colour, -1)
            cv2.circle(frame, (x + width // 20, top + height // 16),
                       height // 14, colour, -1)
        frames.append(frame)
    return frames


class Stopwatch:
    """Accumulates wall-clock and process-CPU seconds of named stages."""

    def __init__(self):
        self.wall, self.cpu = {}, {}

    def time(self, stage, func, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        out = func(*args)
        self.wall[stage] = self.wall.get(stage, 0.0) + \
            time.perf_counter() - wall
        self.cpu[stage] = self.cpu.get(stage, 0.0) + \
            time.process_time() - cpu
        return out


def run_reference(det, pose, frames, args, watch):
    from data_prep.pose.reference import (detect_frame_by_frame,
                                          pose_frame_by_frame)
    from data_prep.pose.tracking import track_persons
    detections = watch.time('detect', detect_frame_by_frame, det, frames,
                            args.det_score_thr)
    tracks = track_persons(detections, args.max_persons)
    return watch.time('pose', pose_frame_by_frame, pose, frames, tracks)


def run_batched(extractor, frames, watch):
    detections = watch.time('detect', extractor.detect, frames)
    tracks = extractor.track(detections)
    return watch.time('pose', extractor.estimate_tracks, frames, tracks)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=int, default=16)
    parser.add_argument('--size', default='480x270', help='WxH of the clip')
    parser.add_argument('--video', default=None,
                        help='take the frames from this video instead')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--det-batch-size', type=int, default=None)
    parser.add_argument('--max-persons', type=int, default=2)
    parser.add_argument('--det-score-thr', type=float, default=0.5)
    parser.add_argument('--det-checkpoint', default=None,
                        help='default: random weights')
    parser.add_argument('--pose-checkpoint', default=None,
                        help='default: random weights')
    parser.add_argument('--device', default='auto')
    parser.add_argument('--precision', default='fp32',
                        choices=('fp32', 'bf16', 'fp16'),
                        help='batched path: precision of the trunks')
    parser.add_argument('--no-optimize', action='store_true',
                        help='batched path without BN folding/channels-last')
    args = parser.parse_args(argv)

    import mmar_ext  # noqa: F401  (compat fixes first)
    import torch
    from mmengine.logging import MMLogger

    from data_prep.pose import PoseExtractor, models
    from data_prep.pose.video import read_all_frames

    MMLogger.get_current_instance().setLevel('WARNING')
    torch.manual_seed(0)
    device = models.resolve_device(args.device)
    if args.video:
        frames = read_all_frames(args.video)[:args.frames]
    else:
        width, height = (int(v) for v in args.size.lower().split('x'))
        frames = synthetic_clip(args.frames, width, height)
    det = models.build_detector(checkpoint=args.det_checkpoint,
                                device=device)
    pose = models.build_pose_model(checkpoint=args.pose_checkpoint,
                                   device=device)
    extractor = PoseExtractor(det, pose, det_score_thr=args.det_score_thr,
                              max_persons=args.max_persons,
                              batch_size=args.batch_size,
                              det_batch_size=args.det_batch_size,
                              optimize=not args.no_optimize,
                              precision=args.precision)

    # warm-up (lazy imports, oneDNN / cuDNN kernel selection), not timed
    run_reference(det, pose, frames[:1], args, Stopwatch())
    run_batched(extractor, frames[:1], Stopwatch())

    reference_watch, batched_watch = Stopwatch(), Stopwatch()
    reference = run_reference(det, pose, frames, args, reference_watch)
    batched = run_batched(extractor, frames, batched_watch)
    if device.startswith('cuda'):
        torch.cuda.synchronize()

    n = len(frames)
    shape = frames[0].shape
    posed = int(reference.keypoint_score.any(axis=-1).sum())
    print(f'device: {device} ({torch.get_num_threads()} threads), '
          f'{n} frames of {shape[1]}x{shape[0]}, {posed / n:.2f} posed '
          f'persons/frame, batch {args.batch_size} (detector '
          f'{extractor.det_batch_size}), '
          f'{"random weights" if not args.det_checkpoint else "checkpoints"}'
          f'{", not optimised" if args.no_optimize else ""}, '
          f'batched in {args.precision}')
    print(f'{"":16} {"detect s":>9} {"pose s":>9} {"total s":>9} '
          f'{"frames/s":>9}   (wall clock; process CPU seconds below)')
    rows = [('frame-by-frame', reference_watch), ('batched', batched_watch)]
    for clock in ('wall', 'cpu'):
        for name, watch in rows:
            times = getattr(watch, clock)
            total = times['detect'] + times['pose']
            print(f'{name + " " + clock:16} {times["detect"]:9.2f} '
                  f'{times["pose"]:9.2f} {total:9.2f} {n / total:9.3f}')
    for clock in ('wall', 'cpu'):
        ref, bat = getattr(reference_watch, clock), getattr(batched_watch,
                                                            clock)
        ratio = (ref['detect'] + ref['pose']) / (bat['detect'] + bat['pose'])
        print(f'speed-up ({clock}): detect '
              f'x{ref["detect"] / bat["detect"]:.2f}, pose '
              f'x{ref["pose"] / bat["pose"]:.2f}, total x{ratio:.2f}')

    same_boxes = np.array_equal(reference.bbox[..., 4] > 0,
                                batched.bbox[..., 4] > 0)
    box_diff = float(np.abs(reference.bbox - batched.bbox).max())
    score_diff = float(np.abs(reference.keypoint_score -
                              batched.keypoint_score).max())
    # A heatmap maximum <= 0 has no location (MMPose puts it at -1), so a
    # keypoint whose maximum is ~0 (random weights) may jump on rounding:
    # compare the located ones.
    located = np.minimum(reference.keypoint_score,
                         batched.keypoint_score) > 1e-2
    kp_diff = float(np.abs(reference.keypoint - batched.keypoint)[
        located].max(initial=0.0))
    print(f'results agree: same person boxes {same_boxes} (max |box diff| '
          f'{box_diff:.2g} px), max |score diff| {score_diff:.2g}, max '
          f'|keypoint diff| {kp_diff:.2g} px over the {located.mean():.0%} '
          'keypoints with a heatmap maximum > 0.01')
    # reduced precision may move boxes across the score threshold
    return 0 if same_boxes or args.precision != 'fp32' else 1


if __name__ == '__main__':
    sys.exit(main())
