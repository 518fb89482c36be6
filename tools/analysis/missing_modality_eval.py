"""Test a multi-modal checkpoint with every subset of its modalities.

    python tools/analysis/missing_modality_eval.py CONFIG CHECKPOINT \\
        [--subsets rgb,depth rgb depth] [--work-dir DIR] [--out table.md] \\
        [--cfg-options k=v ...]

Prints a Table 4-style Markdown table: test modalities, top-1 / top-5 /
mean class accuracy, Δ against the full set, and the mean Δ (paper 001).
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--subsets', nargs='+', help='comma-separated '
                        'modality subsets (default: all non-empty subsets)')
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
    rows = evaluate_missing_modalities(runner, subsets)
    table = format_table(rows, mean_delta(rows))
    print(table)
    if args.out:
        with open(args.out + '.tmp', 'w') as f:
            f.write(table + '\n')
        os.replace(args.out + '.tmp', args.out)
    return rows


if __name__ == '__main__':
    main()
