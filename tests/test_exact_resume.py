"""``--resume`` reproduces the uninterrupted run (RandomStatesHook).

The end-to-end test trains 2 epochs in one go, and separately 1 epoch, then
``--resume`` to 2, through ``tools/train.py`` on the tiny synthetic set, with
validation after every epoch (the uninterrupted run validates after epoch 1,
the resumed one does not) and with 0 and 2 (persistent) dataloader workers.
The final weights must be bit-identical on the CPU. Before the hook they
differed by 0.34 % relative L2.

The unit tests pin the parts: per-sample seeds that do not depend on the
worker processes, generator states in checkpoints, and validation that
leaves the training generators untouched.
"""
import random
import re

import numpy as np
import pytest
import torch
from e2e_helpers import PY, data_options, run

CONFIG = 'configs/stfusion_synth_rgb.py'

pytestmark = pytest.mark.timeout(900)


def train(data, work, epochs, num_workers, resume=False):
    cmd = [PY, 'tools/train.py', CONFIG, '--work-dir', work]
    if resume:
        cmd.append('--resume')
    cmd += ['--cfg-options',
            *data_options(data, epochs=epochs, num_workers=num_workers,
                          val_interval=1)]
    proc = run(cmd)
    return proc.stdout + proc.stderr


def losses(log):
    return [float(x) for x in re.findall(r'\bloss: ([0-9.]+)', log)]


def state_dict(path):
    return torch.load(path, map_location='cpu',
                      weights_only=False)['state_dict']


@pytest.mark.parametrize('num_workers', [0, 2])
def test_resumed_run_equals_uninterrupted_run(e2e_data, tmp_path,
                                              num_workers):
    whole, parts = tmp_path / 'whole', tmp_path / 'parts'
    log_whole = train(e2e_data, whole, 2, num_workers)
    log_first = train(e2e_data, parts, 1, num_workers)
    log_resumed = train(e2e_data, parts, 2, num_workers, resume=True)
    assert 'resumed epoch: 1' in log_resumed
    assert 'RandomStatesHook: restored the random states of epoch 1' in \
        log_resumed, log_resumed[-3000:]
    # the same losses, iteration by iteration
    assert losses(log_whole) == losses(log_first) + losses(log_resumed)
    a, b = state_dict(whole / 'epoch_2.pth'), state_dict(parts / 'epoch_2.pth')
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f'{len(different)} tensors differ: {different[:5]}'


# ---------------------------------------------------------------------------
# the parts
# ---------------------------------------------------------------------------
class _Draws:
    """A pipeline that records one draw of each global generator."""

    def __call__(self, results):
        return dict(idx=results['sample_idx'], python=random.random(),
                    numpy=float(np.random.rand()),
                    torch=float(torch.rand(())))


def _dataset(num=8):
    from mmengine.dataset import BaseDataset

    from mmar_ext.datasets.sample_seeding import SampleSeedingMixin

    class Seeded(SampleSeedingMixin, BaseDataset):

        def load_data_list(self):
            return [dict(i=i) for i in range(num)]

    return Seeded(pipeline=[_Draws()], serialize_data=False)


def _epoch(dataset, num_workers, persistent=False, loader=None):
    loader = loader or torch.utils.data.DataLoader(
        dataset, batch_size=None, num_workers=num_workers,
        persistent_workers=persistent)
    return loader, sorted((d['idx'], d['python'], d['numpy'], d['torch'])
                          for d in loader)


def test_sample_seeds_do_not_depend_on_workers_and_change_per_epoch():
    dataset = _dataset()
    dataset.set_sample_seed(seed=7, epoch=0)
    _, in_process = _epoch(dataset, 0)
    loader, two_workers = _epoch(dataset, 2, persistent=True)
    assert in_process == two_workers
    assert len({row[1:] for row in in_process}) == len(in_process)
    # persistent workers were forked in epoch 0 and see the new epoch
    dataset.set_sample_seed(seed=7, epoch=1)
    _, epoch1 = _epoch(dataset, 2, loader=loader)
    _, epoch1_in_process = _epoch(dataset, 0)
    assert epoch1 == epoch1_in_process
    assert all(x[1:] != y[1:] for x, y in zip(in_process, epoch1))
    # the caller's generators are untouched by the seeded pipeline
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    expected = (random.random(), np.random.rand(), torch.rand(()))
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    dataset[3]
    assert (random.random(), np.random.rand(), torch.rand(())) == expected
    # off: the pipeline draws from the caller's generators
    dataset.set_sample_seed(None, 0)
    assert dataset.sample_seed_state is None
    assert dataset[3]['numpy'] != dataset[3]['numpy']


