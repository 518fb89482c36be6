"""Whole runs through MMAction2's runner on a tiny synthetic NTU-format set.

* our ``tools/train.py`` + ``tools/test.py --dump`` (each architecture);
* ``--resume`` of an interrupted run (MMEngine checkpoints on torch 2.14);
* MMAction2's *stock* ``train.py`` / ``test.py`` (shipped in the mmaction2
  package) on the same configs;
* ``tools/dist_train.sh CONFIG 2`` as two CPU processes over gloo;
* the README's main job (``tools/run_synthetic.sh``) at toy size;
* the missing-modality sweep (``tools/analysis/missing_modality_eval.py``).
"""
import os
import os.path as osp
import pickle
import subprocess

import numpy as np
import pytest
from e2e_helpers import PY, ROOT, data_options, run

CONFIG = 'configs/stfusion_synth_rgb-depth_sum.py'

pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def synth(e2e_data):
    """The session's tiny synthetic set (tests/conftest.py): 3 classes,
    every class in both xsub splits."""
    return e2e_data


def check_dump(path, num_clips):
    with open(path, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == num_clips
    scores = np.stack([np.asarray(r['pred_score']) for r in results])
    assert scores.shape[1] == 12  # configs' class count; labels < 3 here
    assert np.allclose(scores.sum(1), 1, atol=1e-4)  # averaged probabilities
    return results


def num_val_clips(synth):
    return synth['num_val']


def train_and_test(synth, tmp_path, config):
    work = tmp_path / 'work'
    run([PY, 'tools/train.py', config, '--work-dir', work,
         '--cfg-options', *data_options(synth)])
    ckpt = (work / 'last_checkpoint').read_text().strip()
    assert ckpt.endswith('epoch_1.pth') and osp.isfile(ckpt)
    dump = tmp_path / 'dump.pkl'
    proc = run([PY, 'tools/test.py', config, ckpt, '--work-dir', work,
                '--dump', dump, '--cfg-options', *data_options(synth)])
    assert 'acc/top1' in proc.stdout + proc.stderr
    check_dump(dump, num_val_clips(synth))
    return work, ckpt


def test_sum_fusion_train_test_missing_modalities_resume(synth, tmp_path):
    config = 'configs/stfusion_synth_rgb-depth_sum.py'
    work, ckpt = train_and_test(synth, tmp_path, config)
    # accuracy with missing modalities (Table 4) from the same checkpoint
    table = tmp_path / 'missing.md'
    run([PY, 'tools/analysis/missing_modality_eval.py', config, ckpt,
         '--work-dir', work / 'missing', '--out', table,
         '--cfg-options', *data_options(synth)])
    lines = [line for line in table.read_text().splitlines()
             if line.startswith('|')]
    rows = [line.split('|')[1].strip() for line in lines[2:]]
    assert table.read_text().startswith('Missing-modality policy: ')
    assert table.with_suffix('.csv').is_file()
    assert table.with_suffix('.png').is_file()
    assert rows == ['R+D', 'R', 'D', 'mean Δ'], rows
    # --resume continues the interrupted schedule from epoch_1.pth
    proc = run([PY, 'tools/train.py', config, '--work-dir', work, '--resume',
                '--cfg-options', *data_options(synth, epochs=2)])
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 1' in log, log[-3000:]
    assert (work / 'epoch_2.pth').is_file()


def test_transformer_fusion_train_and_test(synth, tmp_path):
    train_and_test(synth, tmp_path,
                   'configs/stfusion_synth_rgb-depth_transformer.py')


def test_stock_mmaction_tools_run_our_configs(synth, tmp_path):
    from mmar_ext.utils import mmaction_tool_path
    work = tmp_path / 'work'
    run([PY, mmaction_tool_path('train.py'), CONFIG, '--work-dir', work,
         '--cfg-options', *data_options(synth)])
    dump = tmp_path / 'stock_dump.pkl'
    run([PY, mmaction_tool_path('test.py'), CONFIG, str(work / 'epoch_1.pth'),
         '--work-dir', work, '--dump', dump,
         '--cfg-options', *data_options(synth)])
    check_dump(dump, num_val_clips(synth))


def test_dist_train_and_test_two_cpu_processes(synth, tmp_path):
    work = tmp_path / 'work'
    proc = run(['bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir', work,
                '--cfg-options', *data_options(synth)],
               env=dict(PYTHON=PY, PORT='29731'))
    log = proc.stdout + proc.stderr
    # MMEngine reports the world size as 'GPU number', also for CPU processes
    assert 'Distributed training: True' in log and 'GPU number: 2' in log, \
        log[-3000:]
    assert (work / 'epoch_1.pth').is_file()
    dump = tmp_path / 'dist_dump.pkl'
    run(['bash', 'tools/dist_test.sh', CONFIG, str(work / 'epoch_1.pth'), '2',
         '--work-dir', work, '--dump', dump,
         '--cfg-options', *data_options(synth)],
        env=dict(PYTHON=PY, PORT='29732'))
    check_dump(dump, num_val_clips(synth))  # gathered from both ranks


def test_main_job_script_at_toy_size(tmp_path):
    data, work = tmp_path / 'data', tmp_path / 'work'
    env = dict(DATA=str(data), WORK=str(work),
               MODELS='rgb depth rgb-depth_sum_unimodal-init',
               SYNTH_ARGS='--num-classes 3 --clips-per-class 18 --frames 12 16 '
               '--scale 0.34 --workers 1 --quiet',
               TRAIN_ARGS='--cfg-options train_cfg.max_epochs=1 '
               'train_dataloader.num_workers=0 '
               'train_dataloader.persistent_workers=False '
               'val_dataloader.num_workers=0 val_dataloader.persistent_workers=False '
               'test_dataloader.num_workers=0 test_dataloader.persistent_workers=False')
    proc = run(['bash', 'tools/run_synthetic.sh'], env=env)
    table = (work / 'leaderboard.md').read_text()
    for name in ('rgb', 'depth', 'rgb-depth_sum_unimodal-init', 'chance'):
        assert f'| {name} |' in table
    assert 'mean Δ' in table  # the fused model's robustness
    assert table.strip() in proc.stdout
    for figure in ('robustness.png', 'accuracy_gflops.png',
                   'leaderboard.csv'):
        assert (work / figure).is_file(), figure
    # the console: a line per model and epoch, the whole output on disk
    assert '    rgb  epoch 1/1  loss ' in proc.stdout, proc.stdout[-3000:]
    assert 'Hooks will be executed' not in proc.stdout + proc.stderr
    log = (work / 'rgb-depth_sum_unimodal-init' / 'train.log').read_text()
    assert 'Hooks will be executed' in log
    # the fused model started from the uni-modal models' encoders
    for modality in ('rgb', 'depth'):
        checkpoint = (work / modality / 'last_checkpoint').read_text().strip()
        assert f'load backbone.{modality}. in model from: {checkpoint}' in log
    report = (work / 'rgb-depth_sum_unimodal-init' /
              'missing_modality.md').read_text()
    assert report.startswith('Missing-modality policy: ')
    # header, separator, R+D, R, D, mean Δ
    assert sum(line.startswith('|') for line in report.splitlines()) == 6

    # without its uni-modal models first, it says what is missing
    env.update(WORK=str(tmp_path / 'work2'),
               MODELS='rgb-depth_sum_unimodal-init')
    proc = subprocess.run(['bash', 'tools/run_synthetic.sh'], cwd=ROOT,
                          env=dict(os.environ, **env), capture_output=True,
                          text=True)
    assert proc.returncode != 0
    assert 'needs the trained rgb model' in proc.stderr
