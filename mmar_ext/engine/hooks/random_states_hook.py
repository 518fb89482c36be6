"""Random states in checkpoints, so that ``--resume`` is exact.

MMEngine's checkpoints hold the weights, the optimizer, the schedulers and
the message hub, and ``--resume`` re-seeds with the run's seed -- but the
random generators themselves are not saved. A resumed run therefore draws
other dropout masks and other augmentations than the uninterrupted run, and
ends elsewhere. :class:`RandomStatesHook` closes the gap:

* **generator states**: every checkpoint stores the states of Python's
  ``random``, NumPy's global generator, torch's CPU generator and every CUDA
  device's generator of rank 0; in distributed runs every other rank writes
  its own next to the checkpoints (``<work_dir>/random_states/
  epoch_<e>_rank<r>.pth``, at the end of each training epoch -- no
  collective: gathering them with ``all_gather_object`` on gloo made CPU
  runs abort at exit now and then). ``--resume`` puts them back just before
  training continues.
* **data augmentation**: the training dataset seeds each sample's pipeline
  from ``(seed, epoch, index)``
  (:class:`mmar_ext.datasets.sample_seeding.SampleSeedingMixin`), so what the
  dataloader workers draw does not depend on worker processes that a resumed
  run cannot restore (their generators live in other processes).
* **validation** during training does not consume the training generators:
  their states are put back after each validation, so the run with
  validation after epoch 1 continues exactly like the run resumed from the
  epoch-1 checkpoint, which does not validate again.

With all three, a resumed epoch-based run equals the uninterrupted run: on
the CPU bit for bit (``tests/test_exact_resume.py``, with 0 and 2 workers).
On CUDA the same holds up to the nondeterminism of CUDA kernels themselves
(set ``randomness=dict(deterministic=True)`` for that).

Not covered: iteration-based loops (MMEngine replays the skipped batches of
an interrupted epoch through the dataloader, which consumes the restored
generators once more), a different world size at resume (the states of the
saved ranks do not map onto the new ones; the hook warns and keeps MMEngine's
re-seeding), and datasets without :class:`SampleSeedingMixin` loaded by
persistent workers (the hook warns once).
"""
import os
import os.path as osp
import random
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmaction.registry import HOOKS

from ...datasets.sample_seeding import SampleSeedingMixin

#: key of the states in the checkpoint dict
CHECKPOINT_KEY = 'random_states'


