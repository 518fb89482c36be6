"""EPAM-Net against MMAction2's RGBPoseConv3D on this CPU, in one run.

    python tools/analysis/benchmark_epam_net.py model \\
        [--iters 7] [--warmup 2] [--threads 1 2] [--variants ...] \\
        [--baseline-variants eager channels_last_3d jit] [--out FILE]
    python tools/analysis/benchmark_epam_net.py pipeline \\
        [--config configs/epam_net_ntu120.py | --builtin] \\
        [--ann-file PKL --data-root RAW | --num-clips 6 \\
         --rgb-size 1920x1080 --codec MJPG|XVID --keep-data DIR] \\
        [--no-decode-variants] [--iters 5] [--warmup 1] [--out FILE]
    python tools/analysis/benchmark_epam_net.py all ...   # both, one table

``model`` (issue 8 §4): EPAM-Net (``configs/_base_/models/epam_net.py``,
60 classes: RGB ``3x16x224x224``, pose ``17x48x56x56``) and RGBPoseConv3D
built from MMAction2's own config
(``mmaction/.mim/configs/skeleton/posec3d/rgbpose_conv3d/rgbpose_conv3d.py``:
RGB ``3x8x224x224``, pose ``17x32x56x56``, 60 classes) with random
initialisation (``pretrained`` / ``init_cfg`` entries removed: nothing is
downloaded). Reported: parameters, FLOPs of one clip through backbone, neck
and head (MMEngine: multiply-adds + BatchNorm; and + activation elements,
``complexity.py``), and batch-1 inference clips/s under
``torch.inference_mode()``. EPAM-Net runs in several forms
(:data:`EPAM_VARIANTS`): as built (``eager``), with ``channels_last_3d``
weights, and through :func:`mmar_ext.models.utils.fast_inference.
convert_x_shiftnet` (``Conv2d`` over ``[N*T, C, H, W]``, optionally with
BatchNorm folded, channels-last, block expansions in chunks of frames, and
TorchScript-frozen); RGBPoseConv3D as built and with the generic options
(:data:`BASELINE_VARIANTS`). ``--threads 1 2`` gives one table per thread
count; each table has a per-op probe (one ``relu`` with N threads and with
one): on a machine whose cores are busy with other work, every
multi-threaded op waits for a core (about 8 ms per op on the loaded 2-core
test machine against 0.1 ms single-threaded), which swamps a model of many
small ops -- compare models single-threaded there.

``pipeline`` (issue 8 §2): training-pipeline clips/s of EPAM-Net's pipeline
against MMAction2's stock RGBPoseConv3D training pipeline (the config's
``train_pipeline``: ``MMUniformSampleFrames`` + ``MMDecode`` +
``MMCompact`` + ``Resize`` + ``RandomResizedCrop`` + ``Resize`` + ``Flip``
+ ``GeneratePoseTarget`` + ``FormatShape`` + ``PackActionInputs``) on the
same samples. EPAM-Net's pipeline is the ``train_pipeline`` of
``--config`` (default ``configs/epam_net_ntu120.py`` when it exists), else
the built-in :func:`epam_train_pipeline`. Data: an annotation pkl
(docs/data_format.md) or, by default, a small synthetic NTU-format set
generated into a temporary folder; each sample's dict is made by
``MultiModalActionDataset`` for EPAM-Net and adapted for MMAction2's
pipeline (``filename`` = the RGB video, ``modality``). The synthetic
videos are MJPG (intra-only: decoding cost per decoded frame) unless
``--codec`` re-encodes them (e.g. ``XVID``, inter-frame like most real
videos). One process, no dataloader workers: per-process throughput, with
the time of every transform. Unless ``--no-decode-variants``, EPAM-Net's
pipeline is also timed with its ``MultiModalDecode`` replaced
(:data:`DECODE_VARIANTS`: PyAV at full size; decord at full size, the
decoding of MMAction2's ``MMDecode``), and the RGB clip of the config's
decoding is compared with decord's full-size one (same random draws).

Timing: every model / pipeline is warmed up, then run ``--iters`` rounds;
in each round every contender runs once (same inputs / samples, the order
rotated from round to round), so a background load hits all of them alike.
Reported: medians over rounds, and the median over rounds of the per-round
time ratio. The tables are printed and, with ``--out``, written as
Markdown, with the CPU count, torch's thread count and the load average.
Nothing is asserted on the times.
"""
import argparse
import copy
import os
import os.path as osp
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.append(REPO)  # data_prep (synthetic data)
import complexity  # noqa: E402  (tools/analysis/complexity.py)

