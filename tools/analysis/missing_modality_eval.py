"""Test a multi-modal checkpoint with every subset of its modalities.

    python tools/analysis/missing_modality_eval.py CONFIG CHECKPOINT \\
        [--subsets rgb,depth rgb depth] [--decode auto|subset|all] \\
        [--work-dir DIR] [--out table.md] [--cfg-options k=v ...]

Prints a Table 4-style Markdown table: test modalities, top-1 / top-5 /
mean class accuracy, Δ against the full set, and the mean Δ (paper 001).

What "missing" means: the model does not see the stream. Its encoder and
its part of the head are not run, and the neck and the fusion head get
only the present streams (``MultiModalRecognizer.set_test_modalities``);
the present streams' inputs are the same as in the full-modality pass.
What each pass decodes (``--decode``):

* ``subset`` -- only the tested modalities (the test dataset's
  ``modalities`` set to the subset): for models whose streams' inputs are
  made independently (STFusion's RGB / depth / IR);
* ``all`` -- every modality of the config, every pass; the missing ones are
  decoded and dropped at the model;
* ``auto`` (default) -- ``all`` when the test dataset has ``pose`` among
  several modalities, else ``subset``. In this project's pipelines the
  pose stream and the video streams share the keypoints: EPAM-Net's RGB
  crop is the skeleton box of the sampled pose frames, and its heatmaps
  are drawn from keypoints that went through the RGB frames' resize, so
  neither stream's input can be made without the other's data (with
  ``subset`` its test pipeline fails).

EPAM-Net (``configs/epam_net_*.py``, R+P): R is the RGB X-ShiftNet and its
classifier without the pose-driven attention (``PoseDrivenAttention``
passes the RGB maps through when the pose maps are absent) on the same
skeleton-box crop as R+P -- the keypoints still place the crop, as in the
stage-1 RGB model; only the pose stream is missing, not the skeleton. P is
the pose X-ShiftNet and its classifier on the same heatmaps as R+P (the
RGB video is decoded and not used). The test score of R+P is the sum of
both streams' logits, of R or P that stream's logits.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction

NAMES = dict(rgb='R', depth='D', ir='I', pose='P')


def format_table(rows, mean):
    lines = ['| test modalities | top-1 | top-5 | mean class acc. | Δ (%p) |',
             '|---|---:|---:|---:|---:|']
    for r in rows:
        name = '+'.join(NAMES.get(m, m) for m in r['modalities'])
        delta = '-' if not r['missing'] else f"{-100 * r['delta']:+.1f}"
        lines.append(f"| {name} | {100 * r['acc/top1']:.1f} | "
                     f"{100 * r['acc/top5']:.1f} | {100 * r['acc/mean1']:.1f} | "
                     f'{delta} |')
    if mean is not None:
        lines.append(f'| mean Δ | | | | {-100 * mean:+.1f} |')
    return '\n'.join(lines)


def decodes_all(cfg) -> bool:
    """``--decode auto``: whether every pass must decode all modalities
    (the test dataset has ``pose`` among several modalities)."""
    dataloader = cfg.get('test_dataloader') or {}
    dataset = dataloader.get('dataset') or {}
    modalities = tuple(dataset.get('modalities') or ())
    return 'pose' in modalities and len(modalities) > 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--subsets', nargs='+', help='comma-separated '
                        'modality subsets (default: all non-empty subsets)')
    parser.add_argument(
        '--decode', choices=('auto', 'subset', 'all'), default='auto',
        help='modalities decoded in each pass: the tested subset, all of '
        'them, or auto: all when the test data has pose among several '
        'modalities (EPAM-Net), else the subset')
    parser.add_argument('--work-dir')
    parser.add_argument('--out', help='also write the table to this file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as in tools/test.py')
    args = parser.parse_args(argv)

    import mmar_ext  # noqa: F401
    from mmengine.runner import Runner

    from mmar_ext.evaluation import evaluate_missing_modalities, mean_delta
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.load_from = args.checkpoint
    cfg.work_dir = args.work_dir or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0],
        'missing_modality')
    runner = Runner.from_cfg(cfg)
    subsets = [s.split(',') for s in args.subsets] if args.subsets else None
    decode = args.decode if args.decode != 'auto' else (
        'all' if decodes_all(cfg) else 'subset')
    rows = evaluate_missing_modalities(runner, subsets,
                                       decode_subset=decode == 'subset')
    table = format_table(rows, mean_delta(rows))
    print(table)
    if args.out:
        with open(args.out + '.tmp', 'w') as f:
            f.write(table + '\n')
        os.replace(args.out + '.tmp', args.out)
    return rows


if __name__ == '__main__':
    main()
