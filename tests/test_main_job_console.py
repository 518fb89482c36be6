"""The main job's console (``tools/lib/progress_filter.py``) and its
``MODELS=all`` orchestration (``tools/run_synthetic.sh``), without training:

* the filter on a captured MMEngine log: one line per epoch with the loss
  and the ETA, the val / test accuracies, a resumed run, the whole output
  in the log file, the tail and the exit status of a failed command;
* ``run_synthetic.sh`` in a copy of ``tools/`` whose ``.venv/bin/python``
  is a stub that records each tool's command line and writes the files the
  next step reads: every architecture's stages in order, each stage's
  checkpoint in the next one's options, a robustness report per
  multi-modal model, the leaderboard's ``--robustness`` rows and heatmap.
The real training at toy size: test_tools_end_to_end.py
(``test_main_job_script_at_toy_size``)."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'tools', 'lib'))
import progress_filter  # noqa: E402

T = '12/06 08:0{} - mmengine - INFO - '
SAMPLE_LOG = '\n'.join([
    T.format(1) + 'Config:',
    'max_epochs = 15',  # the config's variable: stale after --cfg-options
    'train_cfg = dict(',
    "    by_epoch=True, max_epochs=3, type='EpochBasedTrainLoop', "
    'val_interval=3)',
    'default_hooks = dict(logger=dict(interval=10, type=\'LoggerHook\'))',
    T.format(1) + 'Hooks will be executed in the following order:',
    'before_run:',
    '(VERY_HIGH   ) RuntimeInfoHook',
    T.format(2) + 'Epoch(train)  [1][10/22]  base_lr: 4.3429e-04 '
    'lr: 4.3429e-04  eta: 0:05:43  time: 1.0744  data_time: 0.0333  '
    'grad_norm: 2.1473  loss: 2.4942  top1_acc: 0.1250  loss_cls: 2.4942',
    T.format(2) + 'Exp name: stfusion_synth_rgb_20261206_080753',
    T.format(2) + 'Epoch(train)  [1][22/22]  base_lr: 1.0000e-03 '
    'lr: 1.0000e-03  eta: 0:05:10  time: 0.9706  data_time: 0.0091  '
    'grad_norm: 2.2755  loss: 2.4838  top1_acc: 0.3333  loss_cls: 2.4838',
    # an epoch whose last iteration was not logged (ignore_last=True)
    T.format(3) + 'Epoch(train)  [2][20/22]  eta: 0:04:54  time: 1.0293  '
    'loss: 2.4249',
    T.format(4) + 'Epoch(train)  [3][22/22]  eta: 0:00:00  time: 1.0  '
    'loss: 1.8897  top1_acc: 0.3333',
    T.format(4) + 'Saving checkpoint at 3 epochs',
    T.format(5) + 'Epoch(val) [3][10/15]    eta: 0:00:02  time: 0.4608  ',
    T.format(5) + 'Epoch(val) [3][15/15]    acc/top1: 0.4274  '
    'acc/top5: 0.8718  acc/mean1: 0.4560  data_time: 0.0302  time: 0.4045',
    T.format(6) + 'Epoch(test) [15/15]    acc/top1: 0.7350  '
    'acc/top5: 1.0000  acc/mean1: 0.7020  data_time: 0.0365  time: 0.5172',
]) + '\n'


def feed_all(text, **kwargs):
    progress = progress_filter.Progress(clock_fn=lambda: 0, **kwargs)
    out = []
    for line in text.splitlines():
        out += progress.feed(line)
    return out + progress.close()


def test_one_line_per_epoch_with_loss_eta_and_accuracies():
    out = feed_all(SAMPLE_LOG)
    assert out == [
        'epoch 1/3  loss 2.4838  eta 0:05:10  [0:00:00 elapsed]',
        'epoch 2/3  loss 2.4249  eta 0:04:54  [0:00:00 elapsed]  '
        '(iter 20/22)',
        'epoch 3/3  loss 1.8897  eta 0:00:00  [0:00:00 elapsed]',
        'val (epoch 3): top-1 42.7  top-5 87.2  mean class 45.6',
        'test: top-1 73.5  top-5 100.0  mean class 70.2',
    ], out
    # --max-epochs wins over the dump; a resumed run says so
    resumed = (T.format(1) + 'resumed epoch: 2, iter: 44\n' + T.format(2)
               + 'Epoch(train)  [3][22/22]  eta: 0:00:00  loss: 1.8897\n')
    assert feed_all(resumed, max_epochs=15) == [
        'resumed at epoch 2',
        'epoch  3/15  loss 1.8897  eta 0:00:00  [0:00:00 elapsed]']


def test_garbage_and_partial_lines_are_only_logged():
    assert feed_all('Epoch(train) [x][1/2] loss: 1\n\x00\xff nonsense\n'
                    'Epoch(train)  [1][3/') == []


def test_runner_logs_everything_and_prints_the_epochs(tmp_path):
    sample = tmp_path / 'sample.log'
    sample.write_text(SAMPLE_LOG)
    log = tmp_path / 'work' / 'train.log'
    cmd = [sys.executable, osp.join(ROOT, 'tools/lib/progress_filter.py'),
           '--log', str(log), '--label', 'rgb', '--', sys.executable, '-c',
           f'import sys; sys.stdout.write(open({str(sample)!r}).read()); '
           'sys.stderr.write("a warning\\n")']
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == '    rgb  epoch 1/3  loss 2.4838  eta 0:05:10  ' \
        '[0:00:00 elapsed]'
    assert len(lines) == 6 and lines[-1].startswith('    rgb  done in ')
    assert lines[-1].endswith(f'full log: {log}')
    assert 'Hooks will be executed' not in proc.stdout
    text = log.read_text()
    assert SAMPLE_LOG in text and 'a warning' in text
    assert text.startswith('\n===== ')
    # appended: a resumed run keeps the interrupted run's output
    subprocess.run(cmd, check=True, capture_output=True)
    assert log.read_text().count(SAMPLE_LOG) == 2


def test_runner_failure_prints_the_tail_and_the_status(tmp_path):
    log = tmp_path / 'train.log'
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools/lib/progress_filter.py'),
         '--log', str(log), '--label', 'depth', '--tail', '200', '--',
         sys.executable, '-c',
         'import sys; print("config dump " * 100); '
         'sys.exit("Traceback: RuntimeError: boom")'],
        capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stdout == ''
    assert proc.stderr.endswith('RuntimeError: boom\n'
                                f'depth: failed (exit status 1); full log: '
                                f'{log}\n')
    assert len(proc.stderr) < 400  # the tail only
    assert 'config dump ' * 100 in log.read_text()


def test_filter_mode_reads_standard_input(tmp_path):
    log = tmp_path / 'x.log'
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools/lib/progress_filter.py'),
         '--log', str(log)], input=SAMPLE_LOG, capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0].startswith('    epoch 1/3  loss')
    assert SAMPLE_LOG in log.read_text()


STUB = r'''#!/usr/bin/env bash
# Stub python of the main job: records each tool call, writes its outputs.
echo "OMP=${OMP_NUM_THREADS:-unset} $*" >> "$CALLS"
case $1 in
tools/lib/progress_filter.py) exec "$REAL_PY" "$@" ;;
tools/train.py)
    work=$(sed -n 's/.*--work-dir \([^ ]*\).*/\1/p' <<< "$*")
    mkdir -p "$work"; touch "$work/epoch_1.pth"
    echo "$PWD/$work/epoch_1.pth" > "$work/last_checkpoint"
    echo "train_cfg = dict(by_epoch=True, max_epochs=1)"
    echo "Epoch(train)  [1][2/2]  eta: 0:00:00  loss: 1.5" ;;
tools/test.py)
    touch "$(sed -n 's/.*--dump \([^ ]*\).*/\1/p' <<< "$*")"
    echo "Epoch(test) [2/2]    acc/top1: 0.5000  acc/top5: 1.0000" ;;
tools/analysis/missing_modality_eval.py)
    out=$(sed -n 's/.*--out \([^ ]*\).*/\1/p' <<< "$*")
    printf 'Missing-modality policy: stub\n\n| R |\n' > "$out"
    touch "${out%.md}.csv" ;;
tools/analysis/leaderboard.py) echo "| the leaderboard |" ;;
esac
'''


@pytest.fixture
def stub_repo(tmp_path):
    """A copy of the main job's scripts whose python is the stub."""
    repo = tmp_path / 'repo'
    for sub in ('tools/lib', 'tools/analysis', '.venv/bin', 'configs'):
        (repo / sub).mkdir(parents=True)
    for config in os.listdir(osp.join(ROOT, 'configs')):
        if config.startswith('stfusion_synth_'):  # MODELS names these
            (repo / 'configs' / config).touch()
    for f in ('tools/run_synthetic.sh', 'tools/lib/synthetic_data.sh',
              'tools/lib/progress_filter.py'):
        shutil.copy(osp.join(ROOT, f), repo / f)
    (repo / 'tools/setup_env.sh').write_text('true\n')
    py = repo / '.venv/bin/python'
    py.write_text(STUB)
    py.chmod(0o755)
    calls = tmp_path / 'calls.txt'

    def run_job(**env):
        calls.write_text('')
        env = dict(os.environ, CALLS=str(calls), REAL_PY=sys.executable,
                   **env)
        env.pop('OMP_NUM_THREADS', None)
        proc = subprocess.run(['bash', 'tools/run_synthetic.sh'], cwd=repo,
                              env=env, capture_output=True, text=True)
        return proc, calls.read_text().splitlines()
    return repo, run_job