EPAM_MODEL = osp.join(REPO, 'configs/_base_/models/epam_net.py')
EPAM_CONFIG = osp.join(REPO, 'configs/epam_net_ntu120.py')
STOCK_RGBPOSE = 'skeleton/posec3d/rgbpose_conv3d/rgbpose_conv3d.py'
EPAM_SHAPES = dict(rgb=(3, 16, 224, 224), pose=(17, 48, 56, 56))
RGBPOSE_SHAPES = dict(imgs=(3, 8, 224, 224), heatmap_imgs=(17, 32, 56, 56))
COCO_LEFT = [1, 3, 5, 7, 9, 11, 13, 15]
COCO_RIGHT = [2, 4, 6, 8, 10, 12, 14, 16]


# ---------------------------------------------------------------------------
# machine and timing
# ---------------------------------------------------------------------------
def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    load = ('load average %.2f / %.2f / %.2f' % os.getloadavg()
            if hasattr(os, 'getloadavg') else 'load average n/a')
    usable = (len(os.sched_getaffinity(0))
              if hasattr(os, 'sched_getaffinity') else '?')
    return (f'CPU: {cpu}; {os.cpu_count()} CPUs (os.cpu_count), {usable} '
            f'usable; torch {torch.__version__} with '
            f'{torch.get_num_threads()} intra-op threads; {load}')


def op_probe(threads: Optional[int] = None, repeats: int = 21) -> float:
    """Median ms of one ``relu`` over a ``[16, 24, 56, 56]`` tensor (an
    EPAM-Net-sized elementwise op) with ``threads`` intra-op threads."""
    old = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        x = torch.randn(16, 24, 56, 56)
        ts = []
        for _ in range(repeats):
            start = time.perf_counter()
            torch.relu(x)
            ts.append(time.perf_counter() - start)
        return 1e3 * statistics.median(ts)
    finally:
        torch.set_num_threads(old)


def interleaved(contenders: Dict[str, Callable[[int], float]], iters: int,
                warmup: int) -> Dict[str, List[float]]:
    """``{name: [seconds per round]}``; ``contenders[name](i)`` runs one
    timed call on input ``i`` and returns its seconds. Warm-up calls first;
    then ``iters`` rounds, each running every contender once, the order
    rotated by one per round."""
    names = list(contenders)
    for name in names:
        for i in range(warmup):
            contenders[name](i)
    times = {name: [] for name in names}
    for r in range(iters):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(contenders[name](r))
    return times


def median_ratio(reference: Sequence[float], other: Sequence[float]) -> float:
    """Median over rounds of ``reference[r] / other[r]`` (how many times
    faster ``other`` is)."""
    return statistics.median(a / b for a, b in zip(reference, other))


# ---------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------
def stock_config(name: str = STOCK_RGBPOSE) -> str:
    import mmaction
    path = osp.join(osp.dirname(mmaction.__file__), '.mim', 'configs', name)
    if not osp.isfile(path):
        raise FileNotFoundError(f'MMAction2 config {name} not found under '
                                f'{osp.dirname(path)}')
    return path


def strip_pretrained(cfg):
    """Remove what would load weights: ``pretrained`` -> None, ``init_cfg``
    of type ``Pretrained`` dropped (recursively)."""
    if isinstance(cfg, dict):
        for key in list(cfg.keys()):
            value = cfg[key]
            if key in ('pretrained', 'pretrained2d') and isinstance(
                    value, str):
                cfg[key] = None
            elif key == 'init_cfg' and (
                    (isinstance(value, dict)
                     and value.get('type') == 'Pretrained') or
                    (isinstance(value, list) and any(
                        isinstance(v, dict) and v.get('type') == 'Pretrained'
                        for v in value))):
                cfg.pop(key)
            else:
                strip_pretrained(value)
    elif isinstance(cfg, list):
        for value in cfg:
            strip_pretrained(value)
    return cfg


def build_epam(config: str = EPAM_MODEL, num_classes: int = 60):
    return complexity.build_model(
        config, {'model.cls_head.num_classes': num_classes})


def build_rgbpose(config: Optional[str] = None, num_classes: int = 60):
    import mmar_ext  # noqa: F401  (compat fixes before mmaction)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmaction.registry import MODELS
    cfg = Config.fromfile(config or stock_config())
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model_cfg = strip_pretrained(cfg.model)
    model_cfg.cls_head.num_classes = num_classes
    model = MODELS.build(model_cfg)
    return model.eval()


