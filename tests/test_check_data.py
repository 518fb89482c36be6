"""The pre-flight data check (mmar_ext.datasets.data_check and
tools/analysis/check_data.py) on a tiny synthetic NTU-format tree.

One tree and pkl are generated per module; each test that damages files
works on its own copy of the raw tree (the pkl is reused: ``data_root``
points the dataset at the copy).
"""
import importlib.util
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest

import mmar_ext  # noqa: F401  (registration, before mmaction)
from mmar_ext.datasets import MultiModalActionDataset
from mmar_ext.datasets.data_check import (CRASH, DECODE, FRAME_COUNT,
                                          MISSING, POSE, UNREADABLE,
                                          FileCheck, Problem, check_dataset,
                                          check_datasets, check_file,
                                          load_report, pose_problems,
                                          run_file_checks, save_report)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOL = osp.join(ROOT, 'tools', 'analysis', 'check_data.py')
CONFIG = 'configs/stfusion_synth_rgb-depth_sum.py'
ALL = ('rgb', 'depth', 'ir', 'pose')


@pytest.fixture(scope='module')
def synth(tmp_path_factory):
    """Tiny synthetic raw tree (2 classes x 3 clips) and its pkl."""
    from data_prep.ntu.build_annotations import build_annotations
    from data_prep.synthetic_ntu import generate
    root = tmp_path_factory.mktemp('synth')
    raw = root / 'raw'
    generate(raw, num_classes=2, clips_per_class=3, frames=(12, 16),
             rgb_size=(96, 54), depth_size=(64, 53), num_workers=1,
             progress=False)
    ann = root / 'annotations.pkl'
    build_annotations(raw, ann, dataset='ntu60', num_workers=1)
    return dict(raw=str(raw), ann=str(ann))


@pytest.fixture
def raw(synth, tmp_path):
    """A private copy of the raw tree, free to damage."""
    copy = str(tmp_path / 'raw')
    shutil.copytree(synth['raw'], copy)
    return copy


def build(synth, raw, modalities=ALL, split=None):
    return MultiModalActionDataset(
        synth['ann'], pipeline=[], data_root=raw, modalities=modalities,
        split=split)


def first_info(dataset, key):
    """The first data info of ``dataset`` and its ``key`` path."""
    info = dataset.get_data_info(0)
    return info['frame_dir'], info[key]


def delete_depth_frames(folder, count):
    frames = sorted(os.listdir(folder))
    for name in frames[-count:]:
        os.remove(osp.join(folder, name))
    return len(frames)


