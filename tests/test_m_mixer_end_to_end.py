"""M-Mixer (paper 000) through MMAction2's runner on the tiny synthetic set:
tools/train.py + tools/test.py on configs/m_mixer_synth_rgb-depth.py, its
robustness report (R+D, R, D under the neck's missing-modality policy), and
the per-stream classifiers of eq. 22-23 trained on the frozen model
(configs/m_mixer_synth_rgb-depth_streams.py)."""

import numpy as np
import pytest
import torch
from e2e_helpers import PY, data_options, dump_scores, run

CONFIG = 'configs/m_mixer_synth_rgb-depth.py'
STREAMS = 'configs/m_mixer_synth_rgb-depth_streams.py'
pytestmark = pytest.mark.timeout(900)


def _state(path):
    return torch.load(path, map_location='cpu',
                      weights_only=False)['state_dict']


def test_m_mixer_train_test_report_and_stream_classifiers(e2e_data, tmp_path):
    opts = data_options(e2e_data)
    work = tmp_path / 'work'
    run([PY, 'tools/train.py', CONFIG, '--work-dir', work,
         '--cfg-options', *opts])
    ckpt = (work / 'last_checkpoint').read_text().strip()
    dump = tmp_path / 'dump.pkl'
    run([PY, 'tools/test.py', CONFIG, ckpt, '--work-dir', work, '--dump',
         dump, '--cfg-options', *opts])
    scores = dump_scores(dump)
    assert scores.shape == (e2e_data['num_val'], 12)
    assert np.allclose(scores.sum(1), 1, atol=1e-4)

    # the robustness report: R+D, R, D with the M-Mixer policy
    report = tmp_path / 'report.md'
    run([PY, 'tools/analysis/missing_modality_eval.py', CONFIG, ckpt,
         '--work-dir', tmp_path / 'missing', '--out', report,
         '--cfg-options', *opts])
    text = report.read_text()
    assert 'CFEM attends to the present other modalities only' in text
    rows = [line.split('|')[1].strip() for line in text.splitlines()
            if line.startswith('|')][2:]
    assert rows == ['R+D', 'R', 'D', 'mean Δ'], rows

    # eq. 22-23: per-stream classifiers on the frozen M-Mixer
    streams = tmp_path / 'streams'
    proc = run([PY, 'tools/train.py', STREAMS, '--work-dir', streams,
                '--cfg-options', *opts,
                f'model.init_cfg.checkpoint={ckpt}', '--resume'])
    log = proc.stdout + proc.stderr
    assert 'rgb_loss_cls' in log and 'depth_loss_cls' in log
    trained = (streams / 'last_checkpoint').read_text().strip()
    before, after = _state(ckpt), _state(trained)
    frozen = [k for k in before if k.startswith(('backbone.', 'neck.'))]
    assert frozen and all(torch.equal(before[k], after[k]) for k in frozen)
    assert after['cls_head.fc_cls.rgb.weight'].shape == (12, 512)
    assert 'cls_head.fc_cls.rgb.bias' not in after  # eq. 22: no bias
    rgb = tmp_path / 'rgb.pkl'
    run([PY, 'tools/test.py', STREAMS, trained, '--work-dir', streams,
         '--dump', rgb, '--cfg-options', *opts,
         "model.neck.stream_outputs=['rgb']"])
    assert dump_scores(rgb).shape == (e2e_data['num_val'], 12)
    assert not np.allclose(dump_scores(rgb), scores)
