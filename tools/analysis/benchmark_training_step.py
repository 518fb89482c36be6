"""Time and peak memory of one training step, against MMAction2's R(2+1)D.

    python tools/analysis/benchmark_training_step.py \\
        configs/deformable_transformer_ntu60_xsub.py \\
        --batch 8 --device cuda --amp [--iters 10 --warmup 3] [--out R.md]

Every config's model (random weights) and the baseline are built on
``--device`` and trained for ``--warmup`` + ``--iters`` steps on random clips
of the config's test-clip shapes (``clip_len`` x ``crop_size``², joints for
the models that take them, as ``complexity.py`` counts FLOPs): a forward
pass through the head, cross-entropy against random labels, backward and an
AdamW step. ``--amp`` runs the forward pass under ``torch.autocast``
(float16 with a ``GradScaler`` on CUDA, bfloat16 on the CPU), as
``tools/train.py --amp`` does (MMEngine's ``AmpOptimWrapper``).

Reported per model: parameters, median milliseconds per step, clips/s,
peak CUDA memory of the step (``torch.cuda.max_memory_allocated``, reset
after building the model; "n/a" on the CPU) and the ratios of time and
memory to the baseline, measured in the same run on the same device.

The baseline (``--baseline``, default ``r2plus1d-18``; ``none`` to leave it
out) is MMAction2's stock R(2+1)D recognizer -- its config
``mmaction::recognition/r2plus1d/``
``r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb.py`` (in the installed
package) at depth 18 with BatchNorm instead of SyncBN, ``num_classes`` of the first
config -- fed RGB clips of the first config's shape: the video network that
the paper-004 model adds its transformer to (``[45]`` in the paper).
"""
import argparse
import os
import os.path as osp
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.append(REPO)  # data_prep (packaged_config)
import complexity  # noqa: E402
from leaderboard import _build, config_num_classes, device_name  # noqa: E402

BASELINES = {
    'r2plus1d-18': dict(
        config='mmaction::recognition/r2plus1d/'
        'r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb.py',
        options={'model.backbone.depth': 18,
                 'model.backbone.norm_cfg': dict(type='BN3d',
                                                 requires_grad=True,
                                                 eps=1e-3)},
        name='MMAction2 R(2+1)D-18 (baseline)'),
}


def training_step_cost(model, inputs, num_classes, device, iters=10,
                       warmup=3, amp=False):
    """``(median seconds per step, peak CUDA bytes or None)`` of ``model``
    trained on ``inputs`` (``complexity.dummy_inputs``) with random labels.
    """
    if iters < 1 or warmup < 0:
        raise ValueError(f'iters must be >= 1 and warmup >= 0, got {iters}, '
                         f'{warmup}')
    cuda = str(device).startswith('cuda')
    model = model.to(device).train()
    forward = complexity.TensorForward(model, complexity._stage(model))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    scaler = torch.amp.GradScaler('cuda', enabled=amp and cuda)
    batch = next(iter(inputs.values())).shape[0]
    labels = torch.randint(num_classes, (batch, ), device=device)
    dtype = torch.float16 if cuda else torch.bfloat16

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast('cuda' if cuda else 'cpu', dtype=dtype,
                            enabled=amp):
            logits = forward(inputs)
        loss = F.cross_entropy(logits.float().reshape(batch, -1), labels)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    for _ in range(warmup):
        step()
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated(device) if cuda else None
    return float(np.median(times)), peak


def benchmark(configs, batch=8, device='cpu', amp=False, iters=10, warmup=3,
              baseline='r2plus1d-18'):
    """One row per model: ``dict(name, params, seconds, peak_bytes)``; the
    baseline first."""
    if not configs:
        raise ValueError('give at least one config')
    _, shapes = _build(configs[0])
    num_classes = config_num_classes(complexity.Config.fromfile(configs[0]))
    entries = []
    if baseline != 'none':
        if baseline not in BASELINES:
            raise ValueError(f'--baseline {baseline!r}: one of '
                             f'{sorted(BASELINES)} or none')
        spec = BASELINES[baseline]
        # the RGB clip of the first config (else its first C,T,H,W input)
        rgb = shapes.get('rgb') or next(s for s in shapes.values()
                                        if len(s) == 4)
        options = dict(spec['options'],
                       **{'model.cls_head.num_classes': num_classes})
        from data_prep.pose.models import packaged_config
        model = complexity.build_model(packaged_config(spec['config']),
                                       options)
        entries.append((spec['name'], model, {'rgb': tuple(rgb)}))
    for config in configs:
        model, own = _build(config)
        entries.append((config, model, own))
    rows = []
    for name, model, model_shapes in entries:
        inputs = complexity.dummy_inputs(model, batch, None, None, device,
                                         model_shapes)
        if str(device).startswith('cuda'):
            torch.cuda.empty_cache()
        seconds, peak = training_step_cost(model, inputs, num_classes,
                                           device, iters, warmup, amp)
        rows.append(dict(name=name, seconds=seconds, peak_bytes=peak,
                         params=sum(p.numel() for p in model.parameters())))
        del model, inputs
    return rows


def format_rows(rows, batch, device, amp, baseline_first):
    base = rows[0] if baseline_first else None
    head = ('| model | params | ms / step | clips/s | peak memory | '
            'time vs baseline | memory vs baseline |')
    lines = [f'Training step on {device_name(device)}, batch {batch}, '
             f'{"AMP" if amp else "fp32"}:', '', head,
             '|---|---:|---:|---:|---:|---:|---:|']
    for r in rows:
        mem = ('n/a' if r['peak_bytes'] is None
               else f"{r['peak_bytes'] / 2**30:.2f} GiB")
        t_ratio = m_ratio = ''
        if base is not None:
            t_ratio = f"{r['seconds'] / base['seconds']:.2f}x"
            if r['peak_bytes'] and base['peak_bytes']:
                m_ratio = f"{r['peak_bytes'] / base['peak_bytes']:.2f}x"
        lines.append(f"| {r['name']} | {r['params'] / 1e6:.2f}M | "
                     f"{r['seconds'] * 1e3:.1f} | "
                     f"{batch / r['seconds']:.2f} | {mem} | {t_ratio} | "
                     f'{m_ratio} |')
    return '\n'.join(lines) + '\n'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--batch', type=int, default=8,
                        help='clips per step (default: 8, the paper-004 '
                        'batch per GPU)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available()
                        else 'cpu')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (as train.py --amp)')
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--baseline', default='r2plus1d-18',
                        help=f'one of {sorted(BASELINES)}, or none')
    parser.add_argument('--out', help='also write the table here')
    args = parser.parse_args(argv)
    for config in args.configs:
        if not osp.isfile(config):
            parser.error(f'{config}: no such config')
    rows = benchmark(args.configs, args.batch, args.device, args.amp,
                     args.iters, args.warmup, args.baseline)
    text = format_rows(rows, args.batch, args.device, args.amp,
                       args.baseline != 'none')
    print(text, end='')
    if args.out:
        tmp = args.out + '.tmp'
        with open(tmp, 'w') as f:
            f.write(text)
        os.replace(tmp, args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
