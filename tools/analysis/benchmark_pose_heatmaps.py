"""Time ``PoseHeatmapVolume`` against MMAction2's ``GeneratePoseTarget``.

    python tools/analysis/benchmark_pose_heatmaps.py [--frames 48] \\
        [--size 56] [--persons 2] [--repeats 20] [--layout uniform|body]

One clip is ``frames`` frames x 17 COCO joints x ``size x size`` maps x
``persons`` persons (EPAM-Net's pose stream: 48 x 17 x 56 x 56). Keypoints
are uniform over the map (``uniform``: long random limbs, the harder case
for limbs) or stick figures filling it (``body``); scores uniform in
[0.3, 1]. Prints, per setting (joints, limbs), the best-of-``repeats``
milliseconds per clip of both and their ratio from the same run, after
checking the outputs agree (max abs difference). Nothing is asserted on
the times: they depend on the machine and its load.
"""
import argparse
import time

import numpy as np


def make_keypoints(rng, frames, persons, size, layout):
    if layout == 'uniform':
        kp = rng.uniform(0, size, (persons, frames, 17, 2))
    else:  # stick figures: a standing COCO body per person, jittering
        body = np.array([[.50, .10], [.47, .08], [.53, .08], [.44, .10],
                         [.56, .10], [.40, .25], [.60, .25], [.35, .40],
                         [.65, .40], [.33, .55], [.67, .55], [.43, .55],
                         [.57, .55], [.42, .75], [.58, .75], [.42, .95],
                         [.58, .95]])
        shift = np.linspace(-0.2, 0.2, persons)[:, None, None, None]
        kp = (body * [0.6, 1] + [0.2, 0] + shift * [1, 0]) * size
        kp = kp + rng.normal(0, size / 100, (persons, frames, 17, 2))
    score = rng.uniform(0.3, 1, (persons, frames, 17))
    return kp.astype(np.float32), score.astype(np.float32)


def best_ms(transform, results, repeats):
    """Best wall-clock and best process-CPU milliseconds of ``repeats``."""
    transform(dict(results))  # warm up
    wall = cpu = float('inf')
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = transform(dict(results))
        cpu = min(cpu, time.process_time() - start_cpu)
        wall = min(wall, time.perf_counter() - start)
    return wall * 1e3, cpu * 1e3, out['imgs']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--frames', type=int, default=48)
    parser.add_argument('--size', type=int, default=56)
    parser.add_argument('--persons', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument(
        '--layout', choices=('uniform', 'body'), default='uniform')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)

    import mmar_ext  # noqa: F401  (compat fixes before mmaction)
    from mmaction.datasets.transforms import GeneratePoseTarget
    from mmar_ext.datasets.transforms.heatmap import PoseHeatmapVolume

    rng = np.random.default_rng(args.seed)
    kp, score = make_keypoints(rng, args.frames, args.persons, args.size,
                               args.layout)
    results = dict(
        keypoint=kp, keypoint_score=score, img_shape=(args.size, args.size))
    print(f'{args.frames} frames x 17 joints x {args.size}x{args.size} x '
          f'{args.persons} person(s), {args.layout} keypoints, best of '
          f'{args.repeats}')
    print('ms/clip, wall clock (process CPU time in brackets)')
    print(f'{"setting":<8} {"GeneratePoseTarget":>22} '
          f'{"PoseHeatmapVolume":>22} {"speed-up":>15} {"max|diff|":>10}')
    ref_repeats = max(3, args.repeats // 4)  # the reference is slow
    for name, kwargs in (('joints', dict()),
                         ('limbs', dict(with_kp=False, with_limb=True))):
        ref_ms, ref_cpu, ref = best_ms(
            GeneratePoseTarget(**kwargs), results, ref_repeats)
        ours_ms, ours_cpu, ours = best_ms(
            PoseHeatmapVolume(**kwargs), results, args.repeats)
        diff = float(np.abs(ref - ours).max())
        print(f'{name:<8} {ref_ms:>10.2f} ({ref_cpu:>7.2f}) ms '
              f'{ours_ms:>10.2f} ({ours_cpu:>7.2f}) ms '
              f'{ref_ms / ours_ms:>6.1f}x ({ref_cpu / ours_cpu:>5.1f}x) '
              f'{diff:>10.1e}')
    copy = np.empty_like(ref)
    start = time.perf_counter()
    for _ in range(args.repeats):
        np.copyto(copy, ref)
    print(f'(copying one output array: '
          f'{(time.perf_counter() - start) / args.repeats * 1e3:.2f} ms)')


if __name__ == '__main__':
    main()
