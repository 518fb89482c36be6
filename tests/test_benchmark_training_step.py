"""tools/analysis/benchmark_training_step.py: one training step's time and
peak memory against MMAction2's R(2+1)D, fp32 and AMP (on the CPU here,
bfloat16 autocast; the CUDA run is the GPU check of paper 004)."""
import os.path as osp
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
import benchmark_training_step as bts  # noqa: E402
import complexity  # noqa: E402

SYNTH = osp.join(ROOT, 'configs', 'deformable_transformer_synth.py')


def test_table_with_the_mmaction2_baseline(tmp_path, capsys):
    out = tmp_path / 'step.md'
    assert bts.main([SYNTH, '--batch', '1', '--iters', '1', '--warmup', '0',
                     '--device', 'cpu', '--out', str(out)]) == 0
    text = out.read_text()
    assert text in capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith('Training step on CPU') and 'fp32' in lines[0]
    base, ours = lines[4].split(' | '), lines[5].split(' | ')
    assert base[0] == '| MMAction2 R(2+1)D-18 (baseline)'
    assert base[5] == '1.00x' and ours[0].endswith(SYNTH)
    assert float(ours[2]) > 0 and ours[4] == 'n/a'   # no CUDA peak on CPU


def test_amp_step_updates_every_trainable_weight():
    """The paper trains with APEX mixed precision (train.py --amp): under
    autocast the whole model still trains (finite, changed weights). Two
    steps: the offset network's last conv starts at zero, so the layers
    before it get their first gradient in the second step."""
    model, shapes = bts._build(SYNTH)
    before = {n: p.detach().clone() for n, p in model.named_parameters()
              if p.requires_grad}
    inputs = complexity.dummy_inputs(model, 2, None, None, 'cpu', shapes)
    seconds, peak = bts.training_step_cost(model, inputs, 12, 'cpu',
                                           iters=1, warmup=1, amp=True)
    assert seconds > 0 and peak is None
    unchanged = [n for n, p in model.named_parameters()
                 if n in before and torch.equal(p, before[n])]
    assert not unchanged, unchanged
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_bad_arguments():
    with pytest.raises(ValueError, match='--baseline'):
        bts.benchmark([SYNTH], baseline='resnet')
    with pytest.raises(ValueError, match='iters'):
        bts.training_step_cost(None, {}, 2, 'cpu', iters=0)
    with pytest.raises(SystemExit):
        bts.main(['no/such/config.py'])
