"""Test a multi-modal checkpoint with every subset of its modalities.

    python tools/analysis/missing_modality_eval.py CONFIG CHECKPOINT \\
        [--subsets rgb,depth rgb depth] [--decode auto|subset|all] \\
        [--work-dir DIR] [--out report.md | --out-dir DIR] [--name NAME] \\
        [--cfg-options k=v ...]

One run writes the robustness report of paper 001, Tables 4 / 5
(``mmar_ext.evaluation.robustness_report``):

* Markdown, printed and written to ``--out``: the model's missing-modality
  policy (``Missing-modality policy: ...``, from
  ``mmar_ext.evaluation.missing_modality_policy``), a blank line, then one
  table row per test subset -- the complete set first, then the proper
  subsets by decreasing size -- with top-1, top-5, mean class accuracy and
  ``Δ top-1 (%p)`` = subset - complete (negative when accuracy drops, the
  paper's sign; "-" for the complete set), and a last row ``mean Δ`` over
  the ``2^N - 2`` proper non-empty subsets (its label says how many when
  ``--subsets`` tested fewer). R / D / I / P = rgb / depth / ir / pose.
* CSV next to it (``--out report.md`` -> ``report.csv``): header comment
  lines ``# model:``, ``# train_modalities:``, ``# policy:``,
  ``# mean_delta_top1:``, then the columns ``modalities,top1,top5,mean1,
  delta_top1`` (full modality names joined by ``+``, percent, empty Δ for
  the complete set). ``leaderboard.py --robustness NAME report.csv`` reads
  it.
* a one-row top-1 heatmap PNG next to it (``report.png``).

``--out-dir DIR`` instead writes ``DIR/missing_modality.{md,csv,png}``.
Each file is written atomically (a ``.tmp`` file, then ``os.replace``).
``--name`` is the model's name in the CSV and the heatmap (default: the
config's file name without ``.py``).

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
from mmengine.model import is_model_wrapper


def report_paths(args):
    """``(markdown, csv, png)`` paths of ``--out`` / ``--out-dir``, or
    None when neither is given."""
    if args.out_dir:
        base = osp.join(args.out_dir, 'missing_modality')
        return base + '.md', base + '.csv', base + '.png'
    if args.out:
        base = osp.splitext(args.out)[0]
        return args.out, base + '.csv', base + '.png'
    return None


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
    out = parser.add_mutually_exclusive_group()
    out.add_argument('--out', help='write the Markdown report to this file, '
                     'its CSV and heatmap PNG next to it (report.md -> '
                     'report.csv, report.png)')
    out.add_argument('--out-dir', help='write DIR/missing_modality.md, '
                     '.csv and .png')
    parser.add_argument('--name', help='model name in the CSV and the '
                        'heatmap (default: the config file name)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as in tools/test.py')
    args = parser.parse_args(argv)
    if args.out and osp.splitext(args.out)[1].lower() in ('.csv', '.png'):
        parser.error(f'--out {args.out}: give the Markdown file (its .csv '
                     'and .png are written next to it)')

    import mmar_ext  # noqa: F401
    from mmengine.runner import Runner

    from mmar_ext.evaluation import (evaluate_missing_modalities,
                                     format_robustness_table,
                                     missing_modality_policy,
                                     plot_robustness_heatmap,
                                     robustness_rows, subset_name,
                                     write_robustness_csv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.load_from = args.checkpoint
    cfg.work_dir = args.work_dir or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0],
        'missing_modality')
    runner = Runner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) \
        else runner.model
    policy = missing_modality_policy(model)
    subsets = [s.split(',') for s in args.subsets] if args.subsets else None
    decode = args.decode if args.decode != 'auto' else (
        'all' if decodes_all(cfg) else 'subset')
    rows = evaluate_missing_modalities(runner, subsets,
                                       decode_subset=decode == 'subset')
    modalities = tuple(getattr(model, 'modalities', ())) or None
    refused = [r for r in rows if 'not_applicable' in r]
    report = robustness_rows([r for r in rows if r not in refused],
                             modalities)
    table = format_robustness_table(report, policy, modalities)
    if refused:
        table += '\n\n' + '\n'.join(
            f"Not applicable: {subset_name(r['modalities'])} -- "
            f"{r['not_applicable']}" for r in refused)
    print(table)
    paths = report_paths(args)
    if paths:
        md, csv, png = paths
        for path in paths:
            if osp.dirname(path):
                os.makedirs(osp.dirname(path), exist_ok=True)
        name = args.name or osp.splitext(osp.basename(args.config))[0]
        write_robustness_csv(csv, report, policy, name, modalities)
        plot_robustness_heatmap({name: report}, png)
        # the Markdown last: its presence means the report is complete
        # (tools/run_synthetic.sh skips models that have it)
        with open(md + '.tmp', 'w') as f:
            f.write(table + '\n')
        os.replace(md + '.tmp', md)
        print(f'wrote {md}, {csv}, {png}')
    return rows


if __name__ == '__main__':
    main()
