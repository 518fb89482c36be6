"""The missing-modality robustness report (paper 001, Tables 4 / 5):
report rows, Markdown, CSV, heatmap (``mmar_ext.evaluation``), the
leaderboard's ``--robustness`` / ``--heatmap`` and
``missing_modality_policy``. Rows are made by hand (no training); the tool
run end to end is in test_epam_net_missing_modality.py."""
import pickle
import struct
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn

import mmar_ext  # noqa: F401
from mmar_ext.evaluation import (format_robustness_table,
                                 missing_modality_policy, order_subsets,
                                 plot_robustness_heatmap, read_robustness_csv,
                                 robustness_mean_delta, robustness_rows,
                                 write_robustness_csv)

sys.path.insert(0, 'tools/analysis')
import leaderboard  # noqa: E402
import missing_modality_eval  # noqa: E402

RDI = ('rgb', 'depth', 'ir')
# paper 001, Table 4, sum fusion (top-1 %); top-5 / mean class acc. made up
SUM = {('rgb', 'depth', 'ir'): 93.3, ('rgb', 'depth'): 89.0,
       ('rgb', 'ir'): 59.4, ('depth', 'ir'): 89.2, ('rgb', ): 15.6,
       ('depth', ): 85.9, ('ir', ): 12.1}


def sweep_rows(top1, order=None):
    """Rows as ``evaluate_missing_modalities`` returns them (fractions),
    in the given subset order (default: reversed, to test the sorting)."""
    order = order or list(reversed(list(top1)))
    return [{'modalities': s, 'acc/top1': top1[s] / 100,
             'acc/top5': min(1., top1[s] / 100 + .05),
             'acc/mean1': top1[s] / 100 - .01} for s in order]


def dump_with_hits(path, hits, num_classes=12, num_clips=10):
    """A ``--dump`` of ``num_clips`` clips (labels 0, 1, ...) whose first
    ``hits`` are right (as in test_leaderboard.py)."""
    labels = [i % num_classes for i in range(num_clips)]
    scores = []
    for i, label in enumerate(labels):
        s = np.linspace(0.9, 0.1, num_classes)
        s[label] = 1.0 if i < hits else 0.0
        scores.append(s)
    with open(path, 'wb') as f:
        pickle.dump([dict(pred_score=torch.tensor(s),
                          gt_label=torch.tensor(l))
                     for s, l in zip(scores, labels)], f)
    return str(path)


def png_size(path):
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n'
    assert data[12:16] == b'IHDR'
    return struct.unpack('>II', data[16:24])


# ---------------------------------------------------------------------------
# report rows and Markdown
# ---------------------------------------------------------------------------
def test_rows_in_table_order_with_negative_deltas():
    report = robustness_rows(sweep_rows(SUM), RDI)
    assert [r['modalities'] for r in report] == list(SUM)  # Table 4 order
    assert [r['missing'] for r in report] == [False] + [True] * 6
    assert report[0]['delta_top1'] is None
    assert report[0]['top1'] == pytest.approx(93.3)
    # Δ = subset - complete: drops are negative (Table 4: -4.3 ... -81.2)
    assert [round(r['delta_top1'], 1) for r in report[1:]] == [
        -4.3, -33.9, -4.1, -77.7, -7.4, -81.2]
    # Table 4's mean Δ of sum fusion
    assert robustness_mean_delta(report) == pytest.approx(-34.8, abs=0.05)


def test_subset_order_within_a_size_and_across_models():
    assert order_subsets([('ir', ), ('depth', 'rgb'), ('rgb', 'ir'),
                          ('rgb', 'depth', 'ir')]) == [
        ('rgb', 'depth', 'ir'), ('rgb', 'depth'), ('rgb', 'ir'), ('ir', )]
    # EPAM-Net: the pose comes after RGB
    assert order_subsets([('pose', ), ('pose', 'rgb'), ('rgb', )]) == [
        ('rgb', 'pose'), ('rgb', ), ('pose', )]
    # a model's own order wins within its subsets
    assert order_subsets([('rgb', ), ('depth', ), ('rgb', 'depth')],
                         ('depth', 'rgb')) == [('depth', 'rgb'), ('depth', ),
                                               ('rgb', )]


