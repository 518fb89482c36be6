"""Leaderboard table from ``tools/test.py --dump`` results.

    python tools/analysis/leaderboard.py \\
        --model R  configs/stfusion_synth_rgb.py        work_dirs/r/dump.pkl \\
        --model R+D configs/stfusion_synth_rgb-depth_sum.py work_dirs/rd/dump.pkl \\
        [--out leaderboard.md] [--csv leaderboard.csv] [--chance] [--zoo] \\
        [--throughput [--device cuda] [--iters 10] [--warmup 2] \\
                      [--rounds 3]] \\
        [--scatter accuracy_vs_gflops.png] [--from-csv earlier.csv]

For each model: top-1, top-5 and mean class accuracy computed with
MMAction2's own metric functions (the same numbers ``AccMetric`` logs), the
number of parameters of the model built from its config (all of them, a
frozen part included: TSMF's fixed teacher scores every test clip too), its
GFLOPs per test clip of all its modalities (``complexity.py``, MMEngine's
count: each modality's clip is the config's ``clip_len`` x ``crop_size``²,
either an int for all modalities or a ``{modality: value}`` dict --
EPAM-Net: RGB 16 x 224², pose 48 x 56², channels from each encoder's
``in_channels``), and the number of test clips. Prints a Markdown table
(MMAction2 model-zoo style); ``--out`` also writes it to a file, ``--csv``
writes every row (with more digits, the architecture, modalities, class
count and where its clips/s were measured) as CSV.

``--zoo`` adds the model-zoo columns ``architecture`` (the collection of
``configs/metafiles/<prefix>.yml`` whose prefix starts the config's name,
e.g. SpaceTimeFusion, TSMF; else the model type) and ``modalities`` (what
the model classifies from; a modality only the data pipeline reads, such as
the pose that crops EPAM-Net's RGB clips, in parentheses) after the config.

Inference speed (``--throughput``): every model is built from its config
on this machine (random weights: the speed does not depend on them) and
``--iters`` forward passes (``tensor`` mode, through the head) of one test
clip -- the clip the GFLOPs are counted on, batch 1 -- are timed after
``--warmup`` passes, in ``--rounds`` rounds (default 3) that visit the
models in turn, so a slow spell of a shared machine falls on every row
rather than on one; the ``clips/s`` column (after GFLOPs) is one clip over
the median of all of a model's pass times, and its header names the device
(GPU name, or CPU name and torch threads) and says it was measured in this
run: all rows of one run are measured by the same process, interleaved, so
they compare. A note under the table gives the host and the settings.

Merging an earlier table (``--from-csv OLD.csv``, a ``--csv`` of another
run): its rows are added after the ``--model`` rows (a NAME in both is an
error). Their clips/s were measured in another run, maybe on another
machine: they are never shown as if measured in this run -- each such
value is marked ``(a)``, ``(b)``, ... with a note naming its device, host,
time and whether that is this run's machine.

Figures: ``--scatter OUT.png``: top-1 (%) against GFLOPs per test clip, one
labelled point per row (error bar: the runs' sample std; colour: the
architecture; log GFLOPs axis when they span 10x or more); ``--heatmap``
(below). Both are written atomically (matplotlib, Agg).

Several runs of one model (e.g. one per training seed): give ``--model``
once per run with the same NAME and CONFIG and each run's DUMP::

    --model R configs/stfusion_synth_rgb.py seed0/dump.pkl \\
    --model R configs/stfusion_synth_rgb.py seed1/dump.pkl \\
    --model R configs/stfusion_synth_rgb.py seed2/dump.pkl

The model then has one row (where its NAME first appears): each accuracy as
``mean ± s`` over the runs (``s``: sample standard deviation, n - 1 in the
denominator), parameters and GFLOPs counted once, and a ``runs`` column
(``n=3``; ``n=1`` for single-run models) added to the table. All runs of a
model must have the same config and the same test clips (number, labels in
order, and sample ids where the dumps hold them). With one dump for every
NAME the table is the single-run table (no ``runs`` column).

Checks of the input (errors name the file): each dump's scores must have
the config's class count (``model.cls_head.num_classes``; the dump's
``pred_score``, which TSMF's recognizer sets to the score its
``test_cfg.score`` selects) and labels in its range -- else the dump is of
another config or dataset; the runs of one NAME must have the same class
count and test clips; every dump, config and ``--robustness`` report must
exist. Rows of different names tested on different clips get a note under
the table (their accuracies do not compare). The config's test set itself
is not read: scripts point it elsewhere with ``--cfg-options``.

Per-class top-1 of chosen classes (e.g. TSMF's appearance pairs, which the
skeleton cannot tell apart): ``--classes 2 3 8 9`` (0-based labels) adds a
second table, a row per model (mean ± s over its runs) and a column per
class, named from ``--class-names FILE`` (one name a line, e.g. the
synthetic dataset's ``synthetic_classes.txt``) when given.

Robustness to missing modalities (paper 001, Tables 4 / 5): give the CSV
that ``missing_modality_eval.py --out report.md`` wrote next to its
Markdown, once per model::

    --robustness R+D work_dirs/rd/missing_modality.csv \\
    --robustness R+D+I work_dirs/rdi/missing_modality.csv \\
    --heatmap robustness.png

NAME is a ``--model`` NAME. The table then has a ``mean Δ`` column (the
report's mean top-1 Δ over the proper subsets, %p, negative when accuracy
drops; blank for models without a report), and ``--heatmap`` draws one
top-1 heatmap of all reports: a row per model (leaderboard order),
a column per test subset (the union of the reports' subsets, complete
sets and larger subsets first), blank where a model was not tested with a
subset (``mmar_ext.evaluation.plot_robustness_heatmap``).
"""
import argparse
import csv
import glob
import os
import os.path as osp
import pickle
import platform
import socket
import sys
import time

