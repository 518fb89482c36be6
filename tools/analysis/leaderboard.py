"""Leaderboard table from ``tools/test.py --dump`` results.

    python tools/analysis/leaderboard.py \\
        --model R  configs/stfusion_synth_rgb.py        work_dirs/r/dump.pkl \\
        --model R+D configs/stfusion_synth_rgb-depth_sum.py work_dirs/rd/dump.pkl \\
        [--out leaderboard.md] [--chance]

For each model: top-1, top-5 and mean class accuracy computed with
MMAction2's own metric functions (the same numbers ``AccMetric`` logs), the
number of trainable parameters of the model built from its config, its
GFLOPs per test clip of all its modalities (``complexity.py``, MMEngine's
count: each modality's clip is the config's ``clip_len`` x ``crop_size``²,
either an int for all modalities or a ``{modality: value}`` dict --
EPAM-Net: RGB 16 x 224², pose 48 x 56², channels from each encoder's
``in_channels``), and the number of test clips. Prints a Markdown table
(MMAction2 model-zoo style).

Several runs of one model (e.g. one per training seed): give ``--model``
once per run with the same NAME and CONFIG and each run's DUMP::

    --model R configs/stfusion_synth_rgb.py seed0/dump.pkl \\
    --model R configs/stfusion_synth_rgb.py seed1/dump.pkl \\
    --model R configs/stfusion_synth_rgb.py seed2/dump.pkl

The model then has one row (where its NAME first appears): each accuracy as
``mean ± s`` over the runs (``s``: sample standard deviation, n - 1 in the
denominator), parameters and GFLOPs counted once, and a ``runs`` column
(``n=3``; ``n=1`` for single-run models) added to the table. All runs of a
model must have the same config and the same number of test clips. With
one dump for every NAME the table is the single-run table (no ``runs``
column).

Per-class top-1 of chosen classes (e.g. TSMF's appearance pairs, which the
skeleton cannot tell apart): ``--classes 2 3 8 9`` (0-based labels) adds a
second table, a row per model (mean ± s over its runs) and a column per
class, named from ``--class-names FILE`` (one name a line, e.g. the
synthetic dataset's ``synthetic_classes.txt``) when given.

Robustness to missing modalities (paper 001, Tables 4 / 5): give the CSV
that ``missing_modality_eval.py --out report.md`` wrote next to its
Markdown, once per model::

    --robustness R+D work_dirs/rd/missing_modality.csv \\
    --robustness R+D+I work_dirs/rdi/missing_modality.csv \\
    --heatmap robustness.png

NAME is a ``--model`` NAME. The table then has a ``mean Δ`` column (the
report's mean top-1 Δ over the proper subsets, %p, negative when accuracy
drops; blank for models without a report), and ``--heatmap`` draws one
top-1 heatmap of all reports: a row per model (leaderboard order),
a column per test subset (the union of the reports' subsets, complete
sets and larger subsets first), blank where a model was not tested with a
subset (``mmar_ext.evaluation.plot_robustness_heatmap``).
"""
import argparse
import os
import os.path as osp
import pickle
import sys

import numpy as np

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import complexity  # noqa: E402  (tools/analysis/complexity.py)


def load_dump(path, key='pred_score'):
    """Scores [N, K] (``key`` of each result, e.g. TSMF's
    ``student_score``) and labels [N] from an MMAction2 ``--dump``
    pickle."""
    with open(path, 'rb') as f:
        results = pickle.load(f)
    if not results:
        raise ValueError(f'{path}: the dump holds no predictions')
    missing = [i for i, r in enumerate(results) if key not in r]
    if missing:
        raise KeyError(f'{path}: result {missing[0]} has no {key!r} '
                       f'(it has {sorted(results[missing[0]])})')
    scores = np.stack([np.asarray(r[key], dtype=np.float64)
                       for r in results])
    labels = np.array([int(np.asarray(r['gt_label']).reshape(-1)[0])
                       for r in results])
    return scores, labels


def accuracy_row(scores, labels):
    from mmaction.evaluation.functional import (mean_class_accuracy,
                                                top_k_accuracy)
    top1, top5 = top_k_accuracy(scores, labels, topk=(1, min(5, scores.shape[1])))
    return dict(top1=top1, top5=top5,
                mean1=mean_class_accuracy(scores, labels), clips=len(labels))


def model_cost(config):
    """``(trainable parameters, FLOPs per test clip)`` of a config's
    model; the clip of each modality from the config's ``clip_len`` /
    ``crop_size`` (ints or ``{modality: value}`` dicts,
    :func:`complexity.input_shapes`)."""
    model = complexity.build_model(config)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    shapes = complexity.input_shapes(
        model, *complexity.clip_shape(config),
        complexity.config_input_shapes(config))
    return params, complexity.count_flops(model, shapes=shapes)