def test_markdown_report():
    report = robustness_rows(sweep_rows(SUM), RDI)
    text = format_robustness_table(report, 'absent modalities left out of '
                                   'the sum of logits', RDI)
    lines = text.splitlines()
    assert lines[0] == ('Missing-modality policy: absent modalities left '
                        'out of the sum of logits.')
    assert lines[1] == ''
    assert lines[2] == ('| test modalities | top-1 | top-5 | mean class acc. '
                        '| Δ top-1 (%p) |')
    assert lines[4] == '| R+D+I | 93.3 | 98.3 | 92.3 | - |'
    assert lines[5] == '| R+D | 89.0 | 94.0 | 88.0 | -4.3 |'
    assert lines[-2] == '| I | 12.1 | 17.1 | 11.1 | -81.2 |'
    assert lines[-1] == '| mean Δ | | | | -34.8 |'
    assert len(lines) == 2 + 2 + 7 + 1
    # a gain is printed with its sign
    gain = robustness_rows(sweep_rows({('rgb', 'depth'): 73.5,
                                       ('rgb', ): 47.0, ('depth', ): 75.2}))
    assert format_robustness_table(gain).splitlines()[2:] == [
        '| R+D | 73.5 | 78.5 | 72.5 | - |',
        '| R | 47.0 | 52.0 | 46.0 | -26.5 |',
        '| D | 75.2 | 80.2 | 74.2 | +1.7 |',
        '| mean Δ | | | | -12.4 |']


def test_markdown_report_of_some_subsets():
    top1 = {s: SUM[s] for s in (('rgb', 'depth', 'ir'), ('rgb', 'depth'),
                                ('rgb', ))}
    report = robustness_rows(sweep_rows(top1), RDI)
    lines = format_robustness_table(report, modalities=RDI).splitlines()
    assert lines[-1] == '| mean Δ (2 of 6 subsets) | | | | -41.0 |'
    # without the complete set there is no Δ
    report = robustness_rows(sweep_rows({('rgb', ): .5, ('depth', ): .6}),
                             ('rgb', 'depth'))
    assert [r['delta_top1'] for r in report] == [None, None]
    assert robustness_mean_delta(report) is None
    assert 'mean Δ' not in format_robustness_table(report)


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------
def test_csv_round_trip(tmp_path):
    report = robustness_rows(sweep_rows(SUM), RDI)
    path = tmp_path / 'report.csv'
    policy = 'FC split per modality, bias divided by the number of ' \
        'modalities (footnote 3)'
    write_robustness_csv(str(path), report, policy, 'Concat', RDI)
    assert [p.name for p in tmp_path.iterdir()] == ['report.csv']  # no .tmp
    lines = path.read_text().splitlines()
    assert lines[:4] == [
        '# model: Concat', '# train_modalities: rgb+depth+ir',
        f'# policy: {policy}',
        f'# mean_delta_top1: {robustness_mean_delta(report)!r}']
    assert lines[4] == 'modalities,top1,top5,mean1,delta_top1'
    assert lines[5].startswith('rgb+depth+ir,93.3') and lines[5].endswith(',')
    assert len(lines) == 5 + 7
    back = read_robustness_csv(str(path))
    assert back['model'] == 'Concat' and back['policy'] == policy
    assert back['train_modalities'] == RDI
    assert back['mean_delta_top1'] == robustness_mean_delta(report)
    assert back['rows'] == report  # exact floats, same order, same flags
    assert back['mean_delta_top1'] < 0

    # pandas-style readers: skip the comments, every row is a subset
    import csv
    rows = list(csv.DictReader(
        line for line in lines if not line.startswith('#')))
    assert [r['modalities'] for r in rows][-1] == 'ir'
    assert float(rows[1]['delta_top1']) == pytest.approx(-4.3)


def test_csv_of_a_report_without_proper_subsets(tmp_path):
    report = robustness_rows(sweep_rows({('rgb', 'depth'): 70.}))
    path = str(tmp_path / 'full.csv')
    write_robustness_csv(path, report)
    back = read_robustness_csv(path)
    assert back['mean_delta_top1'] is None and back['policy'] is None
    assert back['rows'] == report


# ---------------------------------------------------------------------------
# heatmap
# ---------------------------------------------------------------------------
def test_heatmap_of_one_model(tmp_path):
    report = robustness_rows(sweep_rows(SUM), RDI)
    path = tmp_path / 'one.png'
    size = plot_robustness_heatmap({'Sum': report}, str(path))
    assert png_size(path) == size
    width, height = size
    assert width > 2 * height  # one row, seven columns
    assert [p.name for p in tmp_path.iterdir()] == ['one.png']
    # fewer columns: a narrower image of the same height
    small = robustness_rows(sweep_rows({('rgb', 'depth'): 70.,
                                        ('rgb', ): 40.}))
    w2, h2 = plot_robustness_heatmap({'Sum': small}, str(tmp_path / 's.png'))
    assert w2 < width and h2 == height


