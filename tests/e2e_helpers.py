"""Helpers of the end-to-end tests: running the tools as a user would."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PY = sys.executable


def data_options(data, epochs=1, num_workers=0, val_interval=1000,
                 batch_size=2):
    """``--cfg-options`` that point a synthetic config at the tiny data of
    ``tests/conftest.py``. By default no validation pass inside training
    (``tools/test.py`` evaluates instead) and no worker processes."""
    opts = [f'train_cfg.max_epochs={epochs}',
            f'train_cfg.val_interval={val_interval}',
            'default_hooks.logger.interval=1']
    for split in ('train', 'val', 'test'):
        d = f'{split}_dataloader'
        opts += [f'{d}.dataset.ann_file={data["ann"]}',
                 f'{d}.dataset.data_root={data["raw"]}',
                 f'{d}.batch_size={batch_size}',
                 f'{d}.num_workers={num_workers}',
                 f'{d}.persistent_workers={num_workers > 0}']
    return opts


def run(cmd, **kwargs):
    """Runs ``cmd`` from the repository root; fails the test with its output
    unless it succeeds."""
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    env.update(kwargs.pop('env', {}))
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True,
                          text=True, **kwargs)
    assert proc.returncode == 0, (
        f'{" ".join(map(str, cmd))} failed:\n{proc.stdout[-3000:]}\n'
        f'{proc.stderr[-5000:]}')
    return proc


def dump_scores(path, key='pred_score'):
    """``[N, K]`` scores (``key`` of each result) of a ``tools/test.py
    --dump`` file."""
    with open(path, 'rb') as f:
        return np.stack([np.asarray(r[key]) for r in pickle.load(f)])
