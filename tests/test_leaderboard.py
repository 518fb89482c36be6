"""tools/analysis/leaderboard.py: per-modality clip shapes of the cost
columns (EPAM-Net), several runs (seeds) of one model, the clips/s column
(--throughput) and its honesty about where each value was measured
(--from-csv), CSV output, the accuracy-vs-GFLOPs figure and the errors on
bad input. The single-run table is tested in test_analysis_tools.py."""
import csv
import pickle
import sys

import numpy as np
import pytest
import torch

import mmar_ext  # noqa: F401

sys.path.insert(0, 'tools/analysis')
import complexity  # noqa: E402
import leaderboard  # noqa: E402

STF = 'configs/stfusion_synth_rgb.py'


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def write_dump(path, scores, labels):
    with open(path, 'wb') as f:
        pickle.dump([dict(pred_score=torch.tensor(s), gt_label=torch.tensor(l))
                     for s, l in zip(scores, labels)], f)
    return str(path)


def dump_with_hits(path, hits, num_classes=12, num_clips=10):
    """A dump of ``num_clips`` clips (labels 0, 1, ...) whose first
    ``hits`` are right; the others have the true class last (not in the
    top 5 either)."""
    labels = [i % num_classes for i in range(num_clips)]
    scores = []
    for i, label in enumerate(labels):
        s = np.linspace(0.9, 0.1, num_classes)  # distinct scores
        s[label] = 1.0 if i < hits else 0.0  # first / last
        scores.append(s)
    return write_dump(path, np.array(scores), labels)


def test_dump_helper():
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        row = leaderboard.accuracy_row(
            *leaderboard.load_dump(dump_with_hits(tmp + '/d.pkl', 7)))
    assert row['top1'] == pytest.approx(0.7)
    assert row['top5'] == pytest.approx(0.7)


def test_epam_net_synthetic_flops_on_the_config_clips(tmp_path):
    config = 'configs/epam_net_synth.py'
    assert complexity.clip_shape(config) == (dict(pose=24, rgb=8),
                                             dict(rgb=112, pose=28))
    dump = dump_with_hits(tmp_path / 'epam.pkl', 5)
    rows = leaderboard.main(['--model', 'EPAM', config, dump])
    model = complexity.build_model(config)
    synthetic = dict(rgb=(3, 8, 112, 112), pose=(17, 24, 28, 28))
    assert complexity.input_shapes(
        model, *complexity.clip_shape(config)) == synthetic
    flops = complexity.count_flops(model, shapes=synthetic)
    assert rows[0]['flops'] == flops > 0
    # not the paper's inputs (the default for an EPAM-Net model when no
    # clip is given)
    assert complexity.input_shapes(model) != synthetic
    assert rows[0]['params'] == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize('config,shapes', [
    ('configs/epam_net_ntu120.py',
     dict(rgb=(3, 16, 224, 224), pose=(17, 48, 56, 56))),
    ('configs/epam_net_ntu120_rgb.py', dict(rgb=(3, 16, 224, 224))),
    ('configs/epam_net_ntu120_pose.py', dict(pose=(17, 48, 56, 56))),
])
def test_epam_net_ntu120_configs_give_the_paper_inputs(config, shapes):
    model = complexity.build_model(config)
    assert complexity.clip_shape(config) == (dict(pose=48, rgb=16),
                                             dict(rgb=224, pose=56))
    assert complexity.input_shapes(
        model, *complexity.clip_shape(config)) == shapes


def test_several_runs_of_a_model_mean_and_sample_std(tmp_path, capsys):
    seeds = [dump_with_hits(tmp_path / f'seed{i}.pkl', hits)
             for i, hits in enumerate((6, 7, 9))]
    single = dump_with_hits(tmp_path / 'single.pkl', 4)
    out = tmp_path / 'board.md'
    argv = []
    for dump in seeds[:2]:
        argv += ['--model', 'R', STF, dump]
    argv += ['--model', 'R1', STF, single]
    argv += ['--model', 'R', STF, seeds[2], '--chance', '--out', str(out)]
    rows = leaderboard.main(argv)
    assert [r['name'] for r in rows] == ['R', 'R1']
    r = rows[0]
    acc = np.array([0.6, 0.7, 0.9])
    assert r['runs'] == 3 and r['dumps'] == seeds and r['clips'] == 10
    for key in ('top1', 'top5'):
        assert r[key] == pytest.approx(acc.mean())
        # sample standard deviation: n - 1 = 2 in the denominator
        assert r[f'{key}_std'] == pytest.approx(
            np.sqrt(((acc - acc.mean())**2).sum() / 2))
    assert r['top1_std'] == pytest.approx(0.152753, abs=1e-6)
    assert [p['top1'] for p in r['per_run']] == pytest.approx(acc)
    # parameters and FLOPs of the config, the same for every row of it
    assert (r['params'], r['flops']) == (rows[1]['params'], rows[1]['flops'])
    table = out.read_text()
    assert table.strip() in capsys.readouterr().out
    lines = table.splitlines()
    assert lines[0].endswith('| test clips | runs |')
    assert lines[1].count('|') == 10
    gflops = f"{r['flops'] / 1e9:.2f}"
    assert lines[2] == (
        f'| R | `stfusion_synth_rgb.py` | 17.49M | {gflops} | 73.3 ± 15.3 | '
        '73.3 ± 15.3 | 73.3 ± 15.3 | 10 | n=3 |')
    assert lines[3] == (
        f'| R1 | `stfusion_synth_rgb.py` | 17.49M | {gflops} | 40.0 | 40.0 | '
        '40.0 | 10 | n=1 |')
    assert lines[4] == '| chance | | | | 8.3 | | 8.3 | | |'
    assert all(line.count('|') == 10 for line in lines)