def truncate(path):
    size = osp.getsize(path)
    with open(path, 'r+b') as f:
        f.truncate(size // 2)


def kinds_of(problems, path):
    return {p.kind for p in problems if p.path == path}


# --------------------------------------------------------------------------
# Library
# --------------------------------------------------------------------------
def test_clean_dataset_passes_full_decode_in_a_pool(synth, raw):
    assert check_dataset(build(synth, raw), full_decode=True, workers=2,
                         progress=False) == []


def test_deleted_video_is_reported_with_sample_and_file(synth, raw):
    dataset = build(synth, raw)
    name, video = first_info(dataset, 'rgb_path')
    os.remove(video)
    problems = check_dataset(dataset, workers=1, split='train',
                             progress=False)
    assert problems == [Problem('train', name, 'rgb', video, MISSING,
                                'rgb file not found')]


def test_deleted_depth_frames_are_a_frame_count_problem(synth, raw):
    dataset = build(synth, raw)
    name, folder = first_info(dataset, 'depth_path')
    total = delete_depth_frames(folder, 2)
    [problem] = check_dataset(dataset, workers=1, progress=False)
    assert (problem.sample, problem.modality, problem.path,
            problem.kind) == (name, 'depth', folder, FRAME_COUNT)
    assert f'{total - 2} frames' in problem.message
    assert f'says {total}' in problem.message


def test_truncated_video_is_reported_with_full_decode(synth, raw):
    dataset = build(synth, raw)
    name, video = first_info(dataset, 'ir_path')
    truncate(video)
    problems = check_dataset(dataset, full_decode=True, workers=1,
                             progress=False)
    assert problems and {p.path for p in problems} == {video}
    assert {p.sample for p in problems} == {name}
    assert kinds_of(problems, video) <= {UNREADABLE, FRAME_COUNT, DECODE}


def test_full_decode_reads_every_frame(synth, raw, monkeypatch):
    """Frames the probes do not read: a truncated video whose container
    claims all frames, a corrupt depth PNG after the first."""
    from mmar_ext.datasets import data_check
    dataset = build(synth, raw, modalities=('rgb', 'depth'))
    name, video = first_info(dataset, 'rgb_path')
    _, folder = first_info(dataset, 'depth_path')
    total = dataset.get_data_info(0)['num_frames']['rgb']
    truncate(video)
    frame = osp.join(folder, 'MDepth-00000003.png')
    with open(frame, 'wb') as f:
        f.write(b'not a png')
    probe = data_check._probe
    monkeypatch.setattr(
        data_check, '_probe', lambda task: (total, None)
        if task.path == video else probe(task))
    assert check_dataset(dataset, workers=1, progress=False) == []
    problems = check_dataset(dataset, full_decode=True, workers=1,
                             progress=False)
    assert [(p.sample, p.path, p.kind) for p in problems] == [
        (name, frame, DECODE), (name, video, DECODE)]
    assert f'of {total} frames can be decoded' in problems[1].message


def test_all_problems_are_reported_at_once(synth, raw):
    dataset = build(synth, raw)
    infos = [dataset.get_data_info(i) for i in range(3)]
    os.remove(infos[0]['rgb_path'])
    delete_depth_frames(infos[1]['depth_path'], 1)
    truncate(infos[2]['rgb_path'])
    shutil.rmtree(infos[2]['depth_path'])
    problems = check_dataset(dataset, full_decode=True, workers=2,
                             progress=False)
    assert kinds_of(problems, infos[0]['rgb_path']) == {MISSING}
    assert kinds_of(problems, infos[1]['depth_path']) == {FRAME_COUNT}
    assert kinds_of(problems, infos[2]['rgb_path'])
    assert kinds_of(problems, infos[2]['depth_path']) == {MISSING}
    assert len({p.sample for p in problems}) == 3


def test_only_requested_modalities_are_checked(synth, raw):
    rgb_only = build(synth, raw, modalities=('rgb', ))
    _, folder = first_info(rgb_only, 'depth_path')
    shutil.rmtree(folder)
    assert check_dataset(rgb_only, workers=1, progress=False) == []
    problems = check_dataset(build(synth, raw, modalities=('rgb', 'depth')),
                             workers=1, progress=False)
    assert [(p.modality, p.kind) for p in problems] == [('depth', MISSING)]


def test_shared_samples_are_checked_once_and_name_both_splits(
        synth, raw, monkeypatch):
    from mmar_ext.datasets import data_check
    dataset = build(synth, raw, split='xsub_val')
    _, video = first_info(dataset, 'rgb_path')
    os.remove(video)
    checked = []

    def recording_run(tasks, *args, **kwargs):
        checked.extend(tasks)
        return run_file_checks(tasks, *args, **kwargs)

    monkeypatch.setattr(data_check, 'run_file_checks', recording_run)
    problems = check_datasets(
        {'val': dataset, 'test': dataset}, workers=1, progress=False)
    assert [(p.split, p.path) for p in problems] == [('val,test', video)]
    # one task per file (rgb, depth, ir of each sample; pose has no file)
    assert len(checked) == len(set(checked)) == 3 * len(dataset)


def test_pose_problems():
    info = dict(frame_dir='x', total_frames=5,
                keypoint=np.zeros((1, 5, 17, 2), np.float32),
                keypoint_score=np.ones((1, 5, 17), np.float32))
    assert pose_problems(info) == []
    info['keypoint'][0, 1, 2, 0] = np.nan
    info['keypoint_score'] = np.ones((1, 4, 17), np.float32)
    info['total_frames'] = 6
    messages = pose_problems(info)
    assert len(messages) == 3, messages
    assert 'total_frames is 6' in messages[0]
    assert 'keypoint has 1 non-finite values' in messages[1]
    assert messages[2].startswith('keypoint_score has shape (1, 4, 17)')
    # a data list (not a dataset) is accepted; pose problems carry the kind
    problems = check_dataset([dict(info, modalities=['pose'])], workers=1,
                             progress=False)
    assert sorted(p.message for p in problems) == sorted(messages)
    assert {(p.kind, p.sample, p.modality) for p in problems} == {
        (POSE, 'x', 'pose')}


def crash_on_ir(task):
    """A check that kills its worker on IR files (a decoder segfault)."""
    if task.modality == 'ir':
        os._exit(1)
    return check_file(task)


def test_a_crashing_file_is_reported_and_the_others_checked(synth):
    dataset = build(synth, synth['raw'], modalities=('rgb', 'ir'))
    tasks = [FileCheck(info['frame_dir'], m, info[f'{m}_path'],
                       info['num_frames'][m])
             for info in (dataset.get_data_info(i) for i in range(3))
             for m in ('rgb', 'ir')]
    results = dict(run_file_checks(tasks, workers=2, progress=False,
                                   check=crash_on_ir))
    assert set(results) == set(tasks)
    for task, problems in results.items():
        expected = [CRASH] if task.modality == 'ir' else []
        assert [p.kind for p in problems] == expected


def test_report_round_trips(tmp_path):
    problems = [Problem('val,test', 'S001', 'rgb', '/a.avi', MISSING, 'gone'),
                Problem('train', 'S002', 'pose', '', POSE, 'NaN')]
    path = str(tmp_path / 'sub' / 'report.json')
    save_report(path, problems, config='c.py', full_decode=True)
    loaded, meta = load_report(path)
    assert loaded == problems
    assert meta['counts'] == {MISSING: 1, POSE: 1}
    assert meta['config'] == 'c.py' and meta['num_problems'] == 2
    assert os.listdir(tmp_path / 'sub') == ['report.json']


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------
def data_options(synth, raw):
    return [f'{split}_dataloader.dataset.{key}={value}'
            for split in ('train', 'val', 'test')
            for key, value in (('ann_file', synth['ann']),
                               ('data_root', raw))]


def load_tool():
    spec = importlib.util.spec_from_file_location('check_data_tool', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_cli_clean_data_exits_0(synth, capsys):
    code = load_tool().main([CONFIG, '--workers', '1', '--no-progress',
                             '--cfg-options', *data_options(synth,
                                                            synth['raw'])])
    out = capsys.readouterr().out
    assert code == 0, out
    assert 'no problems found' in out


def test_cli_reports_a_dataset_that_fails_to_build(synth, capsys):
    options = data_options(synth, synth['raw'])
    options[2] = 'val_dataloader.dataset.ann_file=/nonexistent.pkl'
    code = load_tool().main([CONFIG, '--splits', 'train', 'val',
                             '--workers', '1', '--no-progress',
                             '--cfg-options', *options])
    out = capsys.readouterr().out
    assert code == 1
    assert 'dataset: 1' in out and '/nonexistent.pkl' in out
    assert 'samples checked per split: train 3' in out


def test_cli_reports_problems_and_writes_json(synth, raw, tmp_path):
    val = build(synth, raw, modalities=('rgb', 'depth'), split='xsub_val')
    name, video = first_info(val, 'rgb_path')
    os.remove(video)
    _, ir_video = first_info(val, 'ir_path')  # the config reads no IR
    os.remove(ir_video)
    out = tmp_path / 'report.json'
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, TOOL, CONFIG, '--workers', '2', '--out', str(out),
         '--cfg-options', *data_options(synth, raw)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr[-3000:]
    assert name in proc.stdout and video in proc.stdout
    assert '1 problem(s):' in proc.stdout and 'missing: 1' in proc.stdout
    problems, meta = load_report(str(out))
    # val and test share one dataset config: checked once, both named
    assert problems == [Problem('val,test', name, 'rgb', video, MISSING,
                                'rgb file not found')]
    assert meta['splits'] == {'train': 3, 'val': 3, 'test': 3}