METRICS = ('top1', 'top5', 'mean1')


def per_class_top1(scores, labels, classes):
    """Top-1 accuracy of each of ``classes`` (NaN for a class without test
    samples)."""
    pred = scores.argmax(1)
    return np.array([(pred[labels == c] == c).mean() if (labels == c).any()
                     else np.nan for c in classes], dtype=np.float64)


def format_per_class(rows, classes, names=None):
    """Markdown table of the rows' ``per_class`` (``[runs, classes]``)."""
    heads = [names[c] if names and c < len(names) else f'class {c}'
             for c in classes]
    lines = ['| model | ' + ' | '.join(heads) + ' |',
             '|---|' + '---:|' * len(classes)]
    for r in rows:
        runs = np.asarray(r['per_class'])
        cells = []
        for values in runs.T:
            cell = f'{100 * values.mean():.1f}'
            if len(values) > 1:
                cell += f' ± {100 * values.std(ddof=1):.1f}'
            cells.append(cell)
        lines.append(f"| {r['name']} | " + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def runs_row(accuracy_rows):
    """One row of several runs' :func:`accuracy_row` dicts: the mean of
    each accuracy, ``<metric>_std`` (sample standard deviation, ddof=1),
    ``runs`` and the per-run rows (``per_run``)."""
    clips = {r['clips'] for r in accuracy_rows}
    if len(clips) != 1:
        raise ValueError('the runs of one model must have the same test '
                         f'clips, got {[r["clips"] for r in accuracy_rows]}')
    row = dict(clips=clips.pop(), runs=len(accuracy_rows),
               per_run=list(accuracy_rows))
    for key in METRICS:
        values = np.array([r[key] for r in accuracy_rows], dtype=np.float64)
        row[key] = float(values.mean())
        row[f'{key}_std'] = float(values.std(ddof=1))
    return row


def _acc(row, key):
    if row.get('runs', 1) > 1:
        return f"{100 * row[key]:.1f} ± {100 * row[f'{key}_std']:.1f}"
    return f'{100 * row[key]:.1f}'


def _mean_delta(row):
    mean = row.get('mean_delta')
    if mean is None:
        return ''
    std = row.get('mean_delta_std')
    return f'{mean:+.1f}' + ('' if std is None else f' ± {std:.1f}')


def format_table(rows, chance=None):
    """The Markdown leaderboard; a ``mean Δ`` column (after the mean class
    accuracy) when any row has a ``mean_delta`` key (%p, from
    ``--robustness``), a ``runs`` column when a model has several runs."""
    runs = any(r.get('runs', 1) > 1 for r in rows)
    robust = any('mean_delta' in r for r in rows)
    lines = ['| model | config | params | GFLOPs | top-1 | top-5 | '
             'mean class acc. |' + (' mean Δ |' if robust else '')
             + ' test clips |' + (' runs |' if runs else ''),
             '|---|---|---:|---:|---:|---:|---:|---:|'
             + ('---:|' if robust else '') + ('---:|' if runs else '')]
    for r in rows:
        lines.append(
            f"| {r['name']} | `{osp.basename(r['config'])}` | "
            f"{r['params'] / 1e6:.2f}M | {r['flops'] / 1e9:.2f} | "
            f"{_acc(r, 'top1')} | {_acc(r, 'top5')} | "
            f"{_acc(r, 'mean1')} |"
            + (f' {_mean_delta(r)} |' if robust else '')
            + f" {r['clips']} |"
            + (f" n={r.get('runs', 1)} |" if runs else ''))
    if chance is not None:
        lines.append(f'| chance | | | | {100 * chance:.1f} | | '
                     f'{100 * chance:.1f} |' + (' |' if robust else '')
                     + ' |' + (' |' if runs else ''))
    return '\n'.join(lines)


def read_robustness(pairs, names):
    """``{NAME: report}`` of ``--robustness NAME CSV`` pairs, in the order
    of ``names`` (the leaderboard's models); a NAME given with several CSVs
    (one per run) gets :func:`mean_report`."""
    from mmar_ext.evaluation import read_robustness_csv
    reports = {}
    for name, path in pairs:
        if name not in names:
            raise ValueError(f'--robustness {name}: no --model {name} '
                             f'(models: {", ".join(names)})')
        reports.setdefault(name, []).append(read_robustness_csv(path))
    return {name: reports[name][0] if len(reports[name]) == 1 else
            mean_report(name, reports[name])
            for name in names if name in reports}


def mean_report(name, reports):
    """Several runs' reports of one model: every cell and the mean Δ
    averaged over the runs (``mean_delta_std``: their sample standard
    deviation); the runs must have tested the same subsets."""
    subsets = [tuple(r['modalities'] for r in rep['rows']) for rep in reports]
    if any(s != subsets[0] for s in subsets):
        raise ValueError(f'--robustness {name}: the runs tested different '
                         f'modality subsets: {subsets}')
    rows = []
    for cells in zip(*(rep['rows'] for rep in reports)):
        row = dict(cells[0])
        for key in ('top1', 'top5', 'mean1', 'delta_top1'):
            if cells[0][key] is not None:
                row[key] = float(np.mean([c[key] for c in cells]))
        rows.append(row)
    deltas = [rep['mean_delta_top1'] for rep in reports
              if rep['mean_delta_top1'] is not None]
    out = dict(reports[0], rows=rows, runs=len(reports))
    out['mean_delta_top1'] = float(np.mean(deltas)) if deltas else None
    out['mean_delta_std'] = float(np.std(deltas, ddof=1)) \
        if len(deltas) > 1 else None
    return out


def group_runs(models):
    """``[(name, config, [dump, ...]), ...]`` of ``--model`` triples, one
    entry per NAME in order of first appearance."""
    groups = {}
    for name, config, dump in models:
        if name in groups and groups[name][0] != config:
            raise ValueError(
                f'--model {name}: the runs of one model must share its '
                f'config, got {groups[name][0]} and {config}')
        groups.setdefault(name, (config, []))[1].append(dump)
    return [(name, config, dumps) for name, (config, dumps) in groups.items()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--model', nargs=3, action='append', required=True,
        metavar=('NAME', 'CONFIG', 'DUMP'),
        help='one per model, or one per run (seed) of a model: same NAME '
        'and CONFIG, each run\'s DUMP -> mean ± sample std')
    parser.add_argument('--out', help='also write the table to this file')
    parser.add_argument('--chance', action='store_true',
                        help='add a chance-level row (1 / number of classes)')
    parser.add_argument(
        '--robustness', nargs=2, action='append', default=[],
        metavar=('NAME', 'REPORT_CSV'),
        help='missing-modality report of model NAME (the CSV written by '
        'missing_modality_eval.py): adds a mean Δ column; repeatable, '
        'also per run of a model (averaged, mean Δ ± sample std)')
    parser.add_argument('--heatmap', metavar='OUT_PNG',
                        help='draw the top-1 heatmap of the --robustness '
                        'reports (rows: models, columns: test subsets)')
    parser.add_argument(
        '--classes', nargs='+', type=int, metavar='LABEL',
        help='also print the per-class top-1 of these (0-based) classes')
    parser.add_argument('--class-names', metavar='FILE',
                        help='class names, one a line (for --classes)')
    args = parser.parse_args(argv)
    if args.heatmap and not args.robustness:
        parser.error('--heatmap needs at least one --robustness report')
    try:
        groups = group_runs(args.model)
        reports = read_robustness(args.robustness,
                                  [name for name, _, _ in groups])
    except ValueError as e:
        parser.error(str(e))
    rows = []
    for name, config, dumps in groups:
        accuracies, per_class = [], []
        for dump in dumps:
            scores, labels = load_dump(dump)
            accuracies.append(accuracy_row(scores, labels))
            if args.classes:
                per_class.append(per_class_top1(scores, labels,
                                                args.classes))
        if len(dumps) == 1:
            acc = accuracies[0]
        else:
            try:
                acc = runs_row(accuracies)
            except ValueError as e:
                raise ValueError(f'--model {name} ({", ".join(dumps)}): '
                                 f'{e}') from None
            acc['dumps'] = list(dumps)
        params, flops = model_cost(config)
        rows.append(dict(name=name, config=config, params=params,
                         flops=flops, **acc))
        if args.classes:
            rows[-1]['per_class'] = per_class
        if name in reports:
            rows[-1]['mean_delta'] = reports[name]['mean_delta_top1']
            if reports[name].get('mean_delta_std') is not None:
                rows[-1]['mean_delta_std'] = reports[name]['mean_delta_std']
            rows[-1]['robustness'] = reports[name]
    chance = 1.0 / scores.shape[1] if args.chance else None
    table = format_table(rows, chance)
    if args.classes:
        names = None
        if args.class_names:
            with open(args.class_names) as f:
                names = [line.strip() for line in f if line.strip()]
        table += ('\n\nPer-class top-1:\n\n'
                  + format_per_class(rows, args.classes, names))
    print(table)
    if args.out:
        tmp = args.out + '.tmp'
        with open(tmp, 'w') as f:
            f.write(table + '\n')
        os.replace(tmp, args.out)
    if args.heatmap:
        from mmar_ext.evaluation import plot_robustness_heatmap
        plot_robustness_heatmap(
            {name: report['rows'] for name, report in reports.items()},
            args.heatmap)
    return rows


if __name__ == '__main__':
    main()
