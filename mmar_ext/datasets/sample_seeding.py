"""Per-sample random seeds for the data pipeline.

MMEngine seeds each dataloader worker once, when the worker starts
(``seed + worker_id + rank * num_workers``). The random numbers a training
transform draws then depend on which worker loads the sample, on how many
samples that worker loaded before, and -- with ``persistent_workers`` -- on
every earlier epoch. A run resumed from a checkpoint starts fresh workers,
so its augmentations differ from those of the uninterrupted run, and without
``persistent_workers`` every epoch repeats the augmentations of the first.

:class:`SampleSeedingMixin` removes that dependence: while seeding is on,
the pipeline of sample ``idx`` in epoch ``e`` runs with Python's ``random``,
NumPy's global generator and torch's CPU generator seeded from
``(seed, e, idx)``, and the caller's generator states are restored
afterwards. A sample's augmentation is thus a function of the seed, the
epoch and its index only -- the same with 0 or 8 workers, persistent or
not, on one or eight processes, interrupted or not -- and differs from epoch
to epoch. :class:`mmar_ext.engine.RandomStatesHook` turns it on for the
training dataset and sets the epoch.

The ``(seed, epoch)`` pair lives in a shared-memory tensor, so workers that
were forked or spawned before an epoch began (``persistent_workers``) read
the epoch the main process set.
"""
import random
from contextlib import contextmanager
from typing import Any, Optional

import numpy as np
import torch

#: value of the shared epoch slot while seeding is off
_OFF = -1


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """A 63-bit seed for sample ``index`` of ``epoch`` under run ``seed``
    (NumPy's ``SeedSequence``: well mixed, no collisions between nearby
    triples)."""
    words = np.random.SeedSequence([int(seed) & (2**64 - 1), int(epoch),
                                    int(index)]).generate_state(2, np.uint32)
    return int(words[0]) | (int(words[1]) & 0x7FFFFFFF) << 32


@contextmanager
def seeded_global_generators(seed: int):
    """Seeds ``random``, NumPy's global generator and torch's CPU generator
    with ``seed`` inside the block; restores their states on exit (CUDA
    generators are not touched)."""
    py_state, np_state = random.getstate(), np.random.get_state()
    torch_state = torch.get_rng_state()
    random.seed(seed)
    np.random.seed([seed & 0xFFFFFFFF, seed >> 32])
    torch.default_generator.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_rng_state(torch_state)


class SampleSeedingMixin:
    """Gives a dataset per-sample seeds (see the module docstring).

    Mix in before MMEngine's ``BaseDataset`` (it wraps ``prepare_data``).
    Seeding is off until :meth:`set_sample_seed` is called.
    """

    def __init__(self, *args, **kwargs) -> None:
        # made before any worker exists: forked and spawned workers share
        # this memory, so they see later set_sample_seed calls
        self._sample_seed_slot = torch.full(
            (2, ), _OFF, dtype=torch.int64).share_memory_()
        super().__init__(*args, **kwargs)

    def set_sample_seed(self, seed: Optional[int], epoch: int) -> None:
        """Seed the pipeline of every sample from ``(seed, epoch, index)``
        from now on; ``seed=None`` turns seeding off."""
        slot = self._sample_seed_slot
        if seed is None:
            slot[1] = _OFF
        else:
            slot[0] = int(seed) & (2**63 - 1)
            slot[1] = int(epoch)

    @property
    def sample_seed_state(self) -> Optional[tuple]:
        """``(seed, epoch)`` while seeding is on, else None."""
        seed, epoch = self._sample_seed_slot.tolist()
        return None if epoch == _OFF else (seed, epoch)

    def prepare_data(self, idx) -> Any:
        state = self.sample_seed_state
        if state is None:
            return super().prepare_data(idx)
        with seeded_global_generators(sample_seed(*state, idx)):
            return super().prepare_data(idx)
