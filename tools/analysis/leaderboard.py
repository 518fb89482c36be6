"""Leaderboard table from ``tools/test.py --dump`` results.

    python tools/analysis/leaderboard.py \\
        --model R  configs/stfusion_synth_rgb.py        work_dirs/r/dump.pkl \\
        --model R+D configs/stfusion_synth_rgb-depth_sum.py work_dirs/rd/dump.pkl \\
        [--out leaderboard.md] [--chance]

For each model: top-1, top-5 and mean class accuracy computed with
MMAction2's own metric functions (the same numbers ``AccMetric`` logs), the
number of trainable parameters of the model built from its config, its
GFLOPs per test clip of all its modalities (``complexity.py``: the config's
``clip_len`` x ``crop_size``²), and the number of test clips. Prints a
Markdown table (MMAction2 model-zoo style).
"""
import argparse
import os
import os.path as osp
import pickle
import sys

import numpy as np

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import complexity  # noqa: E402  (tools/analysis/complexity.py)


def load_dump(path):
    """Scores [N, K] and labels [N] from an MMAction2 ``--dump`` pickle."""
    with open(path, 'rb') as f:
        results = pickle.load(f)
    if not results:
        raise ValueError(f'{path}: the dump holds no predictions')
    scores = np.stack([np.asarray(r['pred_score'], dtype=np.float64)
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
    model."""
    model = complexity.build_model(config)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return params, complexity.count_flops(model,
                                          *complexity.clip_shape(config))


def format_table(rows, chance=None):
    lines = ['| model | config | params | GFLOPs | top-1 | top-5 | '
             'mean class acc. | test clips |',
             '|---|---|---:|---:|---:|---:|---:|---:|']
    for r in rows:
        lines.append(
            f"| {r['name']} | `{osp.basename(r['config'])}` | "
            f"{r['params'] / 1e6:.2f}M | {r['flops'] / 1e9:.2f} | "
            f"{100 * r['top1']:.1f} | {100 * r['top5']:.1f} | "
            f"{100 * r['mean1']:.1f} | {r['clips']} |")
    if chance is not None:
        lines.append(f'| chance | | | | {100 * chance:.1f} | | '
                     f'{100 * chance:.1f} | |')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model', nargs=3, action='append', required=True,
                        metavar=('NAME', 'CONFIG', 'DUMP'))
    parser.add_argument('--out', help='also write the table to this file')
    parser.add_argument('--chance', action='store_true',
                        help='add a chance-level row (1 / number of classes)')
    args = parser.parse_args(argv)
    rows = []
    for name, config, dump in args.model:
        scores, labels = load_dump(dump)
        params, flops = model_cost(config)
        rows.append(dict(name=name, config=config, params=params,
                         flops=flops, **accuracy_row(scores, labels)))
    chance = 1.0 / scores.shape[1] if args.chance else None
    table = format_table(rows, chance)
    print(table)
    if args.out:
        tmp = args.out + '.tmp'
        with open(tmp, 'w') as f:
            f.write(table + '\n')
        os.replace(tmp, args.out)
    return rows


if __name__ == '__main__':
    main()
