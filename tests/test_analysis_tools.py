"""tools/analysis: leaderboard from --dump files, complexity counting."""
import pickle
import sys

import numpy as np
import pytest
import torch

import mmar_ext  # noqa: F401

sys.path.insert(0, 'tools/analysis')
import complexity  # noqa: E402
import leaderboard  # noqa: E402


def write_dump(path, scores, labels):
    with open(path, 'wb') as f:
        pickle.dump([dict(pred_score=torch.tensor(s), gt_label=torch.tensor(l))
                     for s, l in zip(scores, labels)], f)


def test_leaderboard_metrics_match_hand_computation(tmp_path):
    # 4 clips, 3 classes: clips 0, 1 right; clip 2 right in top-2 only
    scores = np.array([[.8, .1, .1], [.1, .8, .1], [.5, .1, .4], [.2, .7, .1]])
    labels = [0, 1, 2, 0]
    row = leaderboard.accuracy_row(scores, np.array(labels))
    assert row['top1'] == pytest.approx(0.5)
    assert row['top5'] == pytest.approx(1.0)  # top-3 (= all) of 3 classes
    # class 0: 1/2, class 1: 1/1, class 2: 0/1
    assert row['mean1'] == pytest.approx((0.5 + 1 + 0) / 3)
    dump = tmp_path / 'dump.pkl'
    write_dump(dump, scores, labels)
    s, l = leaderboard.load_dump(dump)
    assert np.allclose(s, scores) and l.tolist() == labels


def test_leaderboard_cli_writes_table(tmp_path, capsys):
    dump = tmp_path / 'dump.pkl'
    write_dump(dump, np.eye(12)[:6], list(range(6)))
    out = tmp_path / 'board.md'
    leaderboard.main(['--model', 'R', 'configs/stfusion_synth_rgb.py',
                      str(dump), '--chance', '--out', str(out)])
    table = out.read_text()
    # FLOPs of one test clip: the config's 8 frames of 64x64
    assert complexity.clip_shape('configs/stfusion_synth_rgb.py') == (8, 64)
    model = complexity.build_model('configs/stfusion_synth_rgb.py')
    gflops = complexity.count_flops(model, 8, 64) / 1e9
    assert 8 * 1.819 * (64 / 224)**2 < gflops < 1.1 * 8 * 1.819 * (64 / 224)**2
    assert f'| R | `stfusion_synth_rgb.py` | 17.49M | {gflops:.2f} |' in table
    assert '| 100.0 | 100.0 | 100.0 | 6 |' in table
    assert '| chance | | | | 8.3 | | 8.3 | |' in table
    assert table.strip() in capsys.readouterr().out


def test_leaderboard_rejects_empty_dump(tmp_path):
    dump = tmp_path / 'empty.pkl'
    write_dump(dump, [], [])
    with pytest.raises(ValueError, match='empty.pkl'):
        leaderboard.load_dump(dump)


def test_complexity_counts_flops_per_modality():
    uni = complexity.build_model('configs/stfusion_synth_rgb.py')
    duo = complexity.build_model('configs/stfusion_synth_rgb-depth_sum.py')
    r_uni = complexity.complexity(uni, clip_len=2, size=32, iters=1)
    r_duo = complexity.complexity(duo, clip_len=2, size=32, iters=1)
    assert r_uni['params'] == sum(p.numel() for p in uni.parameters())
    assert r_duo['flops'] == pytest.approx(2 * r_uni['flops'], rel=0.01)
    assert r_uni['clips_per_second'] > 0


def test_flop_convention_matches_the_published_resnet18_count():
    """One multiply-add = one FLOP: ResNet18 at 224x224 is the familiar
    1.82 GFLOPs, so our per-clip figures compare with the papers'."""
    from mmengine.analysis import get_model_complexity_info
    from mmaction.registry import MODELS
    resnet = MODELS.build(dict(type='ResNet', depth=18, pretrained=None))
    info = get_model_complexity_info(resnet, inputs=(torch.randn(1, 3, 224, 224),),
                                     show_table=False, show_arch=False)
    assert info['flops'] == pytest.approx(1.819e9, rel=0.01)