def test_one_dump_per_name_keeps_the_single_run_table():
    rows = [dict(name='R', config=STF, params=1e6, flops=2e9, top1=.5,
                 top5=.75, mean1=.5, clips=4)]
    assert leaderboard.format_table(rows, 0.25) == '\n'.join([
        '| model | config | params | GFLOPs | top-1 | top-5 | '
        'mean class acc. | test clips |',
        '|---|---|---:|---:|---:|---:|---:|---:|',
        '| R | `stfusion_synth_rgb.py` | 1.00M | 2.00 | 50.0 | 75.0 | 50.0 '
        '| 4 |',
        '| chance | | | | 25.0 | | 25.0 | |'])


def test_runs_of_a_model_must_match(tmp_path):
    a = dump_with_hits(tmp_path / 'a.pkl', 3)
    b = dump_with_hits(tmp_path / 'b.pkl', 3, num_clips=8)
    with pytest.raises(SystemExit):  # one NAME, two configs
        leaderboard.main(['--model', 'R', STF, a, '--model', 'R',
                          'configs/stfusion_synth_depth.py', a])
    with pytest.raises(ValueError, match='same test clips'):
        leaderboard.main(['--model', 'R', STF, a, '--model', 'R', STF, b])


def test_per_class_top1_of_chosen_classes(tmp_path, capsys):
    """``--classes``: per-class top-1 (hand-counted), mean ± s over runs,
    named from ``--class-names``."""
    labels = [0, 0, 1, 1, 2, 2, 2, 2]
    right = np.eye(12)[labels]  # the config's 12 classes
    wrong = np.eye(12)[[0, 1, 1, 1, 0, 2, 2, 2]]  # class 0: 1/2, 2: 3/4
    runs = [write_dump(tmp_path / 'a.pkl', right, labels),
            write_dump(tmp_path / 'b.pkl', wrong, labels)]
    np.testing.assert_allclose(leaderboard.per_class_top1(
        wrong, np.array(labels), [0, 2, 1]), [0.5, 0.75, 1.0])
    names = tmp_path / 'classes.txt'
    names.write_text('drink water\nmake a phone call\nreading\n')
    argv = ['--classes', '0', '2', '--class-names', str(names)]
    for dump in runs:
        argv += ['--model', 'R', STF, dump]
    leaderboard.main(argv)
    out = capsys.readouterr().out
    assert 'Per-class top-1:\n\n| model | drink water | reading |\n' \
        '|---|---:|---:|\n| R | 75.0 ± 35.4 | 87.5 ± 17.7 |' in out


# ---------------------------------------------------------------------------
# --throughput, --csv, --from-csv, --scatter, --zoo
# ---------------------------------------------------------------------------
def other_run_csv(path, rows):
    """A leaderboard CSV of another run (``rows``: name, host, device,
    clips/s, num_classes)."""
    records = []
    for name, host, device, speed, classes in rows:
        records.append(dict(
            name=name, architecture='EPAM-Net',
            config='configs/epam_net_synth.py', modalities='rgb+pose',
            num_classes=classes, params=1234567, flops=int(3e9),
            gflops='3.0000', clips_per_s=speed, clips_per_s_device=device,
            clips_per_s_host=host,
            clips_per_s_measured_at='2024-01-02T03:04:05+0000',
            clips_per_s_settings='batch 1', top1=55.0, top1_std='',
            top5=90.0, top5_std='', mean1=50.0, mean1_std='',
            mean_delta=-3.5, mean_delta_std='', test_clips=10, runs=1,
            dumps='x.pkl'))
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=leaderboard.CSV_FIELDS)
        writer.writeheader()
        writer.writerows(records)
    return str(path)


