"""Check every file a config's datasets will read, before training.

    python tools/analysis/check_data.py CONFIG [--splits train val test] \\
        [--full-decode] [--workers N] [--out report.json] [--no-progress] \\
        [--cfg-options k=v ...]

Builds the config's ``train`` / ``val`` / ``test`` datasets (their own
loading already checks labels and that the requested modalities are
annotated), then checks, for the modalities each dataset requests only,
that every video / depth folder exists, opens and holds the annotated
number of frames, that the skeleton arrays are well formed and, with
``--full-decode``, that every frame decodes
(:mod:`mmar_ext.datasets.data_check`). Samples shared by several splits are
checked once. All problems are listed at once, with a count per kind.

Exit status: 0 when the data is clean, 1 when problems were found.
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Sequence, Tuple

from mmengine.config import Config, DictAction

# data_prep (the probes the check reuses) is run from the repository root
sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

SPLITS = ('train', 'val', 'test')
COLUMNS = ('split', 'sample', 'modality', 'kind', 'path', 'message')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--splits', nargs='+', choices=SPLITS,
                        default=list(SPLITS),
                        help='dataloaders to check (default: all three)')
    parser.add_argument('--full-decode', action='store_true',
                        help='also decode every frame of every file (slow)')
    parser.add_argument('--workers', type=int, default=None,
                        help='worker processes (default: min(8, CPUs)); '
                        '0 or 1 checks in this process')
    parser.add_argument('--out', help='also write a JSON report here')
    parser.add_argument('--no-progress', action='store_true',
                        help='do not show the progress bar')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as in tools/train.py')
    return parser.parse_args(argv)


def build_datasets(cfg: Config, splits: Sequence[str]) -> Tuple[Dict, List]:
    """Build the dataset of each ``<split>_dataloader`` in ``cfg``.

    Splits with identical dataset settings (``test_dataloader =
    val_dataloader``) share one dataset object. A dataset that fails to
    build is a ``dataset`` problem rather than an exception.

    Returns:
        tuple: ``{split: dataset}`` and a list of :class:`Problem`.
    """
    import mmar_ext  # noqa: F401  (registers the dataset and transforms)
    from mmengine.registry import init_default_scope

    from mmaction.registry import DATASETS
    from mmar_ext.datasets.data_check import DATASET, Problem
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    datasets, problems, built = {}, [], []  # built: [(cfg, dataset)]
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader or not loader.get('dataset'):
            print(f'{split}: no {split}_dataloader.dataset in the config, '
                  'skipped')
            continue
        dataset_cfg = loader['dataset']
        same = [d for c, d in built if c == dataset_cfg]
        try:
            dataset = same[0] if same else DATASETS.build(dataset_cfg)
        except Exception as e:  # report it with the other problems
            problems.append(Problem(
                split, '-', '-', str(dataset_cfg.get('ann_file', '')),
                DATASET, f'{type(e).__name__}: {e}'))
            continue
        built.append((dataset_cfg, dataset))
        datasets[split] = dataset
    return datasets, problems


def format_table(problems) -> str:
    """The problems as aligned text columns (the message last, unpadded)."""
    rows = [COLUMNS] + [tuple(getattr(p, c) for c in COLUMNS)
                        for p in problems]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS) - 1)]
    return '\n'.join(
        '  '.join([c.ljust(w) for c, w in zip(r, widths)] + [r[-1]])
        for r in rows)


def format_summary(problems, num_samples: Dict[str, int]) -> str:
    from mmar_ext.datasets.data_check import count_kinds
    checked = ', '.join(f'{s} {n}' for s, n in num_samples.items())
    lines = [f'samples checked per split: {checked or "none"}']
    if not problems:
        return '\n'.join(lines + ['no problems found'])
    lines.append(f'{len(problems)} problem(s):')
    lines += [f'  {kind}: {count}'
              for kind, count in count_kinds(problems).items()]
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    datasets, problems = build_datasets(cfg, args.splits)

    from mmar_ext.datasets.data_check import (check_datasets, merge_splits,
                                              save_report)
    problems = merge_splits(problems + check_datasets(
        datasets, full_decode=args.full_decode, workers=args.workers,
        progress=not args.no_progress))
    num_samples = {split: len(d) for split, d in datasets.items()}

    if problems:
        print(format_table(problems))
    print(format_summary(problems, num_samples))
    if args.out:
        save_report(args.out, problems, config=args.config,
                    splits=num_samples, full_decode=args.full_decode)
        print(f'report written to {args.out}')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