def test_heatmap_of_several_models_with_missing_cells(tmp_path):
    sum_ = robustness_rows(sweep_rows(SUM), RDI)
    rd = robustness_rows(sweep_rows({('rgb', 'depth'): 73.5,
                                     ('rgb', ): 47.0, ('depth', ): 75.2}))
    path = tmp_path / 'many.png'
    width, height = plot_robustness_heatmap({'Sum': sum_, 'R+D': rd},
                                            str(path), title='Table 4')
    assert png_size(path) == (width, height)
    one = plot_robustness_heatmap({'Sum': sum_}, str(tmp_path / 'one.png'))
    assert width == one[0] and height > one[1]  # one more row
    with pytest.raises(ValueError):
        plot_robustness_heatmap({}, str(tmp_path / 'none.png'))


# ---------------------------------------------------------------------------
# leaderboard --robustness / --heatmap
# ---------------------------------------------------------------------------
STF = 'configs/stfusion_synth_rgb.py'


def test_leaderboard_mean_delta_column_and_heatmap(tmp_path, capsys):
    report = robustness_rows(sweep_rows({('rgb', 'depth'): 73.5,
                                         ('rgb', ): 47.0,
                                         ('depth', ): 75.2}))
    csv_path = str(tmp_path / 'rd.csv')
    write_robustness_csv(csv_path, report, 'some policy', 'R+D')
    a = dump_with_hits(tmp_path / 'a.pkl', 6)
    b = dump_with_hits(tmp_path / 'b.pkl', 7)
    png = tmp_path / 'heat.png'
    rows = leaderboard.main([
        '--model', 'R', STF, a, '--model', 'RD', STF, b, '--chance',
        '--robustness', 'RD', csv_path, '--heatmap', str(png)])
    assert 'mean_delta' not in rows[0]
    assert rows[1]['mean_delta'] == pytest.approx(-12.4)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ('| model | config | params | GFLOPs | top-1 | top-5 | '
                        'mean class acc. | mean Δ | test clips |')
    assert lines[1].count('|') == 10
    assert lines[2].endswith('| 60.0 | 60.0 | 60.0 |  | 10 |')
    assert lines[3].endswith('| 70.0 | 70.0 | 70.0 | -12.4 | 10 |')
    assert lines[4] == '| chance | | | | 8.3 | | 8.3 | | |'
    assert all(line.count('|') == 10 for line in lines[:5])
    w, h = png_size(png)
    assert w > h

    # several reports: one heatmap row each, in leaderboard order
    csv2 = str(tmp_path / 'r.csv')
    write_robustness_csv(csv2, robustness_rows(
        sweep_rows({('rgb', ): 60.})))
    png2 = tmp_path / 'heat2.png'
    leaderboard.main(['--model', 'R', STF, a, '--model', 'RD', STF, b,
                      '--robustness', 'RD', csv_path, '--robustness', 'R',
                      csv2, '--heatmap', str(png2)])
    w2, h2 = png_size(png2)
    assert w2 >= w and h2 > h


def test_leaderboard_robustness_errors(tmp_path):
    a = dump_with_hits(tmp_path / 'a.pkl', 6)
    csv_path = str(tmp_path / 'r.csv')
    write_robustness_csv(csv_path, robustness_rows(
        sweep_rows({('rgb', ): 60.})))
    with pytest.raises(SystemExit):  # not a --model NAME
        leaderboard.main(['--model', 'R', STF, a,
                          '--robustness', 'X', csv_path])
    with pytest.raises(SystemExit):  # a heatmap of nothing
        leaderboard.main(['--model', 'R', STF, a,
                          '--heatmap', str(tmp_path / 'h.png')])


def test_eval_tool_report_paths():
    parse = missing_modality_eval.report_paths

    class Args:
        out, out_dir = 'w/report.md', None

    assert parse(Args) == ('w/report.md', 'w/report.csv', 'w/report.png')
    Args.out, Args.out_dir = None, 'd'
    assert parse(Args) == ('d/missing_modality.md', 'd/missing_modality.csv',
                           'd/missing_modality.png')
    with pytest.raises(SystemExit):  # --out is the Markdown file
        missing_modality_eval.main(['c.py', 'k.pth', '--out', 'r.csv'])
    with pytest.raises(SystemExit):  # one or the other
        missing_modality_eval.main(['c.py', 'k.pth', '--out', 'r.md',
                                    '--out-dir', 'd'])