def test_throughput_csv_scatter_and_merged_rows_of_another_machine(
        tmp_path, capsys):
    """One model measured in this run (1 warm-up + 1 timed pass) next to a
    row merged from another run's CSV, measured on another machine: the
    column header names this run's device, the merged value is marked and
    its note says it is not this run's machine. The CSV holds every row;
    the scatter is a PNG."""
    dump = dump_with_hits(tmp_path / 'r.pkl', 7)
    other = other_run_csv(tmp_path / 'other.csv',
                          [('EPAM', 'gpu-box', 'NVIDIA H100', 512.5, 12)])
    out, table_csv, png = (tmp_path / n for n in ('b.md', 'b.csv', 'b.png'))
    rows = leaderboard.main([
        '--model', 'R', STF, dump, '--throughput', '--device', 'cpu',
        '--iters', '1', '--warmup', '1', '--from-csv', other, '--zoo',
        '--chance', '--out', str(out), '--csv', str(table_csv),
        '--scatter', str(png)])
    assert [r['name'] for r in rows] == ['R', 'EPAM']
    speed = rows[0]['throughput']
    assert speed['this_run'] and speed['clips_per_s'] > 0
    assert speed['device'].startswith('CPU ')
    text = out.read_text()
    assert text.strip() in capsys.readouterr().out
    lines = text.splitlines()
    header = lines[0].split(' | ')
    assert header[:6] == ['| model', 'architecture', 'config', 'modalities',
                          'params', 'GFLOPs']
    assert header[6] == f"clips/s ({speed['device']}, measured in this run)"
    r_cells = lines[2].split(' | ')
    assert r_cells[1:4] == ['SpaceTimeFusion', '`stfusion_synth_rgb.py`',
                            'RGB']
    assert float(r_cells[6]) > 0 and r_cells[7] == '70.0'
    e_cells = lines[3].split(' | ')
    assert e_cells[1] == 'EPAM-Net' and e_cells[3] == 'RGB + Pose'
    assert e_cells[6] == '512.5 (a)'  # never unmarked in this run's column
    assert lines[4].startswith('| chance |')
    assert len({line.count('|') for line in lines[:5]}) == 1
    notes = '\n'.join(lines[5:])
    assert f"host {speed['host']}" in notes
    assert ('(a) clips/s from ' + other + ': measured on NVIDIA H100, host '
            'gpu-box') in notes and 'NOT this run\'s machine' in notes
    with open(table_csv, newline='') as f:
        records = list(csv.DictReader(f))
    assert [r['name'] for r in records] == ['R', 'EPAM']
    assert float(records[0]['clips_per_s']) > 0
    assert records[0]['clips_per_s_device'] == speed['device']
    assert records[0]['clips_per_s_host'] == speed['host']
    assert float(records[0]['top1']) == pytest.approx(70.0)
    assert int(records[0]['num_classes']) == 12
    assert records[0]['modalities'] == 'rgb'
    assert records[1]['clips_per_s_host'] == 'gpu-box'
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert not list(tmp_path.glob('*.tmp'))


def test_csv_round_trip():
    rows = [dict(name='R', config=STF, params=17_490_000, flops=2.5e9,
                 top1=.5, top5=.75, mean1=.5, top1_std=.1, top5_std=.05,
                 mean1_std=.1, clips=4, runs=3, mean_delta=-12.4,
                 mean_delta_std=1.5, architecture='SpaceTimeFusion',
                 modalities=('rgb', ), pipeline_modalities=('pose', ),
                 num_classes=12, dumps=['a', 'b', 'c'],
                 throughput=dict(clips_per_s=42.0, device='CPU x', host='h',
                                 measured_at='t', settings='s',
                                 this_run=True))]
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        leaderboard.write_csv(rows, tmp + '/t.csv')
        back = leaderboard.read_csv_rows(tmp + '/t.csv')[0]
    for key in ('name', 'config', 'params', 'flops', 'clips', 'runs',
                'architecture', 'modalities', 'pipeline_modalities',
                'num_classes', 'dumps'):
        assert back[key] == rows[0][key], key
    for key in ('top1', 'top5', 'mean1', 'top1_std', 'mean_delta',
                'mean_delta_std'):
        assert back[key] == pytest.approx(rows[0][key]), key
    assert back['throughput']['clips_per_s'] == 42.0
    assert not back['throughput']['this_run']  # another run, once read back
    assert back['source'].endswith('t.csv')