class TwoInputs(torch.nn.Module):
    """``model({key_a: a, key_b: b}, mode='tensor', stage='head')`` with
    positional tensors (for TorchScript tracing)."""

    def __init__(self, model, keys):
        super().__init__()
        self.model = model
        self.keys = tuple(keys)

    def forward(self, a, b):
        return self.model(dict(zip(self.keys, (a, b))), mode='tensor',
                          stage='head')


def _jit(model, example: Dict[str, torch.Tensor]):
    wrapper = TwoInputs(model, example.keys()).eval()
    with torch.inference_mode(False), torch.no_grad(), \
            warnings.catch_warnings():
        # shape checks become constants: the inputs' shapes never change
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        traced = torch.jit.trace(wrapper, tuple(example.values()),
                                 check_trace=False, strict=False)
        frozen = torch.jit.freeze(traced)
    return lambda inputs: frozen(*inputs.values())


def _eager(model):
    return lambda inputs: model(dict(inputs), mode='tensor', stage='head')


def _channels_last_3d(model, example):
    """Conv3d weights in ``channels_last_3d``: oneDNN then runs the
    convolutions (and their outputs) in that layout."""
    fast = copy.deepcopy(model)
    for module in fast.modules():
        if isinstance(module, torch.nn.Conv3d):
            module.weight.data = module.weight.data.contiguous(
                memory_format=torch.channels_last_3d)
    return _eager(fast)


def _converted(fold_bn, channels_last, chunks=False, jit=False):

    def make(model, example):
        from mmar_ext.models.utils.fast_inference import (
            MAX_EXPANSION_BYTES, convert_x_shiftnet)
        fast = convert_x_shiftnet(
            model, fold_bn=fold_bn, channels_last=channels_last,
            max_expansion_bytes=MAX_EXPANSION_BYTES if chunks else None)
        return _jit(fast, example) if jit else _eager(fast)

    return make


#: EPAM-Net forms: name -> ``make(model, example_inputs) -> run(inputs)``.
#: ``2d``: ``convert_x_shiftnet`` (Conv2d over [N*T, C, H, W]);
#: ``bn_fold``: BatchNorm folded into the convolutions; ``channels_last``:
#: NHWC frames; ``chunks``: block expansions over 12 MiB run on chunks of
#: frames; ``jit``: TorchScript trace + freeze.
EPAM_VARIANTS = {
    'eager': lambda model, example: _eager(model),
    'channels_last_3d': _channels_last_3d,
    '2d': _converted(False, False),
    '2d+bn_fold': _converted(True, False),
    '2d+channels_last': _converted(False, True),
    '2d+bn_fold+channels_last': _converted(True, True),
    '2d+bn_fold+channels_last+chunks': _converted(True, True, chunks=True),
    '2d+bn_fold+channels_last+chunks+jit': _converted(True, True,
                                                      chunks=True, jit=True),
}
#: RGBPoseConv3D forms (generic options only; no conversion exists).
BASELINE_VARIANTS = {
    'eager': lambda model, example: _eager(model),
    'channels_last_3d': _channels_last_3d,
    'jit': lambda model, example: _jit(model, example),
}


def make_inputs(shapes: Dict[str, Sequence[int]], seed: int
                ) -> Dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {k: torch.randn(1, 1, *s, generator=gen)
            for k, s in shapes.items()}


def model_cost(model, shapes: Dict[str, Sequence[int]]) -> Dict:
    """Params, MMEngine FLOPs and + activation elements of one clip."""
    inputs = make_inputs(shapes, 0)
    with torch.no_grad():
        analyzer = complexity._flop_analyzer(model, inputs, 'head')
        flops = analyzer.total()
    acts = complexity.count_activations(model, inputs, 'head').total
    return dict(params=sum(p.numel() for p in model.parameters()),
                flops=flops, activations=acts)


def _shape_text(shapes, names):
    return ', '.join(f'{names.get(k, k)} {"x".join(map(str, s))}'
                     for k, s in shapes.items())