def capture_random_states() -> Dict:
    """The states of every global random generator of this process."""
    states = dict(python=random.getstate(), numpy=np.random.get_state(),
                  torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def restore_random_states(states: Dict) -> None:
    """Puts back what :func:`capture_random_states` captured."""
    random.setstate(states['python'])
    np.random.set_state(states['numpy'])
    torch.set_rng_state(states['torch'])
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


def seedable_datasets(dataset) -> List[SampleSeedingMixin]:
    """The :class:`SampleSeedingMixin` datasets in ``dataset``, looking
    through MMEngine's wrappers (``dataset`` / ``datasets`` attributes)."""
    if isinstance(dataset, SampleSeedingMixin):
        return [dataset]
    found = []
    inner = getattr(dataset, 'datasets', None)
    for child in (inner if isinstance(inner, (list, tuple)) else
                  [getattr(dataset, 'dataset', None)]):
        if child is not None and child is not dataset:
            found += seedable_datasets(child)
    return found


@HOOKS.register_module()
class RandomStatesHook(Hook):
    """Saves and restores the random states training consumes.

    See the module docstring. Registered by every mmar_ext config as
    ``default_hooks.random_states``.

    Args:
        sample_seeding (bool): Seed each training sample's pipeline from
            ``(seed, epoch, index)``. Defaults to True.
    """

    # before CheckpointHook (VERY_LOW) in after_train_epoch, and before the
    # dataloader is iterated in before_train_epoch
    priority = 'HIGH'

    def __init__(self, sample_seeding: bool = True) -> None:
        self.sample_seeding = sample_seeding
        self._loaded: Optional[Dict] = None     # states from a checkpoint
        self._before_val: Optional[Dict] = None
        self._warned = False

    # -- data -------------------------------------------------------------
    def before_train_epoch(self, runner) -> None:
        if not self.sample_seeding:
            return
        dataloader = runner.train_dataloader
        datasets = seedable_datasets(dataloader.dataset)
        for dataset in datasets:
            dataset.set_sample_seed(runner.seed, runner.epoch)
        if not datasets and getattr(dataloader, 'persistent_workers', False) \
                and not self._warned:
            self._warned = True
            print_log(
                f'RandomStatesHook: {type(dataloader.dataset).__name__} has '
                'no per-sample seeding (SampleSeedingMixin) and is loaded by '
                'persistent workers: a resumed run will not draw the same '
                'augmentations as the uninterrupted one', logger='current',
                level=30)

    # -- checkpoints ------------------------------------------------------
    @staticmethod
    def rank_file(work_dir: str, epoch: int, rank: int) -> str:
        """Where rank ``rank`` keeps its states of the checkpoint of
        ``epoch`` (distributed runs, ranks > 0)."""
        return osp.join(work_dir, 'random_states',
                        f'epoch_{epoch}_rank{rank}.pth')

    def after_train_epoch(self, runner) -> None:
        # rank 0 puts its states into the checkpoint; the others keep theirs
        # in files (the checkpoint of this epoch is saved right after)
        rank = get_rank()
        if get_world_size() > 1 and rank > 0:
            path = self.rank_file(runner.work_dir, runner.epoch + 1, rank)
            os.makedirs(osp.dirname(path), exist_ok=True)
            torch.save(capture_random_states(), path + '.tmp')
            os.replace(path + '.tmp', path)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[CHECKPOINT_KEY] = dict(world_size=get_world_size(),
                                          ranks=[capture_random_states()])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Called for load_from too (fine-tuning, testing): only keep the
        # states here; before_train applies them if the loop was resumed.
        self._loaded = checkpoint.get(CHECKPOINT_KEY)
        if self._loaded is None:
            self._loaded = dict(world_size=0, ranks=[])

    def _states_of_this_rank(self, runner, loaded: dict):
        """``(states, None)`` or ``(None, why not)``."""
        world_size, rank = get_world_size(), get_rank()
        if not loaded['ranks']:
            return None, ('the checkpoint holds no random states (saved '
                          'without RandomStatesHook)')
        if loaded['world_size'] != world_size:
            return None, (f'the checkpoint was saved by {loaded["world_size"]}'
                          f' processes, this run has {world_size}')
        if rank == 0:
            return loaded['ranks'][0], None
        path = self.rank_file(runner.work_dir, runner.epoch, rank)
        if not osp.isfile(path):
            return None, f'rank {rank} has no saved states ({path})'
        return torch.load(path, map_location='cpu', weights_only=False), None

    def before_train(self, runner) -> None:
        loaded, self._loaded = self._loaded, None
        if loaded is None or (runner.train_loop.epoch == 0
                              and runner.train_loop.iter == 0):
            return  # a fresh run, or weights loaded to fine-tune
        states, reason = self._states_of_this_rank(runner, loaded)
        if states is not None:
            restore_random_states(states)
            print_log(
                f'RandomStatesHook: restored the random states of epoch '
                f'{runner.epoch}, iteration {runner.iter}', logger='current')
            return
        print_log(f'RandomStatesHook: {reason}; the resumed run continues '
                  'from the re-seeded generators and will not reproduce the '
                  'uninterrupted run', logger='current', level=30)

    # -- validation inside training ------------------------------------------
    def before_val(self, runner) -> None:
        self._before_val = capture_random_states()

    def after_val(self, runner) -> None:
        if self._before_val is not None:
            restore_random_states(self._before_val)
            self._before_val = None