def tool_calls(calls, tool):
    return [c for c in calls if c.split()[1] == tool]


def test_models_all_runs_every_stage_in_order(stub_repo):
    repo, run_job = stub_repo
    # each model once: "all" already holds rgb
    proc, calls = run_job(MODELS='rgb all', WORK='w')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    trains = tool_calls(calls, 'tools/train.py')
    configs = [c.split()[2] for c in trains]
    assert configs == [f'configs/{c}.py' for c in (
        'stfusion_synth_rgb', 'stfusion_synth_depth',
        'stfusion_synth_rgb-depth_sum_unimodal-init',
        'actionmae_synth_rgb-depth', 'm_mixer_synth_rgb-depth',
        'epam_net_synth_rgb', 'epam_net_synth_pose', 'epam_net_synth',
        'tsmf_synth_teacher', 'tsmf_synth', 'deformable_transformer_synth')]
    ckpt = f'{repo}/w/{{}}/epoch_1.pth'
    by_config = dict(zip(configs, trains))
    for key, needs in [
            ('stfusion_synth_rgb-depth_sum_unimodal-init',
             ['model.backbone.rgb.init_cfg.checkpoint=' + ckpt.format('rgb'),
              'model.backbone.depth.init_cfg.checkpoint='
              + ckpt.format('depth')]),
            ('actionmae_synth_rgb-depth',
             ['model.stream_checkpoints.rgb=' + ckpt.format('rgb'),
              'train_cfg.max_epochs=5']),
            ('epam_net_synth',
             ['model.stream_checkpoints.rgb=' + ckpt.format('epam_net_rgb'),
              'model.stream_checkpoints.pose='
              + ckpt.format('epam_net_pose')]),
            ('tsmf_synth',
             ['model.teacher_checkpoint=' + ckpt.format('tsmf_teacher')])]:
        for option in needs:
            assert option in by_config[f'configs/{key}.py'].split(), option
    # the stfusion models with the default threads, the others with one
    assert by_config['configs/stfusion_synth_rgb.py'].startswith('OMP=unset')
    assert by_config['configs/m_mixer_synth_rgb-depth.py'].startswith('OMP=1')
    # a robustness report per multi-modal model, stage-1 models excluded
    sweeps = [c.split()[2] for c in tool_calls(
        calls, 'tools/analysis/missing_modality_eval.py')]
    assert sweeps == [f'configs/{c}.py' for c in (
        'stfusion_synth_rgb-depth_sum_unimodal-init',
        'actionmae_synth_rgb-depth', 'm_mixer_synth_rgb-depth',
        'epam_net_synth', 'tsmf_synth', 'deformable_transformer_synth')]
    deformable = tool_calls(calls, 'tools/analysis/missing_modality_eval.py')
    assert '--decode all' in deformable[-1]
    [board] = tool_calls(calls, 'tools/analysis/leaderboard.py')
    assert board.count('--model ') == 11
    assert board.count('--robustness ') == 6
    assert '--heatmap w/robustness.png' in board
    assert '--scatter w/accuracy_gflops.png' in board
    assert '--robustness EPAM-Net w/epam_net/missing_modality.csv' in board
    # the console: one line per epoch and test, no config dump, the tables
    assert '    epam_net_pose  epoch 1/1  loss 1.5  eta 0:00:00' in proc.stdout
    assert '    tsmf  test: top-1 50.0  top-5 100.0\n' in proc.stdout
    assert '    tsmf  done in ' in proc.stdout  # the training only
    assert proc.stdout.count('tsmf/train.log') == 1
    assert 'tsmf/test.log' not in proc.stdout
    assert 'max_epochs' not in proc.stdout
    assert proc.stdout.rstrip().endswith('| the leaderboard |')
    assert (repo / 'w/tsmf/train.log').read_text().count('max_epochs=1') == 1

    # everything resumes: a second run trains and tests nothing again
    proc, calls = run_job(MODELS='all', WORK='w')
    assert proc.returncode == 0
    assert not [c for c in calls if c.split()[1] in (
        'tools/train.py', 'tools/test.py',
        'tools/analysis/missing_modality_eval.py')]