import numpy as np

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import complexity  # noqa: E402  (tools/analysis/complexity.py)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: Keys of a dump's results that identify its samples (compared between the
#: runs of one model when the dumps hold them).
SAMPLE_ID_KEYS = ('sample_idx', 'frame_dir', 'filename', 'video_id',
                  'sample_name')


class BadInput(ValueError):
    """An input file that does not fit the others (the message names it)."""


def load_dump(path, key='pred_score', with_ids=False):
    """Scores [N, K] (``key`` of each result, e.g. TSMF's
    ``student_score``) and labels [N] from an MMAction2 ``--dump``
    pickle; with ``with_ids``, also the samples' ids (the first of
    :data:`SAMPLE_ID_KEYS` that every result holds, else None)."""
    with open(path, 'rb') as f:
        results = pickle.load(f)
    if not results:
        raise ValueError(f'{path}: the dump holds no predictions')
    missing = [i for i, r in enumerate(results) if key not in r]
    if missing:
        raise KeyError(f'{path}: result {missing[0]} has no {key!r} '
                       f'(it has {sorted(results[missing[0]])})')
    lengths = {np.asarray(r[key]).size for r in results}
    if len(lengths) != 1:
        raise BadInput(f'{path}: the results\' {key} have different lengths '
                       f'{sorted(lengths)}')
    scores = np.stack([np.asarray(r[key], dtype=np.float64).reshape(-1)
                       for r in results])
    labels = np.array([int(np.asarray(r['gt_label']).reshape(-1)[0])
                       for r in results])
    if not with_ids:
        return scores, labels
    ids = None
    for id_key in SAMPLE_ID_KEYS:
        if all(id_key in r for r in results):
            ids = [str(np.asarray(r[id_key]).tolist()) for r in results]
            break
    return scores, labels, ids


def accuracy_row(scores, labels):
    from mmaction.evaluation.functional import (mean_class_accuracy,
                                                top_k_accuracy)
    top1, top5 = top_k_accuracy(scores, labels, topk=(1, min(5, scores.shape[1])))
    return dict(top1=top1, top5=top5,
                mean1=mean_class_accuracy(scores, labels), clips=len(labels))


def _build(config):
    """The config's model and its test clip shapes (as
    :func:`model_cost`)."""
    model = complexity.build_model(config)
    shapes = complexity.input_shapes(
        model, *complexity.clip_shape(config),
        complexity.config_input_shapes(config))
    return model, shapes


def model_cost(config):
    """``(parameters, FLOPs per test clip)`` of a config's
    model; the clip of each modality from the config's ``clip_len`` /
    ``crop_size`` (ints or ``{modality: value}`` dicts,
    :func:`complexity.input_shapes`)."""
    model, shapes = _build(config)
    params = sum(p.numel() for p in model.parameters())
    return params, complexity.count_flops(model, shapes=shapes)


# ---------------------------------------------------------------------------
# inference speed
# ---------------------------------------------------------------------------
def measure_throughputs(models, device='cpu', iters=10, warmup=2,
                        rounds=3, batch=1):
    """Clips/s of each ``(model, shapes)`` of ``models``: ``rounds`` rounds
    that each run ``warmup`` untimed and ``iters`` timed forward passes of
    every model in turn (:func:`_pass_times`); a model's clips/s is
    ``batch`` over the median of its ``rounds x iters`` pass times."""
    if rounds < 1:
        raise ValueError(f'rounds must be >= 1, got {rounds}')
    times = [[] for _ in models]
    for _ in range(rounds):
        for i, (model, shapes) in enumerate(models):
            times[i] += _pass_times(model, shapes, device, iters, warmup,
                                    batch)
    return [batch / float(np.median(t)) for t in times]


def _pass_times(model, shapes, device, iters, warmup, batch):
    """Seconds of each of ``iters`` timed forward passes (``tensor`` mode,
    through the head when the model has one) of ``batch`` clips of
    ``shapes`` (:func:`complexity.input_shapes`) on ``device``, after
    ``warmup`` untimed ones."""
    import torch
    if iters < 1 or warmup < 0:
        raise ValueError(f'iters must be >= 1 and warmup >= 0, got {iters}, '
                         f'{warmup}')
    model = model.to(device).eval()
    inputs = complexity.dummy_inputs(model, batch, None, None, device, shapes)
    forward = complexity.TensorForward(model, complexity._stage(model))
    cuda = str(device).startswith('cuda')
    times = []
    with torch.no_grad():
        for _ in range(warmup):
            forward(inputs)
        if cuda:
            torch.cuda.synchronize(device)
        for _ in range(iters):
            start = time.perf_counter()
            forward(inputs)
            if cuda:
                torch.cuda.synchronize(device)
            times.append(time.perf_counter() - start)
    return times


def _cpu_name():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.partition(':')[2].strip()
    except OSError:  # pragma: no cover (not Linux)
        pass
    return platform.processor() or platform.machine() or 'unknown CPU'


