"""M-Mixer (paper 000) through MMAction2's runner on the tiny synthetic set:
tools/train.py + tools/test.py on configs/m_mixer_synth_rgb-depth.py."""
import pickle

import numpy as np
import pytest
from e2e_helpers import PY, data_options, run

CONFIG = 'configs/m_mixer_synth_rgb-depth.py'
pytestmark = pytest.mark.timeout(900)


def test_m_mixer_train_and_test(e2e_data, tmp_path):
    opts = data_options(e2e_data)
    work = tmp_path / 'work'
    run([PY, 'tools/train.py', CONFIG, '--work-dir', work,
         '--cfg-options', *opts])
    ckpt = (work / 'last_checkpoint').read_text().strip()
    dump = tmp_path / 'dump.pkl'
    run([PY, 'tools/test.py', CONFIG, ckpt, '--work-dir', work, '--dump',
         dump, '--cfg-options', *opts])
    with open(dump, 'rb') as f:
        scores = np.stack([np.asarray(r['pred_score'])
                           for r in pickle.load(f)])
    assert scores.shape == (e2e_data['num_val'], 12)
    assert np.allclose(scores.sum(1), 1, atol=1e-4)