def speed_row(name, speed, device='GPU A', host='h1', at='t1',
              this_run=False):
    return dict(name=name, throughput=dict(
        clips_per_s=speed, device=device, host=host, measured_at=at,
        settings='batch 1', this_run=this_run, source='old.csv'))


def test_clips_per_s_of_other_runs_are_never_shown_as_this_runs():
    here = speed_row('A', 10.0, this_run=True)
    # the same machine, another run: marked all the same
    header, cells, notes = leaderboard.throughput_column(
        [here, speed_row('B', 20.0, at='t0')])
    assert header == 'clips/s (GPU A, measured in this run)'
    assert cells == {'A': '10.0', 'B': '20.0 (a)'}
    assert 'the same device and host as this run' in notes[1]
    # only rows of one other run: the header says so
    header, cells, notes = leaderboard.throughput_column(
        [dict(name='X'), speed_row('B', 2.5)])
    assert header == 'clips/s (GPU A, measured in another run)'
    assert cells == {'B': '2.50'} and 'not in this run' in notes[0]
    # two other runs (machines): every value marked with its run
    header, cells, notes = leaderboard.throughput_column(
        [speed_row('B', 20.0), speed_row('C', 30.0, device='CPU z',
                                         host='h2', at='t2')])
    assert 'measured in this run' not in header
    assert cells == {'B': '20.0 (a)', 'C': '30.0 (b)'}
    assert 'CPU z, host h2' in notes[1]
    assert leaderboard.throughput_column([dict(name='X')]) is None


def test_note_when_rows_were_tested_on_different_clips():
    rows = [dict(name='A', clips=10, labels_key=1),
            dict(name='B', clips=10, labels_key=1),
            dict(name='C', clips=8, labels_key=2)]
    notes = leaderboard.table_notes(rows)
    assert notes == ['Note: these rows were not tested on the same clips '
                     '(A, B: 10 clips; C: 8 clips): their accuracies do not '
                     'compare.']
    assert leaderboard.table_notes(rows[:2]) == []


# ---------------------------------------------------------------------------
# bad input: clear errors naming the file (before any model is built)
# ---------------------------------------------------------------------------
def test_dump_of_another_config_or_dataset(tmp_path):
    ntu = dump_with_hits(tmp_path / 'ntu60.pkl', 3, num_classes=60)
    with pytest.raises(leaderboard.BadInput) as e:
        leaderboard.main(['--model', 'R', STF, ntu])
    assert 'ntu60.pkl has scores of 60 classes' in str(e.value)
    assert f'config {STF} has 12' in str(e.value)
    labels = [0, 1, 15]  # 12 scores, a label of another dataset
    other = write_dump(tmp_path / 'other.pkl', np.eye(12)[[0, 1, 2]], labels)
    with pytest.raises(leaderboard.BadInput, match='other.pkl has label 15'):
        leaderboard.main(['--model', 'R', STF, other])


def test_tsmf_dump_with_several_scores_is_read_by_its_pred_score(tmp_path):
    path = tmp_path / 'tsmf.pkl'
    s = np.eye(12)[[0, 1, 2]]
    with open(path, 'wb') as f:
        pickle.dump([dict(pred_score=torch.tensor(p),
                          teacher_score=torch.tensor(p),
                          student_score=torch.tensor(p),
                          gt_label=torch.tensor(y))
                     for p, y in zip(s, [0, 1, 2])], f)
    assert leaderboard.config_num_classes('configs/tsmf_synth.py') == 12
    runs = [(str(path), *leaderboard.load_dump(path, with_ids=True))]
    leaderboard.check_dumps('T', 'configs/tsmf_synth.py', 12, runs)
    with pytest.raises(leaderboard.BadInput, match='tsmf.pkl has scores of '
                       '12 classes, its config c.py has 60'):
        leaderboard.check_dumps('T', 'c.py', 60, runs)