def benchmark_models(args) -> str:
    epam_shapes = {f'{m}_imgs': s for m, s in
                   (args.epam_shape or EPAM_SHAPES).items()}
    rgbpose_shapes = dict(args.rgbpose_shape or RGBPOSE_SHAPES)
    epam = build_epam(args.epam_config, args.num_classes)
    rgbpose = build_rgbpose(args.rgbpose_config, args.num_classes)
    costs = dict(epam=model_cost(epam, epam_shapes),
                 rgbpose=model_cost(rgbpose, rgbpose_shapes))

    contenders, meta = {}, {}
    rounds = max(args.iters, 1) + args.warmup
    inputs = dict(
        epam=[make_inputs(epam_shapes, i) for i in range(rounds)],
        rgbpose=[make_inputs(rgbpose_shapes, i) for i in range(rounds)])
    for key, model, variants, wanted in (
            ('rgbpose', rgbpose, BASELINE_VARIANTS, args.baseline_variants),
            ('epam', epam, EPAM_VARIANTS, args.variants)):
        for name in wanted:
            if name not in variants:
                raise SystemExit(f'unknown variant {name!r} for {key}; '
                                 f'choose from {sorted(variants)}')
            start = time.perf_counter()
            run = variants[name](model, inputs[key][0])
            label = ('RGBPoseConv3D' if key == 'rgbpose' else 'EPAM-Net',
                     name)

            def timed(i, run=run, key=key):
                x = inputs[key][i % rounds]
                with torch.inference_mode():
                    t = time.perf_counter()
                    run(x)
                    return time.perf_counter() - t

            contenders[label] = timed
            meta[label] = dict(key=key, prepare=time.perf_counter() - start)
    before = machine_line()
    probe = (op_probe(), op_probe(1))
    times = interleaved(contenders, args.iters, args.warmup)
    after = machine_line().rsplit('; ', 1)[-1]

    reference = ('RGBPoseConv3D', 'eager')
    if reference not in times:
        reference = next(iter(times))
    names = dict(imgs='RGB', heatmap_imgs='pose', rgb_imgs='RGB',
                 pose_imgs='pose')
    lines = [
        f'## Inference on the CPU, {torch.get_num_threads()} thread(s): '
        'EPAM-Net vs MMAction2 RGBPoseConv3D',
        '',
        f'{before}; after the run: {after}.',
        f'Batch 1, `torch.inference_mode()`, {args.warmup} warm-up call(s) '
        f'per row, {args.iters} interleaved rounds; medians. '
        f'{args.num_classes} classes; random weights. FLOPs of one clip '
        'through backbone, neck and head. Per-op probe (`relu` of a '
        f'16x24x56x56 tensor): {probe[0]:.2f} ms with '
        f'{torch.get_num_threads()} thread(s), {probe[1]:.2f} ms with 1 '
        '(a large gap: the threads wait for a busy core, which costs a '
        'model of many small ops the most).',
        '',
        '| model | form | inputs | params | GFLOPs (MMEngine) | '
        'GFLOPs (+ act.) | ms/clip | clips/s | speed vs '
        f'{" ".join(reference)} |',
        '|---|---|---|---:|---:|---:|---:|---:|---:|',
    ]
    for label, t in times.items():
        key = meta[label]['key']
        c = costs[key]
        shapes = epam_shapes if key == 'epam' else rgbpose_shapes
        med = statistics.median(t)
        lines.append(
            f'| {label[0]} | {label[1]} | {_shape_text(shapes, names)} | '
            f'{c["params"] / 1e6:.2f}M | {c["flops"] / 1e9:.2f} | '
            f'{(c["flops"] + c["activations"]) / 1e9:.2f} | '
            f'{1e3 * med:.0f} | {1 / med:.2f} | '
            f'{median_ratio(times[reference], t):.2f}x |')
    e, r = costs['epam'], costs['rgbpose']
    lines += [
        '',
        f'RGBPoseConv3D / EPAM-Net: params {r["params"] / e["params"]:.1f}x,'
        f' FLOPs (MMEngine) {r["flops"] / e["flops"]:.1f}x.',
    ]
    best = max((l for l in times if l[0] == 'EPAM-Net'),
               key=lambda l: 1 / statistics.median(times[l]), default=None)
    if best is not None:
        for base in [l for l in times if l[0] == 'RGBPoseConv3D']:
            lines.append(
                f'EPAM-Net {best[1]} vs RGBPoseConv3D {base[1]}: '
                f'{median_ratio(times[base], times[best]):.2f}x clips/s.')
    return '\n'.join(lines)


