"""tools/analysis/leaderboard.py: per-modality clip shapes of the cost
columns (EPAM-Net) and several runs (seeds) of one model. The single-run
table is tested in test_analysis_tools.py."""
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
    right = np.eye(3)[labels]
    wrong = np.eye(3)[[0, 1, 1, 1, 0, 2, 2, 2]]  # class 0: 1/2, 2: 3/4
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
