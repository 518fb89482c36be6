"""TSMF (paper 003) through MMAction2's runner on the tiny synthetic set:
stage 1 (the ST-GCN teacher, configs/tsmf_synth_teacher.py) and stage 2
(the student with the fixed teacher, configs/tsmf_synth.py) with
tools/train.py, testing with MMAction2's stock test.py; the teacher is
bit-identical after stage 2 and its scores there are the stage-1 model's;
the robustness report runs under TSMF's missing-modality policy."""
import pickle

import numpy as np
import pytest
import torch
from e2e_helpers import PY, data_options, run

pytestmark = pytest.mark.timeout(900)


def _dump(path):
    with open(path, 'rb') as f:
        return pickle.load(f)


def _state(path):
    return torch.load(path, map_location='cpu',
                      weights_only=False)['state_dict']


def test_tsmf_two_stages_stock_test_and_frozen_teacher(e2e_data, tmp_path):
    from mmar_ext.utils import mmaction_tool_path
    opts = data_options(e2e_data)
    teacher = tmp_path / 'teacher'
    run([PY, 'tools/train.py', 'configs/tsmf_synth_teacher.py',
         '--work-dir', teacher, '--cfg-options', *opts])
    teacher_ckpt = (teacher / 'last_checkpoint').read_text().strip()
    teacher_dump = tmp_path / 'teacher.pkl'
    run([PY, 'tools/test.py', 'configs/tsmf_synth_teacher.py', teacher_ckpt,
         '--work-dir', teacher, '--dump', teacher_dump, '--cfg-options',
         *opts])

    student = tmp_path / 'student'
    stage2 = [*opts, f'model.teacher_checkpoint={teacher_ckpt}']
    proc = run([PY, 'tools/train.py', 'configs/tsmf_synth.py', '--work-dir',
                student, '--cfg-options', *stage2])
    assert 'teacher_loss' not in proc.stdout + proc.stderr
    ckpt = (student / 'last_checkpoint').read_text().strip()
    before, after = _state(teacher_ckpt), _state(ckpt)
    for k, v in before.items():  # parameters and BatchNorm statistics
        assert torch.equal(after[f'teacher.{k}'], v), k

    dump = tmp_path / 'tsmf.pkl'
    run([PY, mmaction_tool_path('test.py'), 'configs/tsmf_synth.py', ckpt,
         '--work-dir', student, '--dump', dump, '--cfg-options', *stage2,
         'model.ensemble_weight=0'])
    results, stage1 = _dump(dump), _dump(teacher_dump)
    assert len(results) == len(stage1) == e2e_data['num_val']
    for r, t in zip(results, stage1):
        assert r['frame_dir'] == t.get('frame_dir', r['frame_dir'])
        np.testing.assert_allclose(r['teacher_score'], t['pred_score'],
                                   atol=1e-5)
        # lambda = 0: the ensemble is the teacher
        np.testing.assert_allclose(r['pred_score'], t['pred_score'],
                                   atol=1e-5)
        assert r['student_score'].shape == (12, )

    # the robustness report: S+R, S (the teacher), R (the plain student)
    report = tmp_path / 'report.md'
    run([PY, 'tools/analysis/missing_modality_eval.py', 'configs/tsmf_synth.py',
         ckpt, '--work-dir', tmp_path / 'missing', '--out', report,
         '--cfg-options', *stage2])
    text = report.read_text()
    assert 'skeleton alone: the teacher' in text
    rows = [line.split('|')[1].strip() for line in text.splitlines()
            if line.startswith('|')][2:]
    assert rows == ['S+R', 'S', 'R', 'mean Δ'], rows