# ---------------------------------------------------------------------------
# pipelines
# ---------------------------------------------------------------------------
def epam_train_pipeline(flip_ratio: float = 0.5) -> List[dict]:
    """EPAM-Net's training pipeline (seed 002, §3.2-§4.2), as in
    ``tools/analysis/visualize_pose_transforms.py``: 48 pose frames, RGB
    every 3rd; one skeleton box for the clip; RGB 224x224 with a shared
    flip (keypoints moved with it); 56x56 pseudo-heatmaps."""
    return [
        dict(type='MultiModalSampleFrames', train_sampling='segment',
             modality_clip_len=dict(pose=48, rgb=16)),
        dict(type='MultiModalDecode', video_backend='pyav',
             lowres_min_box=224),
        dict(type='SkeletonBoxCrop'),
        dict(type='ModalityTransforms', keypoint_modality='rgb',
             modalities=('rgb', ), transforms=[
                 dict(type='Resize', scale=(224, 224), keep_ratio=False),
                 dict(type='Flip', flip_ratio=flip_ratio, left_kp=COCO_LEFT,
                      right_kp=COCO_RIGHT),
                 dict(type='FormatShape', input_format='NCTHW'),
             ]),
        dict(type='PoseHeatmapVolume', scaling=0.25, out_key='pose_imgs'),
        dict(type='ModalityTransforms', modalities=('pose', ), transforms=[
            dict(type='FormatShape', input_format='NCTHW_Heatmap')]),
        dict(type='PackMultiModalInputs'),
    ]


def load_pipeline(config: str, key: str = 'train_pipeline') -> List[dict]:
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    if key in cfg:
        return copy.deepcopy(cfg[key])
    try:
        return copy.deepcopy(cfg.train_dataloader.dataset.pipeline)
    except AttributeError:
        raise KeyError(f'{config} has neither {key} nor '
                       'train_dataloader.dataset.pipeline')


def reencode(path: str, codec: str) -> None:
    """Rewrite a video in place with OpenCV's ``codec`` (FourCC)."""
    import cv2
    cap = cv2.VideoCapture(path)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    tmp = path + '.tmp.avi'
    writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*codec), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write {codec} video {tmp}')
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        writer.write(frame)
    writer.release()
    cap.release()
    os.replace(tmp, path)