# ---------------------------------------------------------------------------
# missing_modality_policy
# ---------------------------------------------------------------------------
def build_model(config, **model):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS
    init_default_scope('mmaction')
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(dict(model=model))
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


@pytest.mark.parametrize('config,model,policy', [
    ('configs/stfusion_synth_rgb-depth_sum.py', {},
     'absent modalities left out of the sum of logits'),
    ('configs/stfusion_synth_rgb-depth_concat.py', {},
     'FC split per modality, bias divided by the number of modalities '
     '(footnote 3)'),
    ('configs/stfusion_synth_rgb-depth_concat.py',
     {'cls_head': {'missing_bias': 'full'}},
     'FC split per modality, full bias'),
    ('configs/stfusion_synth_rgb-depth_transformer.py', {},
     'absent tokens left out of the fusion sequence'),
    ('configs/epam_net_synth.py', {},  # the neck, not its SumFusionHead
     'RGB alone: RGB head without the pose-driven attention; pose alone: '
     'pose head'),
])
def test_policy_of_the_configs(config, model, policy):
    built = build_model(config, **model)
    assert missing_modality_policy(built) == policy


def test_policy_of_an_action_mae_model():
    """The transformer-fusion config with an ActionMAE neck (Table 5):
    the neck decides, not the head."""
    built = build_model('configs/stfusion_synth_rgb-depth_transformer.py',
                        neck=dict(type='ActionMAE',
                                  modalities=('rgb', 'depth')))
    assert missing_modality_policy(built).startswith(
        'absent encoders not run; their tokens reconstructed by ActionMAE')


def test_policy_of_other_models():
    from mmar_ext.models.heads import TransformerFusionHead
    from mmar_ext.models.necks import ActionMAE
    model = nn.Module()
    model.neck = ActionMAE(('rgb', 'depth'), embed_dims=8,
                           encoder=dict(num_heads=2, feedforward_channels=8),
                           decoder=dict(num_heads=2, feedforward_channels=8))
    model.cls_head = TransformerFusionHead(
        3, ('rgb', 'depth'), in_channels=8,
        transformer=dict(num_heads=2, feedforward_channels=8))
    assert missing_modality_policy(model) == (
        'absent encoders not run; their tokens reconstructed by ActionMAE '
        'from the present ones (dummy token at the slot)')
    del model.neck
    assert missing_modality_policy(model) == (
        'absent tokens left out of the fusion sequence')
    model.cls_head = nn.Linear(2, 2)
    assert missing_modality_policy(model) == (
        'absent encoders not run; the head fuses the present modalities')
    assert missing_modality_policy(object()) == (
        'absent encoders not run; the head fuses the present modalities')


def test_leaderboard_averages_the_reports_of_several_runs(tmp_path):
    """One model, two seeds: its row shows the runs' mean Δ ± their
    sample standard deviation; the heatmap draws the averaged cells."""
    dumps, csvs = [], []
    for seed, (full, rgb, depth) in enumerate(((80., 60., 40.),
                                               (70., 60., 50.))):
        dumps.append(dump_with_hits(tmp_path / f'{seed}.pkl', 6))
        csvs.append(str(tmp_path / f'{seed}.csv'))
        write_robustness_csv(csvs[-1], robustness_rows(sweep_rows({
            ('rgb', 'depth'): full, ('rgb', ): rgb, ('depth', ): depth})))
    argv = []
    for dump, path in zip(dumps, csvs):
        argv += ['--model', 'R+D', STF, dump, '--robustness', 'R+D', path]
    rows = leaderboard.main(argv + ['--heatmap', str(tmp_path / 'h.png')])
    # mean Δ per run: (-20 - 40) / 2 = -30 and (-10 - 20) / 2 = -15
    assert rows[0]['mean_delta'] == pytest.approx(-22.5)
    assert rows[0]['mean_delta_std'] == pytest.approx(10.6066, abs=1e-3)
    assert leaderboard._mean_delta(rows[0]) == '-22.5 ± 10.6'
    cells = {r['modalities']: r['top1'] for r in rows[0]['robustness']['rows']}
    assert cells[('rgb', 'depth')] == pytest.approx(75.)
    assert cells[('depth', )] == pytest.approx(45.)
    assert (tmp_path / 'h.png').read_bytes()[:4] == b'\x89PNG'