def device_name(device):
    """The device in words: the GPU's name, or the CPU's and the number of
    torch threads."""
    import torch
    if str(device).startswith('cuda'):
        return torch.cuda.get_device_name(torch.device(device))
    threads = torch.get_num_threads()
    return (f'CPU {_cpu_name()}, {threads} thread'
            + ('' if threads == 1 else 's'))


def this_machine(device, iters, warmup, rounds=1):
    """Where and how this run measures: ``dict(device, host, measured_at,
    settings)`` (``measured_at`` identifies the run)."""
    import torch
    how = (f'median of {iters} timed passes after {warmup} warm-up'
           if rounds == 1 else
           f'median of {rounds} rounds x {iters} timed passes (each after '
           f'{warmup} warm-up), the models in turn in each round')
    return dict(device=device_name(device), host=socket.gethostname(),
                measured_at=time.strftime('%Y-%m-%dT%H:%M:%S%z'),
                settings=f'batch 1, {how}, torch {torch.__version__}')


# ---------------------------------------------------------------------------
# per-config facts
# ---------------------------------------------------------------------------
def config_num_classes(cfg):
    """The class count of a config's model (``model.cls_head.num_classes``,
    else ``model.num_classes`` or ``num_classes``), or None."""
    from mmengine.config import Config
    cfg = Config.fromfile(cfg) if isinstance(cfg, str) else cfg
    head = cfg.model.get('cls_head') or {}
    for value in (head.get('num_classes'), cfg.model.get('num_classes'),
                  cfg.get('num_classes')):
        if value is not None:
            return int(value)
    return None


_ARCHITECTURES = None


def architecture(config, model_type=None):
    """The collection of ``configs/metafiles/<prefix>.yml`` whose prefix
    starts the config's file name (``stfusion_synth_rgb.py`` ->
    ``SpaceTimeFusion``), else ``model_type``."""
    global _ARCHITECTURES
    if _ARCHITECTURES is None:
        import yaml
        _ARCHITECTURES = {}
        for path in sorted(glob.glob(osp.join(ROOT, 'configs', 'metafiles',
                                              '*.yml'))):
            with open(path) as f:
                collections = (yaml.safe_load(f) or {}).get('Collections')
            if collections:
                prefix = osp.splitext(osp.basename(path))[0]
                _ARCHITECTURES[prefix] = collections[0]['Name']
    stem = osp.basename(config)
    for prefix in sorted(_ARCHITECTURES, key=len, reverse=True):
        if stem.startswith(prefix + '_'):
            return _ARCHITECTURES[prefix]
    return model_type or ''


MODALITY_NAMES = dict(rgb='RGB', depth='Depth', ir='IR', pose='Pose',
                      skeleton='Skeleton')


def _modalities_text(modalities, pipeline_only=()):
    """``RGB + Depth``; ``RGB (+ Pose in the data pipeline)`` for a model
    that classifies RGB alone from clips its pipeline cut with the pose."""
    text = ' + '.join(MODALITY_NAMES.get(m, m) for m in modalities)
    if pipeline_only:
        text += (' (+ ' + ' + '.join(MODALITY_NAMES.get(m, m)
                                      for m in pipeline_only)
                 + ' in the data pipeline)')
    return text


def model_modalities(model, config_modalities=()):
    """``(what the model classifies from, what else its data pipeline
    reads)``: the model's own ``modalities`` (a ``MultiModalRecognizer``'s
    encoders) where it has them, else the config's ``modalities``. EPAM-Net's
    RGB X-ShiftNet reads the 2D pose only to crop the skeleton box:
    ``(('rgb',), ('pose',))``."""
    config_modalities = tuple(config_modalities or ())
    own = tuple(getattr(model, 'modalities', None) or ()) or \
        config_modalities or complexity.modalities_of(model)
    return own, tuple(m for m in config_modalities if m not in own)