def make_synthetic(root: str, num_clips: int, rgb_size, frames,
                   codec: str = 'MJPG') -> str:
    """A synthetic NTU-format set of about ``num_clips`` clips under
    ``root`` (RGB re-encoded with ``codec`` unless MJPG, the generator's);
    returns its annotation pkl."""
    from data_prep.ntu.build_annotations import build_annotations
    from data_prep.synthetic_ntu import generate
    num_classes = max(1, min(4, num_clips // 3))
    per_class = max(1, -(-num_clips // num_classes))
    raw = osp.join(root, 'raw')
    names = generate(raw, num_classes=num_classes, clips_per_class=per_class,
                     frames=tuple(frames), rgb_size=tuple(rgb_size),
                     depth_size=(64, 54), num_workers=1, progress=False)
    if codec != 'MJPG':
        for name in names:
            reencode(osp.join(raw, 'nturgb+d_rgb', f'{name}_rgb.avi'), codec)
    ann = osp.join(root, 'annotations.pkl')
    build_annotations(raw, ann, dataset='ntu60', modalities=('rgb', ),
                      num_workers=1)
    return ann


def epam_samples(ann_file: str, data_root: Optional[str], split=None,
                 limit: Optional[int] = None) -> List[dict]:
    """Data infos of ``MultiModalActionDataset`` (RGB + pose)."""
    import mmar_ext  # noqa: F401
    from mmar_ext.datasets import MultiModalActionDataset
    ds = MultiModalActionDataset(
        ann_file, pipeline=[], split=split, modalities=('rgb', 'pose'),
        data_root=data_root, missing_modality='skip')
    n = len(ds) if limit is None else min(limit, len(ds))
    return [ds.get_data_info(i) for i in range(n)]


def stock_sample(info: dict) -> dict:
    """The same sample for MMAction2's ``PoseDataset`` pipelines:
    ``filename`` = the RGB video, ``modality`` set by
    ``MMUniformSampleFrames``, keypoints as in the annotation."""
    keep = ('frame_dir', 'label', 'total_frames', 'img_shape',
            'original_shape', 'keypoint', 'keypoint_score')
    out = {k: copy.deepcopy(info[k]) for k in keep if k in info}
    out.update(filename=info['rgb_path'], modality='Pose', start_index=0)
    return out


def build_pipeline(cfgs):
    import mmar_ext  # noqa: F401
    from mmengine.registry import init_default_scope
    from mmaction.registry import TRANSFORMS
    init_default_scope('mmaction')
    return [TRANSFORMS.build(c) if isinstance(c, dict) else c for c in cfgs]


def with_decode(transforms, **kwargs):
    """``transforms`` with its ``MultiModalDecode`` rebuilt with ``kwargs``
    (``video_backend``, ``lowres_min_box``) instead of the config's."""
    from mmar_ext.datasets.transforms import MultiModalDecode
    out, found = [], False
    for t in transforms:
        if type(t) is MultiModalDecode:
            t = MultiModalDecode(io_backend=t.io_backend,
                                 num_threads=t.num_threads,
                                 backend_args=t.backend_args, **kwargs)
            found = True
        out.append(t)
    if not found:
        raise ValueError('the EPAM-Net pipeline has no MultiModalDecode')
    return out


#: EPAM-Net pipelines timed besides the config's: its decoding replaced.
DECODE_VARIANTS = {
    'epam_pyav': ('PyAV, full size', dict(video_backend='pyav')),
    'epam_decord': ('decord, full size', dict(video_backend='decord')),
}


def _decode_text(decode) -> str:
    if decode is None:
        return 'no MultiModalDecode'
    text = f'decoding {decode.video_backend}'
    if decode.lowres_min_box:
        text += f', reduced size while the box keeps {decode.lowres_min_box} px'
    return text


def transform_labels(transforms) -> List[str]:
    """A distinct label per transform: its class, its modalities
    (``ModalityTransforms(rgb)``), ``#k`` for the k-th repeat."""
    labels, seen = [], {}
    for t in transforms:
        label = type(t).__name__
        mods = getattr(t, 'modalities', None)
        if isinstance(mods, (tuple, list)) and mods:
            label += f'({",".join(mods)})'
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f'{label}#{seen[label]}')
    return labels


def run_pipeline(transforms, results, per_transform=None):
    """Apply ``transforms``; add each one's seconds to
    ``per_transform[label]``."""
    labels = transform_labels(transforms) if per_transform is not None \
        else None
    for k, t in enumerate(transforms):
        start = time.perf_counter()
        results = t(results)
        if per_transform is not None:
            per_transform[labels[k]] = per_transform.get(
                labels[k], 0.) + time.perf_counter() - start
    return results


def _output_text(packed) -> str:
    inputs = packed['inputs']
    if isinstance(inputs, dict):
        return ', '.join(f'{k} {"x".join(map(str, v.shape))}'
                         for k, v in inputs.items())
    return 'x'.join(map(str, inputs.shape))


def rgb_difference(a, b) -> float:
    """Mean absolute difference (0-255) of two packed RGB clips."""
    x = a['inputs']['rgb_imgs'].float()
    y = b['inputs']['rgb_imgs'].float()
    return float((x - y).abs().mean())


def benchmark_pipelines(args) -> str:
    tmp = None
    if args.ann_file:
        ann_file, data_root = args.ann_file, args.data_root
        data_text = f'annotations `{args.ann_file}`'
    else:
        tmp = args.keep_data or tempfile.mkdtemp(prefix='epam_pipe_bench_')
        ann_file = osp.join(tmp, 'annotations.pkl')
        if not osp.isfile(ann_file):
            ann_file = make_synthetic(tmp, args.num_clips, args.rgb_size,
                                      args.frames, args.codec)
        data_root = osp.join(tmp, 'raw')
        data_text = (f'synthetic NTU-format clips (data_prep.synthetic_ntu), '
                     f'RGB {args.rgb_size[0]}x{args.rgb_size[1]} '
                     f'{args.codec} AVI, {args.frames[0]}-{args.frames[1]} '
                     'frames')
    try:
        infos = epam_samples(ann_file, data_root, args.split, args.num_clips)
        if not infos:
            raise SystemExit(f'no sample with RGB and pose in {ann_file}')
        data_text = f'{len(infos)} {data_text}'
        if args.builtin or not (args.config or osp.isfile(EPAM_CONFIG)):
            epam_cfg, epam_src = epam_train_pipeline(), \
                'built-in (`epam_train_pipeline`)'
        else:
            config = args.config or EPAM_CONFIG
            epam_cfg = load_pipeline(config)
            epam_src = f'`{osp.relpath(config, REPO)}` train_pipeline'
        stock_cfg = load_pipeline(args.rgbpose_config or stock_config())
        pipelines = dict(rgbpose=build_pipeline(stock_cfg),
                         epam=build_pipeline(epam_cfg))
        decode = pipelines['epam'][[type(t).__name__ for t in pipelines[
            'epam']].index('MultiModalDecode')] if any(
                type(t).__name__ == 'MultiModalDecode'
                for t in pipelines['epam']) else None
        labels = dict(rgbpose='RGBPoseConv3D (stock)',
                      epam=f'EPAM-Net ({_decode_text(decode)})')
        if args.decode_variants and decode is not None:
            for key, (text, kwargs) in DECODE_VARIANTS.items():
                pipelines[key] = with_decode(build_pipeline(epam_cfg),
                                             **kwargs)
                labels[key] = f'EPAM-Net, decoding {text}'
        samples = {k: infos for k in pipelines}
        samples['rgbpose'] = [stock_sample(i) for i in infos]
        breakdown = {k: {} for k in pipelines}
        outputs = {}

        def run_one(key, j, seed, per=None):
            results = copy.deepcopy(samples[key][j])
            np.random.seed(seed)
            start = time.perf_counter()
            packed = run_pipeline(pipelines[key], results, per)
            return time.perf_counter() - start, packed

        diffs, lowres = [], []
        if 'epam_decord' in pipelines:  # same draws: only decoding differs
            for j in range(len(infos)):
                _, full = run_one('epam_decord', j, args.seed + j)
                _, ours = run_one('epam', j, args.seed + j)
                diffs.append(rgb_difference(full, ours))
                results = copy.deepcopy(samples['epam'][j])
                for t in pipelines['epam']:  # the decoding size used
                    results = t(results)
                    if 'rgb_lowres' in results:
                        lowres.append(results['rgb_lowres'])
                        break

        def contender(key):

            def one_round(r):
                total, per = 0., {}
                for j in range(len(infos)):
                    sec, outputs[key] = run_one(
                        key, j, args.seed + 1000 * (r + 1) + j, per)
                    total += sec
                for name, sec in per.items():
                    breakdown[key].setdefault(name, []).append(sec)
                return total

            return one_round

        contenders = {k: contender(k) for k in pipelines}
        before = machine_line()
        times = interleaved(contenders, args.iters, args.warmup)
        for key in breakdown:  # drop the warm-up rounds' breakdowns
            for name in breakdown[key]:
                breakdown[key][name] = breakdown[key][name][args.warmup:]
        after = machine_line().rsplit('; ', 1)[-1]
    finally:
        if tmp is not None and not args.keep_data:
            shutil.rmtree(tmp, ignore_errors=True)

    n = len(infos)
    lines = [
        '## Training pipelines: EPAM-Net vs MMAction2 RGBPoseConv3D',
        '',
        f'{before}; after the run: {after}.',
        f'Data: {data_text}; the same samples for both. One process, no '
        f'workers; {args.warmup} warm-up and {args.iters} interleaved '
        f'rounds over all {n} samples; medians. EPAM-Net: {epam_src}; '
        'RGBPoseConv3D: the stock config\'s train_pipeline.',
        '',
        '| pipeline | output per clip | ms/clip | clips/s | speed vs stock |',
        '|---|---|---:|---:|---:|',
    ]
    for key in pipelines:
        med = statistics.median(times[key]) / n
        lines.append(
            f'| {labels[key]} | {_output_text(outputs[key])} | '
            f'{1e3 * med:.1f} | {1 / med:.2f} | '
            f'{median_ratio(times["rgbpose"], times[key]):.2f}x |')
    if diffs:
        lines += [
            '', f'{labels["epam"]} against decord at full size, same random '
            'draws: mean |difference| of the RGB clip '
            f'{statistics.mean(diffs):.2f} (max over clips '
            f'{max(diffs):.2f}) grey levels of 255.'
        ]
        if lowres:
            sizes = ', '.join(
                f'1/{2**k}: {lowres.count(k)}' for k in sorted(set(lowres)))
            lines[-1] += f' RGB decoded at (clips) {sizes}.'

    lines += ['', 'Median ms per clip of each transform:', '',
              '| pipeline | transform | ms/clip |', '|---|---|---:|']
    for key in pipelines:
        for name, secs in breakdown[key].items():
            lines.append(f'| {labels[key]} | {name} | '
                         f'{1e3 * statistics.median(secs) / n:.1f} |')
    return '\n'.join(lines)


# ---------------------------------------------------------------------------
def _shapes_arg(text):
    shapes = complexity.parse_input_shapes(text)
    return shapes or None


def _size_arg(text):
    w, _, h = text.lower().partition('x')
    return int(w), int(h)


def _range_arg(text):
    lo, _, hi = text.partition(',')
    return int(lo), int(hi or lo)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('which', choices=('model', 'pipeline', 'all'))
    parser.add_argument('--iters', type=int, default=None,
                        help='timed rounds (default: model 7, pipeline 5)')
    parser.add_argument('--warmup', type=int, default=None,
                        help='warm-up rounds (default: model 2, pipeline 1)')
    parser.add_argument('--threads', type=int, nargs='+', default=None,
                        help='torch intra-op threads; several values: one '
                        'model table each (default: torch\'s)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='also write the Markdown here')
    parser.add_argument('--rgbpose-config', default=None,
                        help='default: MMAction2\'s stock rgbpose_conv3d.py')
    parser.add_argument('--num-classes', type=int, default=60)
    g = parser.add_argument_group('model')
    g.add_argument('--epam-config', default=EPAM_MODEL)
    g.add_argument('--variants', nargs='+', default=list(EPAM_VARIANTS),
                   help=f'EPAM-Net forms, of {list(EPAM_VARIANTS)}')
    g.add_argument('--baseline-variants', nargs='+',
                   default=['eager', 'channels_last_3d'],
                   help=f'RGBPoseConv3D forms, of {list(BASELINE_VARIANTS)}')
    g.add_argument('--epam-shape', nargs='+', metavar='MODALITY=C,T,H,W',
                   help='default: rgb=3,16,224,224 pose=17,48,56,56')
    g.add_argument('--rgbpose-shape', nargs='+', metavar='KEY=C,T,H,W',
                   help='default: imgs=3,8,224,224 heatmap_imgs=17,32,56,56')
    g = parser.add_argument_group('pipeline')
    g.add_argument('--config', help='EPAM-Net config whose train_pipeline to '
                   'use (default: configs/epam_net_ntu120.py if it exists)')
    g.add_argument('--builtin', action='store_true',
                   help='use the built-in EPAM-Net pipeline')
    g.add_argument('--ann-file', help='annotation pkl (default: synthetic)')
    g.add_argument('--data-root', help='raw root of its *_path entries')
    g.add_argument('--split', help='split of --ann-file (default: all)')
    g.add_argument('--num-clips', type=int, default=6,
                   help='clips used (and generated when synthetic)')
    g.add_argument('--rgb-size', type=_size_arg, default=(1920, 1080),
                   help='synthetic RGB WxH (default 1920x1080, NTU\'s)')
    g.add_argument('--frames', type=_range_arg, default=(72, 96),
                   help='synthetic frames per clip, MIN,MAX')
    g.add_argument('--codec', default='MJPG',
                   help='FourCC of the synthetic RGB videos: MJPG (the '
                   'generator\'s, intra-only) or an inter-frame codec '
                   'OpenCV writes, e.g. XVID, DIVX, mp4v')
    g.add_argument('--no-decode-variants', dest='decode_variants',
                   action='store_false',
                   help='time only the config\'s EPAM-Net pipeline, not '
                   'also with PyAV and decord decoding at full size')
    g.add_argument('--keep-data', help='generate into / reuse this folder')
    args = parser.parse_args(argv)
    args.epam_shape = _shapes_arg(args.epam_shape)
    args.rgbpose_shape = _shapes_arg(args.rgbpose_shape)
    return args


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    sections = []
    iters, warmup = args.iters, args.warmup
    default_threads = torch.get_num_threads()
    if args.which in ('model', 'all'):
        args.iters = 7 if iters is None else iters
        args.warmup = 2 if warmup is None else warmup
        for threads in args.threads or [default_threads]:
            torch.set_num_threads(threads)
            sections.append(benchmark_models(args))
            print(sections[-1], flush=True)
        torch.set_num_threads(default_threads)
    if args.which in ('pipeline', 'all'):
        args.iters = 5 if iters is None else iters
        args.warmup = 1 if warmup is None else warmup
        sections.append(benchmark_pipelines(args))
        print(sections[-1], flush=True)
    text = '\n\n'.join(sections) + '\n'
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            f.write(text)
    return text


if __name__ == '__main__':
    main()