def test_hook_saves_restores_states_and_isolates_validation():
    from types import SimpleNamespace

    from mmar_ext.engine import RandomStatesHook
    from mmar_ext.engine.hooks.random_states_hook import (
        capture_random_states, seedable_datasets)

    hook = RandomStatesHook()
    dataset = _dataset()
    wrapped = SimpleNamespace(dataset=SimpleNamespace(datasets=[dataset]))
    assert seedable_datasets(wrapped) == [dataset]
    runner = SimpleNamespace(
        seed=11, epoch=3, iter=30,
        train_dataloader=SimpleNamespace(dataset=wrapped),
        train_loop=SimpleNamespace(epoch=3, iter=30))
    hook.before_train_epoch(runner)
    assert dataset.sample_seed_state == (11, 3)

    torch.manual_seed(5)
    checkpoint = {}
    hook.before_save_checkpoint(runner, checkpoint)
    # validation consumes random numbers; the hook gives them back
    hook.before_val(runner)
    torch.rand(100)
    np.random.rand(100)
    hook.after_val(runner)
    after_val = torch.rand(4)
    torch.manual_seed(5)
    expected = torch.rand(4)
    assert torch.equal(after_val, expected)

    # resume: states from the checkpoint come back before training goes on
    hook.after_load_checkpoint(runner, checkpoint)
    torch.manual_seed(0)
    hook.before_train(runner)
    assert torch.equal(torch.rand(4), expected)

    # fine-tuning from a checkpoint (loop at epoch 0) keeps the fresh seed
    fresh = SimpleNamespace(**dict(vars(runner),
                            train_loop=SimpleNamespace(epoch=0, iter=0)))
    hook.after_load_checkpoint(fresh, checkpoint)
    torch.manual_seed(0)
    hook.before_train(fresh)
    assert not torch.equal(torch.rand(4), expected)
    assert set(capture_random_states()) >= {'python', 'numpy', 'torch'}


def test_other_ranks_keep_their_states_in_files(tmp_path, monkeypatch):
    """Distributed runs: rank 0's states go into the checkpoint, the other
    ranks' into ``<work_dir>/random_states`` (no collective at epoch end)."""
    from types import SimpleNamespace

    from mmar_ext.engine import RandomStatesHook
    from mmar_ext.engine.hooks import random_states_hook as module

    monkeypatch.setattr(module, 'get_world_size', lambda: 2)
    monkeypatch.setattr(module, 'get_rank', lambda: 1)
    hook = RandomStatesHook(sample_seeding=False)
    runner = SimpleNamespace(work_dir=str(tmp_path), epoch=0, iter=6,
                             train_loop=SimpleNamespace(epoch=1, iter=6))
    torch.manual_seed(3)
    hook.after_train_epoch(runner)  # rank 1 writes epoch_1_rank1.pth
    expected = torch.rand(4)
    assert (tmp_path / 'random_states' / 'epoch_1_rank1.pth').is_file()
    # resumed at epoch 1 on rank 1: its own file, not rank 0's states
    runner.epoch = 1
    hook.after_load_checkpoint(
        runner, dict(random_states=dict(world_size=2, ranks=[{}])))
    torch.manual_seed(0)
    hook.before_train(runner)
    assert torch.equal(torch.rand(4), expected)
    # another world size: warned about, generators left as they are
    hook.after_load_checkpoint(
        runner, dict(random_states=dict(world_size=4, ranks=[{}])))
    torch.manual_seed(0)
    fresh = torch.get_rng_state()
    hook.before_train(runner)
    assert torch.equal(torch.get_rng_state(), fresh)