def config_facts(config):
    """``dict(cfg, num_classes, modalities, architecture)`` of a config."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    modalities = tuple(cfg.get('modalities') or ())
    return dict(cfg=cfg, num_classes=config_num_classes(cfg),
                modalities=modalities,
                architecture=architecture(config, cfg.model.get('type')))


# ---------------------------------------------------------------------------
# checks of the dumps
# ---------------------------------------------------------------------------
def check_dumps(name, config, num_classes, dumps):
    """The loaded dumps of model ``name`` (``[(path, scores, labels, ids)]``)
    against each other and the config's class count ``num_classes``:
    :class:`BadInput` naming the file(s) when they do not fit."""
    path0, scores0, labels0, ids0 = dumps[0]
    for path, scores, labels, ids in dumps[1:]:
        if scores.shape[1] != scores0.shape[1]:
            raise BadInput(
                f'--model {name}: {path} has {scores.shape[1]} classes, '
                f'{path0} (a run of the same model) {scores0.shape[1]}')
    for path, scores, labels, _ in dumps:
        if num_classes is not None and scores.shape[1] != num_classes:
            raise BadInput(
                f'--model {name}: {path} has scores of {scores.shape[1]} '
                f'classes, its config {config} has {num_classes} '
                '(model.cls_head.num_classes): a dump of another config?')
        bad = labels[(labels < 0) | (labels >= scores.shape[1])]
        if bad.size:
            raise BadInput(
                f'--model {name}: {path} has label {int(bad[0])}, outside '
                f'the {scores.shape[1]} classes of {config}: samples of '
                'another dataset?')
    for path, scores, labels, ids in dumps[1:]:
        if len(labels) != len(labels0):
            raise BadInput(
                f'--model {name}: the runs of one model must have the same '
                f'test clips, got {len(labels0)} in {path0} and '
                f'{len(labels)} in {path}')
        if not np.array_equal(labels, labels0) or (
                ids is not None and ids0 is not None and ids != ids0):
            first = int(np.flatnonzero(labels != labels0)[0]) \
                if not np.array_equal(labels, labels0) else next(
                    i for i, (a, b) in enumerate(zip(ids, ids0)) if a != b)
            raise BadInput(
                f'--model {name}: the runs of one model must have the same '
                f'test clips in the same order: {path} and {path0} differ '
                f'at clip {first}')


METRICS = ('top1', 'top5', 'mean1')


def per_class_top1(scores, labels, classes):
    """Top-1 accuracy of each of ``classes`` (NaN for a class without test
    samples)."""
    pred = scores.argmax(1)
    return np.array([(pred[labels == c] == c).mean() if (labels == c).any()
                     else np.nan for c in classes], dtype=np.float64)


def format_per_class(rows, classes, names=None):
    """Markdown table of the rows' ``per_class`` (``[runs, classes]``)."""
    heads = [names[c] if names and c < len(names) else f'class {c}'
             for c in classes]
    lines = ['| model | ' + ' | '.join(heads) + ' |',
             '|---|' + '---:|' * len(classes)]
    for r in rows:
        if 'per_class' not in r:  # a row of --from-csv
            continue
        runs = np.asarray(r['per_class'])
        cells = []
        for values in runs.T:
            cell = f'{100 * values.mean():.1f}'
            if len(values) > 1:
                cell += f' ± {100 * values.std(ddof=1):.1f}'
            cells.append(cell)
        lines.append(f"| {r['name']} | " + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def runs_row(accuracy_rows):
    """One row of several runs' :func:`accuracy_row` dicts: the mean of
    each accuracy, ``<metric>_std`` (sample standard deviation, ddof=1),
    ``runs`` and the per-run rows (``per_run``)."""
    clips = {r['clips'] for r in accuracy_rows}
    if len(clips) != 1:
        raise ValueError('the runs of one model must have the same test '
                         f'clips, got {[r["clips"] for r in accuracy_rows]}')
    row = dict(clips=clips.pop(), runs=len(accuracy_rows),
               per_run=list(accuracy_rows))
    for key in METRICS:
        values = np.array([r[key] for r in accuracy_rows], dtype=np.float64)
        row[key] = float(values.mean())
        row[f'{key}_std'] = float(values.std(ddof=1))
    return row


# ---------------------------------------------------------------------------
# the Markdown table
# ---------------------------------------------------------------------------
def _acc(row, key):
    if row.get('runs', 1) > 1 and row.get(f'{key}_std') is not None:
        return f"{100 * row[key]:.1f} ± {100 * row[f'{key}_std']:.1f}"
    return f'{100 * row[key]:.1f}'


def _mean_delta(row):
    mean = row.get('mean_delta')
    if mean is None:
        return ''
    std = row.get('mean_delta_std')
    return f'{mean:+.1f}' + ('' if std is None else f' ± {std:.1f}')


def _speed(value):
    return f'{value:.1f}' if value >= 10 else f'{value:.2f}'


def _same_machine(a, b):
    return a['device'] == b['device'] and a['host'] == b['host']


def throughput_column(rows):
    """``(header, {row name: cell}, notes)`` of the clips/s column, or None
    when no row has clips/s. The rows measured in this run (``throughput``
    with ``this_run``) share the header (device, "measured in this run");
    every value of another run (a ``--from-csv`` row) is marked with a
    letter whose note says where and when it was measured."""
    measured = [r for r in rows if r.get('throughput')]
    if not measured:
        return None
    here = next((r['throughput'] for r in measured
                 if r['throughput'].get('this_run')), None)
    others = []  # distinct measuring runs other than this one, in order
    for r in measured:
        t = r['throughput']
        key = (t['device'], t['host'], t.get('measured_at'))
        if not t.get('this_run') and key not in others:
            others.append(key)
    cells, notes = {}, []
    if here is not None:
        header = f"clips/s ({here['device']}, measured in this run)"
        notes.append(
            f"clips/s: {here['settings']}, one test clip per modality (the "
            f"clip of the GFLOPs column), on {here['device']}, host "
            f"{here['host']}; "
            + ('the rows without a letter were' if others else 'every row '
               'was')
            + ' measured in this run by this process, with random weights '
            '(the speed does not depend on them).')
    elif len(others) == 1:
        device, host, at = others[0]
        header = f'clips/s ({device}, measured in another run)'
        src = measured[0]['throughput']
        notes.append(f'clips/s: measured on {device}, host {host}, at {at} '
                     f"(from {src.get('source', 'another run')}), not in "
                     'this run.')
    else:
        header = 'clips/s (see notes: measured in other runs)'
    letters = {}
    if here is not None or len(others) > 1:
        for i, key in enumerate(others):
            letter = chr(ord('a') + i) if i < 26 else f'z{i}'
            letters[key] = letter
            device, host, at = key
            src = next(r['throughput'].get('source', 'another run')
                       for r in measured
                       if (r['throughput']['device'], r['throughput']['host'],
                           r['throughput'].get('measured_at')) == key)
            same = here is not None and _same_machine(
                here, dict(device=device, host=host))
            where = ('the same device and host as this run\'s column, but '
                     'another run' if same else
                     'NOT this run\'s machine: not comparable with the '
                     'rows measured in this run' if here is not None else
                     'another run')
            notes.append(f'({letter}) clips/s from {src}: measured on '
                         f'{device}, host {host}, at {at} -- {where}.')
    for r in measured:
        t = r['throughput']
        cell = _speed(t['clips_per_s'])
        key = (t['device'], t['host'], t.get('measured_at'))
        if not t.get('this_run') and key in letters:
            cell += f' ({letters[key]})'
        cells[r['name']] = cell
    return header, cells, notes


def table_columns(rows, zoo=False):
    """``[(header, alignment, cell(row))]`` of the leaderboard."""
    runs = any(r.get('runs', 1) > 1 for r in rows)
    robust = any('mean_delta' in r for r in rows)
    speed = throughput_column(rows)
    cols = [('model', '---', lambda r: r['name'])]
    if zoo:
        cols.append(('architecture', '---',
                     lambda r: r.get('architecture') or ''))
    cols.append(('config', '---',
                 lambda r: f"`{osp.basename(r['config'])}`"))
    if zoo:
        cols.append(('modalities', '---',
                     lambda r: _modalities_text(
                         r.get('modalities') or (),
                         r.get('pipeline_modalities') or ())))
    cols += [('params', '---:', lambda r: f"{r['params'] / 1e6:.2f}M"),
             ('GFLOPs', '---:', lambda r: f"{r['flops'] / 1e9:.2f}")]
    if speed:
        cols.append((speed[0], '---:',
                     lambda r, cells=speed[1]: cells.get(r['name'], '')))
    cols += [('top-1', '---:', lambda r: _acc(r, 'top1')),
             ('top-5', '---:', lambda r: _acc(r, 'top5')),
             ('mean class acc.', '---:', lambda r: _acc(r, 'mean1'))]
    if robust:
        cols.append(('mean Δ', '---:', _mean_delta))
    cols.append(('test clips', '---:', lambda r: f"{r['clips']}"))
    if runs:
        cols.append(('runs', '---:', lambda r: f"n={r.get('runs', 1)}"))
    return cols


def format_table(rows, chance=None, zoo=False):
    """The Markdown leaderboard; a ``mean Δ`` column (after the mean class
    accuracy) when any row has a ``mean_delta`` key (%p, from
    ``--robustness``), a ``runs`` column when a model has several runs, a
    clips/s column (after GFLOPs, :func:`throughput_column`) when any row
    has ``throughput``, ``architecture`` and ``modalities`` with ``zoo``.
    """
    cols = table_columns(rows, zoo)
    lines = ['| ' + ' | '.join(h for h, _, _ in cols) + ' |',
             '|' + ''.join(f'{a}|' for _, a, _ in cols)]
    for r in rows:
        lines.append('| ' + ' | '.join(cell(r) for _, _, cell in cols)
                     + ' |')
    if chance is not None:
        cells = [f'{100 * chance:.1f}' if h in ('top-1', 'mean class acc.')
                 else '' for h, _, _ in cols[1:]]
        lines.append('| chance |' + ''.join(f' {c} |' if c else ' |'
                                            for c in cells))
    return '\n'.join(lines)


def table_notes(rows):
    """Notes under the table: where the clips/s were measured, and rows
    tested on different clips."""
    speed = throughput_column(rows)
    notes = list(speed[2]) if speed else []
    groups = {}
    for r in rows:
        if r.get('labels_key') is not None:
            groups.setdefault(r['labels_key'], []).append(r)
    if len(groups) > 1:
        parts = ['; '.join(
            f"{', '.join(r['name'] for r in group)}: "
            f"{group[0]['clips']} clips" for group in groups.values())]
        notes.append('Note: these rows were not tested on the same clips ('
                     + parts[0] + '): their accuracies do not compare.')
    if any(r.get('source') for r in rows):
        sources = sorted({r['source'] for r in rows if r.get('source')})
        merged = [r['name'] for r in rows if r.get('source')]
        notes.append(('Rows ' if len(merged) > 1 else 'Row ')
                     + ', '.join(merged)
                     + (' are' if len(merged) > 1 else ' is')
                     + ' from ' + ', '.join(sources) + ' (--from-csv).')
    return notes


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------
CSV_FIELDS = (
    'name', 'architecture', 'config', 'modalities', 'pipeline_modalities',
    'num_classes', 'params',
    'flops', 'gflops', 'clips_per_s', 'clips_per_s_device',
    'clips_per_s_host', 'clips_per_s_measured_at', 'clips_per_s_settings',
    'top1', 'top1_std', 'top5', 'top5_std', 'mean1', 'mean1_std',
    'mean_delta', 'mean_delta_std', 'test_clips', 'runs', 'dumps')
#: Columns a ``--from-csv`` file must have.
CSV_REQUIRED = ('name', 'config', 'params', 'flops', 'top1', 'top5', 'mean1',
                'test_clips')


def _num(value, digits=8):
    return '' if value is None else repr(round(float(value), digits))


def csv_records(rows):
    """The rows as CSV records (:data:`CSV_FIELDS`; accuracies in %, mean Δ
    in %p, blank where unknown)."""
    records = []
    for r in rows:
        t = r.get('throughput') or {}
        rec = dict(
            name=r['name'], architecture=r.get('architecture') or '',
            config=r['config'], modalities='+'.join(r.get('modalities') or ()),
            pipeline_modalities='+'.join(r.get('pipeline_modalities') or ()),
            num_classes='' if r.get('num_classes') is None
            else int(r['num_classes']),
            params=int(r['params']), flops=int(r['flops']),
            gflops=f"{r['flops'] / 1e9:.4f}",
            clips_per_s=_num(t.get('clips_per_s'), 3),
            clips_per_s_device=t.get('device', ''),
            clips_per_s_host=t.get('host', ''),
            clips_per_s_measured_at=t.get('measured_at', ''),
            clips_per_s_settings=t.get('settings', ''),
            mean_delta=_num(r.get('mean_delta')),
            mean_delta_std=_num(r.get('mean_delta_std')),
            test_clips=int(r['clips']), runs=int(r.get('runs', 1)),
            dumps=';'.join(r.get('dumps') or ()))
        for key in METRICS:
            rec[key] = _num(100 * r[key])
            std = r.get(f'{key}_std')
            rec[f'{key}_std'] = _num(None if std is None else 100 * std)
        records.append(rec)
    return records


def write_csv(rows, path):
    """Write :func:`csv_records` to ``path`` (atomically)."""
    tmp = path + '.tmp'
    with open(tmp, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(csv_records(rows))
    os.replace(tmp, path)


def read_csv_rows(path):
    """The rows of a :func:`write_csv` file (another run's leaderboard):
    their clips/s (if any) tagged with the file as ``source``."""
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        fields = tuple(reader.fieldnames or ())
        missing = [k for k in CSV_REQUIRED if k not in fields]
        if missing:
            raise BadInput(f'--from-csv {path}: not a leaderboard CSV (no '
                           f'column {", ".join(missing)}; it has {fields})')
        records = list(reader)

    def num(rec, key, scale=1.0, cast=float):
        value = (rec.get(key) or '').strip()
        return None if value == '' else cast(float(value) * scale)

    rows = []
    for i, rec in enumerate(records, start=2):
        try:
            row = dict(
                name=rec['name'], config=rec['config'],
                architecture=rec.get('architecture') or '',
                modalities=tuple(m for m in (rec.get('modalities') or '')
                                 .split('+') if m),
                pipeline_modalities=tuple(
                    m for m in (rec.get('pipeline_modalities') or '')
                    .split('+') if m),
                num_classes=num(rec, 'num_classes', cast=int),
                params=num(rec, 'params', cast=int),
                flops=num(rec, 'flops', cast=int),
                clips=num(rec, 'test_clips', cast=int),
                runs=num(rec, 'runs', cast=int) or 1,
                mean_delta=num(rec, 'mean_delta'),
                mean_delta_std=num(rec, 'mean_delta_std'),
                dumps=[d for d in (rec.get('dumps') or '').split(';') if d],
                source=path)
            for key in METRICS:
                row[key] = num(rec, key, 0.01)
                row[f'{key}_std'] = num(rec, f'{key}_std', 0.01)
        except ValueError as e:
            raise BadInput(f'--from-csv {path}, line {i}: {e}') from None
        if None in (row['params'], row['flops'], row['clips'], row['top1'],
                    row['top5'], row['mean1']):
            raise BadInput(f'--from-csv {path}, line {i}: a required value '
                           f'({", ".join(CSV_REQUIRED)}) is blank')
        if row['mean_delta'] is None:
            del row['mean_delta']
        speed = num(rec, 'clips_per_s')
        if speed is not None:
            row['throughput'] = dict(
                clips_per_s=speed,
                device=rec.get('clips_per_s_device') or 'unknown device',
                host=rec.get('clips_per_s_host') or 'unknown host',
                measured_at=rec.get('clips_per_s_measured_at') or 'unknown',
                settings=rec.get('clips_per_s_settings') or '',
                source=path, this_run=False)
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# accuracy against GFLOPs
# ---------------------------------------------------------------------------
def plot_accuracy_vs_flops(rows, path, chance=None, dpi=100):
    """Top-1 (%) against GFLOPs per test clip, one labelled point per row
    (error bar: the runs' sample std; colour: the architecture), written
    atomically to the PNG ``path``. Returns the image size in pixels."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    if not rows:
        raise ValueError('no row to draw')
    archs = list(dict.fromkeys(r.get('architecture') or '' for r in rows))
    colours = matplotlib.colormaps['tab10']
    width, height = 8.4, 4.6
    fig, ax = plt.subplots(figsize=(width, height), dpi=dpi,
                           layout='constrained')
    gflops = np.array([r['flops'] / 1e9 for r in rows])
    positive = gflops[gflops > 0]
    log_x = bool(positive.size) and positive.max() >= 10 * positive.min()
    # where along the x range each point lies (0 .. 1): the labels of the
    # right part go to the left of their point, so they stay in the axes
    axis = (np.log10(np.maximum(gflops, positive.min())) if log_x
            else gflops)
    place = (axis - axis.min()) / (np.ptp(axis) or 1.0)
    for r, x, where in zip(rows, gflops, place):
        arch = r.get('architecture') or ''
        y = 100 * r['top1']
        std = r.get('top1_std')
        colour = colours(archs.index(arch) % 10)
        ax.errorbar(x, y, yerr=None if std is None else 100 * std, fmt='o',
                    color=colour, capsize=3, markersize=6,
                    label=arch or None)
        right = where > 0.85
        ax.annotate(r['name'], (x, y), textcoords='offset points',
                    xytext=(-5 if right else 5, 5), fontsize=8,
                    ha='right' if right else 'left')
    ax.margins(x=0.15, y=0.1)  # room for the labels
    if log_x:
        ax.set_xscale('log')
    if chance is not None:
        ax.axhline(100 * chance, color='grey', linestyle='--', linewidth=1,
                   label='chance')
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    if len(unique) > 1 or (unique and chance is not None):
        # outside the axes, on the right: inside it hid points and labels
        ax.legend(unique.values(), unique.keys(), fontsize=8,
                  loc='upper left', bbox_to_anchor=(1.02, 1),
                  borderaxespad=0)
    ax.set_xlabel('GFLOPs per test clip')
    ax.set_ylabel('top-1 (%)')
    ax.set_title('Top-1 accuracy against GFLOPs', fontsize=10)
    ax.grid(True, alpha=0.3)
    from mmar_ext.evaluation.robustness_report import save_png
    return save_png(fig, path, dpi)


def read_robustness(pairs, names):
    """``{NAME: report}`` of ``--robustness NAME CSV`` pairs, in the order
    of ``names`` (the leaderboard's models); a NAME given with several CSVs
    (one per run) gets :func:`mean_report`."""
    from mmar_ext.evaluation import read_robustness_csv
    reports = {}
    for name, path in pairs:
        if name not in names:
            raise ValueError(f'--robustness {name}: no --model {name} '
                             f'(models: {", ".join(names)})')
        if not osp.isfile(path):
            raise ValueError(f'--robustness {name}: no report file {path} '
                             '(missing_modality_eval.py --out REPORT.md '
                             'writes REPORT.csv)')
        reports.setdefault(name, []).append(read_robustness_csv(path))
    return {name: reports[name][0] if len(reports[name]) == 1 else
            mean_report(name, reports[name])
            for name in names if name in reports}


def mean_report(name, reports):
    """Several runs' reports of one model: every cell and the mean Δ
    averaged over the runs (``mean_delta_std``: their sample standard
    deviation); the runs must have tested the same subsets."""
    subsets = [tuple(r['modalities'] for r in rep['rows']) for rep in reports]
    if any(s != subsets[0] for s in subsets):
        raise ValueError(f'--robustness {name}: the runs tested different '
                         f'modality subsets: {subsets}')
    rows = []
    for cells in zip(*(rep['rows'] for rep in reports)):
        row = dict(cells[0])
        for key in ('top1', 'top5', 'mean1', 'delta_top1'):
            if cells[0][key] is not None:
                row[key] = float(np.mean([c[key] for c in cells]))
        rows.append(row)
    deltas = [rep['mean_delta_top1'] for rep in reports
              if rep['mean_delta_top1'] is not None]
    out = dict(reports[0], rows=rows, runs=len(reports))
    out['mean_delta_top1'] = float(np.mean(deltas)) if deltas else None
    out['mean_delta_std'] = float(np.std(deltas, ddof=1)) \
        if len(deltas) > 1 else None
    return out


def group_runs(models):
    """``[(name, config, [dump, ...]), ...]`` of ``--model`` triples, one
    entry per NAME in order of first appearance."""
    groups = {}
    for name, config, dump in models:
        if name in groups and groups[name][0] != config:
            raise ValueError(
                f'--model {name}: the runs of one model must share its '
                f'config, got {groups[name][0]} and {config}')
        groups.setdefault(name, (config, []))[1].append(dump)
    return [(name, config, dumps) for name, (config, dumps) in groups.items()]


def _write_text(path, text):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--model', nargs=3, action='append', default=[],
        metavar=('NAME', 'CONFIG', 'DUMP'),
        help='one per model, or one per run (seed) of a model: same NAME '
        'and CONFIG, each run\'s DUMP -> mean ± sample std')
    parser.add_argument('--out', help='also write the table to this file')
    parser.add_argument('--csv', metavar='OUT_CSV',
                        help='also write the rows to this CSV')
    parser.add_argument(
        '--from-csv', action='append', default=[], metavar='CSV',
        help='add the rows of an earlier run\'s --csv (their clips/s are '
        'marked as measured in another run, with its machine)')
    parser.add_argument('--chance', action='store_true',
                        help='add a chance-level row (1 / number of classes)')
    parser.add_argument('--zoo', action='store_true',
                        help='add the architecture and modalities columns')
    parser.add_argument(
        '--throughput', action='store_true',
        help='add a clips/s column measured in this run on --device for '
        'every --model row')
    parser.add_argument('--device', default=None,
                        help='device of --throughput (default: cuda when '
                        'available, else cpu)')
    parser.add_argument('--iters', type=int, default=10,
                        help='timed forward passes per model (--throughput)')
    parser.add_argument('--warmup', type=int, default=2,
                        help='untimed passes before them (--throughput)')
    parser.add_argument('--rounds', type=int, default=3,
                        help='rounds over all models, interleaved '
                        '(--throughput; default: %(default)s)')
    parser.add_argument('--scatter', metavar='OUT_PNG',
                        help='draw top-1 against GFLOPs, one labelled point '
                        'per row')
    parser.add_argument(
        '--robustness', nargs=2, action='append', default=[],
        metavar=('NAME', 'REPORT_CSV'),
        help='missing-modality report of model NAME (the CSV written by '
        'missing_modality_eval.py): adds a mean Δ column; repeatable, '
        'also per run of a model (averaged, mean Δ ± sample std)')
    parser.add_argument('--heatmap', metavar='OUT_PNG',
                        help='draw the top-1 heatmap of the --robustness '
                        'reports (rows: models, columns: test subsets)')
    parser.add_argument(
        '--classes', nargs='+', type=int, metavar='LABEL',
        help='also print the per-class top-1 of these (0-based) classes')
    parser.add_argument('--class-names', metavar='FILE',
                        help='class names, one a line (for --classes)')
    args = parser.parse_args(argv)
    if not args.model and not args.from_csv:
        parser.error('give at least one --model (or --from-csv)')
    if args.heatmap and not args.robustness:
        parser.error('--heatmap needs at least one --robustness report')
    if args.iters < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error('--iters and --rounds must be >= 1 and --warmup >= 0')
    for name, config, dump in args.model:
        for what, path in (('config', config), ('dump', dump)):
            if not osp.isfile(path):
                parser.error(f'--model {name}: no {what} file {path}')
    for path in args.from_csv + ([args.class_names]
                                 if args.class_names else []):
        if not osp.isfile(path):
            parser.error(f'no such file: {path}')
    if args.throughput:
        import torch
        if args.device is None:
            args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
        if args.device.startswith('cuda') and not torch.cuda.is_available():
            parser.error(f'--device {args.device}: CUDA is not available')
    return parser, args


def main(argv=None):
    parser, args = parse_args(argv)
    try:
        groups = group_runs(args.model)
        reports = read_robustness(args.robustness,
                                  [name for name, _, _ in groups])
    except ValueError as e:
        parser.error(str(e))
    merged = []
    for path in args.from_csv:
        merged += read_csv_rows(path)
    names = [name for name, _, _ in groups]
    for r in merged:
        if r['name'] in names:
            raise BadInput(f"--from-csv {r['source']}: row {r['name']} is "
                           'also a --model NAME (or in another --from-csv)')
        names.append(r['name'])

    # the dumps first (cheap), so that a wrong one fails before any model
    # is built
    loaded = []
    for name, config, dumps in groups:
        facts = config_facts(config)
        runs = [(dump, *load_dump(dump, with_ids=True)) for dump in dumps]
        check_dumps(name, config, facts['num_classes'], runs)
        loaded.append((name, config, facts, runs))

    machine = this_machine(args.device, args.iters, args.warmup,
                           args.rounds) if args.throughput else None
    rows, timed = [], []   # timed: (row, model, shapes) for --throughput
    for name, config, facts, runs in loaded:
        accuracies, per_class = [], []
        for dump, scores, labels, _ in runs:
            accuracies.append(accuracy_row(scores, labels))
            if args.classes:
                per_class.append(per_class_top1(scores, labels,
                                                args.classes))
        if len(runs) == 1:
            acc = accuracies[0]
        else:
            try:
                acc = runs_row(accuracies)
            except ValueError as e:
                raise ValueError(
                    f'--model {name} ({", ".join(d for d, *_ in runs)}): '
                    f'{e}') from None
            acc['dumps'] = [d for d, *_ in runs]
        model, shapes = _build(config)
        params = sum(p.numel() for p in model.parameters())
        flops = complexity.count_flops(model, shapes=shapes)
        modalities, pipeline_only = model_modalities(model,
                                                     facts['modalities'])
        row = dict(name=name, config=config, params=params, flops=flops,
                   architecture=facts['architecture'],
                   modalities=modalities, pipeline_modalities=pipeline_only,
                   num_classes=runs[0][1].shape[1],
                   labels_key=hash(runs[0][2].tobytes()), **acc)
        row.setdefault('dumps', [d for d, *_ in runs])
        if machine is not None:
            timed.append((row, model, shapes))
        del model
        rows.append(row)
        if args.classes:
            rows[-1]['per_class'] = per_class
        if name in reports:
            rows[-1]['mean_delta'] = reports[name]['mean_delta_top1']
            if reports[name].get('mean_delta_std') is not None:
                rows[-1]['mean_delta_std'] = reports[name]['mean_delta_std']
            rows[-1]['robustness'] = reports[name]
    if timed:
        speeds = measure_throughputs([(m, sh) for _, m, sh in timed],
                                     args.device, args.iters, args.warmup,
                                     args.rounds)
        for (row, _, _), speed in zip(timed, speeds):
            row['throughput'] = dict(machine, this_run=True,
                                     clips_per_s=speed)
    del timed
    rows += merged

    chance = None
    if args.chance:
        classes = {r['num_classes'] for r in rows
                   if r.get('num_classes') is not None}
        if len(classes) != 1:
            raise BadInput('--chance: the rows have '
                           + (f'different class counts {sorted(classes)}'
                              if classes else 'no class count'))
        chance = 1.0 / classes.pop()
    table = format_table(rows, chance, zoo=args.zoo)
    notes = table_notes(rows)
    if notes:
        table += '\n\n' + '\n'.join(notes)
    if args.classes:
        class_names = None
        if args.class_names:
            with open(args.class_names) as f:
                class_names = [line.strip() for line in f if line.strip()]
        table += ('\n\nPer-class top-1:\n\n'
                  + format_per_class(rows, args.classes, class_names))
    print(table)
    if args.out:
        _write_text(args.out, table + '\n')
    if args.csv:
        write_csv(rows, args.csv)
    if args.scatter:
        plot_accuracy_vs_flops(rows, args.scatter, chance)
    if args.heatmap:
        from mmar_ext.evaluation import plot_robustness_heatmap
        plot_robustness_heatmap(
            {name: report['rows'] for name, report in reports.items()},
            args.heatmap)
    return rows


if __name__ == '__main__':
    try:
        main()
    except BadInput as e:
        print(f'{osp.basename(sys.argv[0])}: error: {e}', file=sys.stderr)
        sys.exit(2)