def test_default_models_and_missing_unimodal_models(stub_repo):
    repo, run_job = stub_repo
    proc, calls = run_job(WORK='w')
    assert proc.returncode == 0, proc.stderr[-3000:]
    [board] = tool_calls(calls, 'tools/analysis/leaderboard.py')
    assert board.count('--model ') == 3
    assert ('--robustness rgb-depth_sum_unimodal-init '
            'w/rgb-depth_sum_unimodal-init/missing_modality.csv') in board
    assert 'epam_net' not in ' '.join(calls)
    for models in ('actionmae', 'rgb-depth_sum_unimodal-init'):
        proc, _ = run_job(WORK='w2', MODELS=models)
        assert proc.returncode != 0
        assert 'needs the trained rgb model' in proc.stderr
    # a typo fails at once, before the set-up
    proc, calls = run_job(WORK='w2', MODELS='rgb epamnet')
    assert proc.returncode == 1 and calls == []
    assert "unknown model 'epamnet'" in proc.stderr


def test_terminal_line_updates_in_place():
    import io
    stream = io.StringIO()
    console = progress_filter.Console('rgb', stream=stream, live=True)
    console.width = 200
    progress = progress_filter.Progress(max_epochs=2, clock_fn=lambda: 0)
    for line in SAMPLE_LOG.splitlines()[8:11]:  # [1][10/22], name, [1][22/22]
        console.print(progress.feed(line), progress.live)
    live = '    rgb  epoch 1/2  loss 2.4942  eta 0:05:43  [0:00:00 elapsed]' \
        '  (iter 10/22)'
    assert stream.getvalue() == (
        live + '\r' + ' ' * len(live) + '\r'
        + '    rgb  epoch 1/2  loss 2.4838  eta 0:05:10  [0:00:00 elapsed]\n')
