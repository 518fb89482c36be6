"""Extract HRNet 2D poses of a dataset's RGB videos into its annotation pkl.

Usage, from the repository root (after
``python -m data_prep.ntu.build_annotations``)::

    python -m data_prep.pose_extraction \\
        --ann-file data/ntu60_annotations.pkl --data-root data/ntu_raw \\
        --out-dir data/ntu60_hrnet --workers 2

Top-down pose estimation as in PoseC3D / EPAM-Net: a Faster R-CNN R50-FPN
person detector (MMDetection) and HRNet-w32 COCO 256x192 (MMPose), configs
packaged in the installed mmdet / mmpose, official OpenMMLab checkpoints by
default (``--det-checkpoint`` / ``--pose-checkpoint`` take local files too;
without internet they must). Frames go through both models in batches
(``--batch-size``); at most ``--max-persons`` persons per clip are kept,
tracked over time (a frame where a person is not detected is a missing pose:
zeros, score 0); ``--persons-from-label`` keeps two only in NTU's mutual
actions and one in the others, as MMAction2's ``ntu_pose_extraction.py``.

A sample that is a range of a longer video (``frame_offset``: PKU-MMD,
FineGYM) is extracted on its frames ``frame_offset .. frame_offset +
num_frames['rgb'] - 1`` only; an ``rgb_path`` that is a folder of per-frame
images is read through the annotation's ``rgb_frames`` list (NW-UCLA,
UWA3D II, PennAction).

Each finished video is stored in ``--out-dir`` (one pkl per video, written
atomically), so an interrupted run resumes where it stopped; then the merge
step writes ``keypoint`` ``[M, T, 17, 2]``, ``keypoint_score`` ``[M, T, 17]``
and the real ``img_shape`` into the annotation pkl (``--out-file``, default
the ``--ann-file`` itself, replaced atomically) with
``meta['keypoint_source'] = 'hrnet'``. ``--merge-only`` just merges;
``--no-merge`` just extracts.

Bad videos (undecodable, no frame) stop the run with an error naming the
video; ``--skip-bad`` reports them and goes on (their samples then lose
their keypoints in the merge). Exit status: 0 done, 1 error.
"""
from __future__ import annotations

import argparse
import logging
import sys

import mmar_ext  # noqa: F401  (compatibility fixes before any OpenMMLab use)
from data_prep.ntu.constants import NTU_MUTUAL_ACTIONS
from data_prep.pose import models
from data_prep.pose.runner import (ExtractionOptions, PoseExtractionError,
                                   merge_results, run_extraction)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='HRNet 2D pose extraction of a dataset (batched, '
        'sharded, resumable) and merge into its annotation pkl.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--ann-file', required=True,
                        help='annotation pkl (docs/data_format.md)')
    parser.add_argument('--data-root', default=None,
                        help="root of the relative rgb_path entries "
                        "(default: the pkl's meta['raw_root'])")
    parser.add_argument('--out-dir', required=True,
                        help='folder of the per-video results')
    parser.add_argument('--out-file', default=None,
                        help='merged pkl (default: replace --ann-file)')
    parser.add_argument('--workers', type=int, default=1,
                        help='worker processes (1: in this process)')
    parser.add_argument('--gpus', type=int, default=None,
                        help='use GPUs cuda:0..N-1, one worker each (or '
                        '--workers spread over them)')
    parser.add_argument('--device', default='auto',
                        help="'auto' (CUDA if available), 'cpu', 'cuda:1'")
    parser.add_argument('--batch-size', type=int, default=16,
                        help='frames per batch (decoding, detection, pose)')
    parser.add_argument('--det-batch-size', type=int, default=None,
                        help='frames per detector forward (default: 1 on the '
                        'CPU, where larger batches of 1333x750 frames are '
                        'slower per frame; --batch-size on CUDA)')
    parser.add_argument('--pose-batch-size', type=int, default=None,
                        help='person crops per pose forward (default '
                        'batch-size * max-persons)')
    parser.add_argument('--max-persons', type=int, default=2)
    persons = parser.add_mutually_exclusive_group()
    persons.add_argument('--persons-from-label', action='store_true',
                         help="keep --max-persons persons in NTU's mutual "
                         '(two-person) actions A050-A060, A106-A120, one '
                         'in all others')
    persons.add_argument('--two-person-actions', type=int, nargs='+',
                         default=None, metavar='ACTION',
                         help='as --persons-from-label, with these action '
                         'ids (1-based) as the two-person ones')
    parser.add_argument('--det-cat-id', type=int, default=0,
                        help='person class id of the detector')
    parser.add_argument('--iou-thr', type=float, default=0.3,
                        help='tracking: IoU to continue a track')
    parser.add_argument('--max-gap', type=int, default=10,
                        help='tracking: frames a track may miss')
    parser.add_argument('--contain-thr', type=float, default=0.8,
                        help='drop a box lying by more than this fraction '
                        'inside a higher-scoring one (1: keep all)')
    models.add_model_arguments(parser)
    parser.add_argument('--no-optimize', action='store_true',
                        help='run the models as built (no BatchNorm folding '
                        'and no channels-last on the CPU)')
    parser.add_argument('--precision', choices=models.PRECISIONS,
                        default='fp32',
                        help='precision of the models\' convolutional trunks:'
                        ' bf16 is about 2x faster on CPUs with AVX512-BF16 / '
                        'AMX, fp16 needs CUDA; both change the poses '
                        'slightly')
    parser.add_argument('--skip-bad', action='store_true',
                        help='report undecodable / empty videos and go on')
    parser.add_argument('--allow-missing', action='store_true',
                        help='merge even if some samples have no result '
                        '(they lose their keypoints); implied by '
                        '--skip-bad')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--merge-only', action='store_true',
                      help='only merge the results of --out-dir')
    mode.add_argument('--no-merge', action='store_true',
                      help='only extract')
    parser.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format='%(levelname)s %(message)s')
    options = ExtractionOptions(
        det_config=args.det_config, det_checkpoint=args.det_checkpoint,
        pose_config=args.pose_config, pose_checkpoint=args.pose_checkpoint,
        det_cfg_options=args.det_cfg_options,
        pose_cfg_options=args.pose_cfg_options,
        det_score_thr=args.det_score_thr, det_cat_id=args.det_cat_id,
        max_persons=args.max_persons,
        two_person_actions=(NTU_MUTUAL_ACTIONS if args.persons_from_label
                            else args.two_person_actions),
        iou_thr=args.iou_thr,
        max_gap=args.max_gap, contain_thr=args.contain_thr,
        batch_size=args.batch_size, det_batch_size=args.det_batch_size,
        pose_batch_size=args.pose_batch_size,
        optimize=not args.no_optimize, precision=args.precision)
    try:
        if not args.merge_only:
            summary = run_extraction(
                args.ann_file, args.out_dir, data_root=args.data_root,
                workers=args.workers, gpus=args.gpus, device=args.device,
                skip_bad=args.skip_bad, progress=not args.no_progress,
                options=options)
            for reason in summary.bad.values():
                print(f'skipped: {reason}', file=sys.stderr)
        if not args.no_merge:
            merge_results(args.ann_file, args.out_dir, args.out_file,
                          allow_missing=args.allow_missing or args.skip_bad)
    except (PoseExtractionError, FileNotFoundError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