def test_runs_of_one_name_with_other_classes_or_clips(tmp_path):
    a = dump_with_hits(tmp_path / 'a.pkl', 3)
    b60 = dump_with_hits(tmp_path / 'b60.pkl', 3, num_classes=60)
    with pytest.raises(leaderboard.BadInput,
                       match='b60.pkl has 60 classes, .*a.pkl'):
        leaderboard.main(['--model', 'R', STF, a, '--model', 'R', STF, b60])
    # the same number of clips, other labels: another test set
    shifted = write_dump(tmp_path / 'shifted.pkl', np.eye(12)[:10],
                         [(i + 1) % 12 for i in range(10)])
    with pytest.raises(leaderboard.BadInput,
                       match='same order: .*shifted.pkl and .*a.pkl differ '
                       'at clip 0'):
        leaderboard.main(['--model', 'R', STF, a, '--model', 'R', STF,
                          shifted])
    # the same labels, other sample ids (when the dumps hold them)
    ids = []
    for n, offset in (('i.pkl', 0), ('j.pkl', 5)):
        with open(tmp_path / n, 'wb') as f:
            pickle.dump([dict(pred_score=torch.tensor(np.eye(12)[0]),
                              gt_label=torch.tensor(0),
                              frame_dir=f'S001C001P00{k + offset}')
                         for k in range(3)], f)
        ids.append(str(tmp_path / n))
    with pytest.raises(leaderboard.BadInput, match='j.pkl and .*i.pkl '
                       'differ at clip 0'):
        leaderboard.main(['--model', 'R', STF, ids[0], '--model', 'R', STF,
                          ids[1]])


def test_missing_files_are_named(tmp_path, capsys):
    a = dump_with_hits(tmp_path / 'a.pkl', 3)
    absent = str(tmp_path / 'absent_report.csv')
    with pytest.raises(SystemExit):
        leaderboard.main(['--model', 'R', STF, a, '--robustness', 'R',
                          absent])
    assert f'--robustness R: no report file {absent}' in \
        capsys.readouterr().err
    with pytest.raises(SystemExit):
        leaderboard.main(['--model', 'R', STF, str(tmp_path / 'no.pkl')])
    assert f"no dump file {tmp_path / 'no.pkl'}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        leaderboard.main(['--model', 'R', 'configs/nope.py', a])
    assert 'no config file configs/nope.py' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        leaderboard.main(['--from-csv', str(tmp_path / 'old.csv')])
    assert 'old.csv' in capsys.readouterr().err


def test_merged_csv_errors(tmp_path):
    bad = tmp_path / 'bad.csv'
    bad.write_text('model,top1\nR,50\n')
    with pytest.raises(leaderboard.BadInput, match='bad.csv: not a '
                       'leaderboard CSV'):
        leaderboard.main(['--from-csv', str(bad)])
    two = other_run_csv(tmp_path / 'two.csv', [('A', 'h', 'd', 1.0, 12),
                                                 ('B', 'h', 'd', 1.0, 60)])
    with pytest.raises(leaderboard.BadInput,
                       match='different class counts \\[12, 60\\]'):
        leaderboard.main(['--from-csv', two, '--chance'])
    with pytest.raises(leaderboard.BadInput, match='row A is also'):
        leaderboard.main(['--from-csv', two, '--from-csv', two])


def test_modalities_the_model_classifies_from():
    """EPAM-Net's RGB X-ShiftNet: the config's data reads RGB + pose (the
    skeleton-box crop), the model classifies RGB alone."""
    class Stream:
        modalities = ('rgb', )

    class Plain:   # no modalities of its own (e.g. RecognizerGCN)
        pass

    assert leaderboard.model_modalities(Stream(), ('rgb', 'pose')) == (
        ('rgb', ), ('pose', ))
    assert leaderboard.model_modalities(Plain(), ('skeleton', )) == (
        ('skeleton', ), ())
    assert leaderboard._modalities_text(('rgb', ), ('pose', )) == \
        'RGB (+ Pose in the data pipeline)'
    assert leaderboard._modalities_text(('rgb', 'depth')) == 'RGB + Depth'


def test_throughput_rounds_visit_the_models_in_turn():
    """--rounds: every round times each model once, in turn, so a slow
    spell of the machine is shared by all rows; each model's clips/s is
    over all its rounds' passes."""
    import torch
    calls = []

    class Fake(torch.nn.Module):
        modalities, input_key = ('rgb', ), '{}'

        def __init__(self, name):
            super().__init__()
            self.name = name

        def forward(self, inputs, mode='tensor', stage='backbone'):
            calls.append(self.name)
            return inputs['rgb'].sum()

    shapes = {'rgb': (3, 2, 4, 4)}
    speeds = leaderboard.measure_throughputs(
        [(Fake('a'), shapes), (Fake('b'), shapes)], iters=2, warmup=1,
        rounds=3)
    assert calls == ['a'] * 3 + ['b'] * 3 + ['a'] * 3 + ['b'] * 3 + \
        ['a'] * 3 + ['b'] * 3
    assert len(speeds) == 2 and all(s > 0 for s in speeds)
    with pytest.raises(ValueError, match='rounds'):
        leaderboard.measure_throughputs([(Fake('a'), shapes)], rounds=0)
    assert 'median of 3 rounds x 2 timed passes' in \
        leaderboard.this_machine('cpu', 2, 1, 3)['settings']
