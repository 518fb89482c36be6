"""Parameters, FLOPs and inference throughput of a config's model.

    python tools/analysis/complexity.py CONFIG [--clip-len T] [--size S]
        [--input-shape MODALITY=C,T,H,W ...] [--with-activations]
        [--batch 1] [--iters 5] [--device cpu|cuda] [--cfg-options ...]

FLOPs come from MMEngine's ``FlopAnalyzer`` (fvcore-style counting, as
``get_model_complexity_info``: one multiply-add = one FLOP for
convolutions, linear layers and matrix products; an eval-mode BatchNorm
counts 2 per element; activations, element-wise sums and products, and 3D
pooling are not counted) plus the attention ops it does not know and would
count as 0 (:data:`ATTENTION_FLOP_HANDLES`: ``scaled_dot_product_attention``
and ``nn.MultiheadAttention``'s inference fast path), measured on
one clip per modality of ``[1, 1, C, T, H, W]`` through backbone, neck and
head. The clip is, per modality: ``--input-shape`` if given, else
``C x T x S x S`` with ``C`` the encoder's ``in_channels`` (3 when it has
none) and ``T`` / ``S`` the modality's clip length / size -- taken from
``--clip-len`` / ``--size`` (all modalities; a modality whose input is
not such a clip takes its per-clip shape from ``--input-shape`` or the
config's ``input_shape`` dict, e.g. ``pose=(12, 50, 3)`` joint
coordinates), else from the config's
``clip_len`` / ``crop_size`` variables, each either an int (all
modalities) or a ``{modality: value}`` dict (EPAM-Net's dataset configs:
``clip_len = dict(pose=48, rgb=16)``, ``crop_size = dict(rgb=224,
pose=56)``; a modality without an entry has none) -- and, when neither a
clip length nor a size is found for the modality, the paper's input for a
model of :data:`PAPER_FIGURES` (EPAM-Net: RGB ``3x16x224x224``, pose
``17x48x56x56``), else 16 / 224 for whichever is missing. Throughput is
clips per second of ``tensor``-mode forward passes after a warm-up. Speed
claims in this project are always reported next to a baseline measured in
the same run.

``--with-activations`` adds a table per stream (modality), shared part
(neck, shared head layers) and whole model with both FLOP conventions:

* MMEngine's: multiply-adds + BatchNorm;
* + activation elements: one FLOP per output element of every activation,
  the convention of EPAM-Net's figures (seed 002, Tables 5-7: 4.5G / 3.6G
  / 8.1G, which MMEngine counts as about 4.43G / 3.51G / 7.94G).
  Activation modules (``ReLU``, ``Sigmoid``, ``SiLU``, mmcv's ``Swish``
  and ``HSwish``, ...; :data:`ACTIVATION_MODULES`) are counted with
  forward hooks, functional ones (``torch.sigmoid``, ``F.relu``,
  ``F.silu``, ...; :data:`ACTIVATION_FUNCTIONS`, e.g. the two sigmoids of
  EPAM-Net's attention block) with a ``TorchFunctionMode``, unless called
  inside a counted activation module (mmcv's ``Swish`` is ``x *
  torch.sigmoid(x)``: counted once, as the module). The multiplications,
  additions and pooling around them (SE scaling, residual sums, attention
  modulation) are counted by neither convention.

and, for the models of :data:`PAPER_FIGURES`, the paper's FLOPs and
parameters next to them (figures given for the paper's inputs and class
count; use ``--cfg-options model.cls_head.num_classes=60`` for EPAM-Net's
NTU60 figures).
"""
import argparse
import time
from collections import defaultdict
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from torch.overrides import TorchFunctionMode

#: The papers' own cost figures: ``rows`` maps a stream (modality) or
#: ``'whole'`` to ``(FLOPs, parameters)``; ``inputs`` the paper's clip per
#: modality ``(C, T, H, W)``; ``match`` the backbone class names that
#: identify the model.
PAPER_FIGURES = {
    'EPAM-Net': dict(
        source='seed 002, Table 5 (RGB-X-ShiftNet), Table 6 '
        '(Pose-X-ShiftNet), Table 7 (EPAM-Net); NTU60, 60 classes',
        match=('XShiftNet', 'XShiftNet2d'),
        num_classes=60,
        inputs=dict(rgb=(3, 16, 224, 224), pose=(17, 48, 56, 56)),
        rows=dict(
            rgb=(4.5e9, 2.0e6), pose=(3.6e9, 514.7e3),
            whole=(8.1e9, 2.5e6))),
}


def _activation_modules():
    mods = [nn.ReLU, nn.ReLU6, nn.Sigmoid, nn.SiLU, nn.Hardswish,
            nn.Hardsigmoid, nn.GELU, nn.Tanh, nn.ELU, nn.LeakyReLU,
            nn.PReLU, nn.Mish, nn.Softplus, nn.Hardtanh]
    try:
        from mmcv.cnn.bricks import HSigmoid, HSwish, Swish
        mods += [Swish, HSwish, HSigmoid]
    except ImportError:  # pragma: no cover
        pass
    return tuple(mods)


#: Modules whose output elements count as activation FLOPs.
ACTIVATION_MODULES = _activation_modules()
#: Functional activations counted outside those modules.
ACTIVATION_FUNCTIONS = frozenset(
    f for f in (
        torch.relu, torch.relu_, F.relu, F.relu_, torch.Tensor.relu,
        torch.Tensor.relu_, torch.sigmoid, getattr(torch, 'sigmoid_', None),
        F.sigmoid, torch.Tensor.sigmoid, torch.Tensor.sigmoid_, F.silu,
        F.hardswish, F.hardsigmoid, F.gelu, F.elu, F.elu_, F.leaky_relu,
        F.leaky_relu_, F.relu6, F.hardtanh, F.hardtanh_, torch.tanh,
        torch.Tensor.tanh, torch.Tensor.tanh_, F.tanh, F.mish, F.softplus,
        F.prelu) if f is not None)


def build_model(config, cfg_options=None):
    import mmar_ext  # noqa: F401
    from mmengine.registry import init_default_scope
    from mmaction.registry import MODELS
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    for enc in cfg.model.get('backbone', {}).values():
        if isinstance(enc, dict) and 'space_encoder' in enc:
            enc.space_encoder.pretrained = None  # no downloads for counting
    model = MODELS.build(cfg.model)
    model.eval()
    return model


def _plain(value):
    """A config's ``{modality: v}`` ``ConfigDict`` as a plain dict."""
    return dict(value) if isinstance(value, dict) else value


def per_modality(value, modality):
    """``value[modality]`` of a ``{modality: value}`` dict (None when it
    has no entry for ``modality``), else ``value`` itself (an int or None:
    the same for all modalities)."""
    return value.get(modality) if isinstance(value, dict) else value


def clip_shape(config, clip_len=None, size=None):
    """``(T, S)`` of a test clip: the arguments, else the config's
    ``clip_len`` / ``crop_size`` variables, else ``(16, 224)``. Each is an
    int (all modalities) or a ``{modality: value}`` dict, as
    :func:`input_shapes` and :func:`count_flops` take them."""
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    return (_plain(clip_len or cfg.get('clip_len', 16)),
            _plain(size or cfg.get('crop_size', 224)))


def paper_model(model) -> Optional[str]:
    """Name of the :data:`PAPER_FIGURES` entry ``model`` is an instance
    of (by its backbone classes), or None."""
    names = {type(m).__name__ for m in model.modules()}
    for name, entry in PAPER_FIGURES.items():
        if names & set(entry['match']):
            return name
    return None


def modalities_of(model) -> Tuple[str, ...]:
    return tuple(getattr(model, 'modalities', None) or ('rgb', ))


def own_input_shapes(model):
    """The model's ``example_input_shapes(clip_len, size)`` (see
    :func:`input_shapes`); for MMAction2's ``RecognizerGCN`` (one tensor
    input) ``{'inputs': (1, M, T, V, C)}``; None for a model of one
    ``[C, T, H, W]`` clip per modality."""
    own = getattr(model, 'example_input_shapes', None)
    if own is None and type(model).__name__ == 'RecognizerGCN':
        from mmar_ext.models.recognizers.tsmf import gcn_input_shape

        def own(clip_len=None, size=None):
            return {'inputs': gcn_input_shape(model, clip_len)}
    return own


def input_shapes(model, clip_len=None, size=None,
                 overrides: Optional[Dict[str, Sequence[int]]] = None
                 ) -> Dict[str, Tuple[int, int, int, int]]:
    """``{modality: (C, T, H, W)}`` of one test clip (module docstring).

    ``clip_len`` / ``size``: an int for all modalities, a ``{modality:
    value}`` dict (entries of other modalities are ignored), or None.

    A model whose inputs are not one such clip per modality says its own:
    ``model.example_input_shapes(clip_len, size)`` returns ``{input key:
    shape of one sample without the batch dimension}`` (TSMF: skeletons
    ``(1, M, T, V, C)`` and the ROI mosaic ``(1, 3, S, S)``)."""
    overrides = dict(overrides or {})
    own = own_input_shapes(model)
    if own is not None:
        if overrides:
            raise ValueError(f'{type(model).__name__} gives its own input '
                             'shapes: set their clip length / size with '
                             '--clip-len / --size')
        return {key: tuple(int(v) for v in shape)
                for key, shape in own(clip_len, size).items()}
    paper = PAPER_FIGURES.get(paper_model(model) or '', {}).get('inputs', {})
    shapes = {}
    for m in modalities_of(model):
        t, s = per_modality(clip_len, m), per_modality(size, m)
        if m in overrides:
            shapes[m] = tuple(int(v) for v in overrides[m])
        elif m in paper and t is None and s is None:
            shapes[m] = tuple(paper[m])
        else:
            encoder = None
            backbone = getattr(model, 'backbone', None)
            if isinstance(backbone, nn.ModuleDict) and m in backbone:
                encoder = backbone[m]
            channels = int(getattr(encoder, 'in_channels', 3) or 3)
            t, s = int(t or 16), int(s or 224)
            shapes[m] = (channels, t, s, s)
        if m not in overrides and len(shapes[m]) != 4:
            raise ValueError(f'input shape of {m} must be C,T,H,W, got '
                             f'{shapes[m]}')
    unknown = set(overrides) - set(shapes)
    if unknown:
        raise ValueError(f'--input-shape for {sorted(unknown)}: the model '
                         f'has modalities {modalities_of(model)}')
    return shapes


def dummy_inputs(model, batch, clip_len, size, device, shapes=None):
    """One clip per modality, ``[batch, num_clips=1, C, T, H, W]``: of
    ``shapes`` (``{modality: (C, T, H, W)}``) if given, else 3-channel
    ``clip_len x size x size`` clips (ints or ``{modality: value}``); for a
    model with ``example_input_shapes``, ``[batch, *shape]`` per input key
    (:func:`input_shapes`)."""
    if own_input_shapes(model) is not None:
        if shapes is None:
            shapes = input_shapes(model, clip_len, size)
        return {key: torch.randn(batch, *shape, device=device)
                for key, shape in shapes.items()}
    if shapes is None:
        shapes = {m: (3, per_modality(clip_len, m), per_modality(size, m),
                      per_modality(size, m)) for m in modalities_of(model)}
    if not hasattr(model, 'input_key'):  # MMAction2's Recognizer3D etc.
        (m, shape), = shapes.items()
        return {'inputs': torch.randn(batch, 1, *shape, device=device)}
    return {model.input_key.format(m): torch.randn(
        batch, 1, *shapes[m], device=device) for m in model.modalities}


def _stage(model, stage=None):
    """Through the head when the model has one."""
    if stage is not None:
        return stage
    return 'head' if getattr(model, 'with_cls_head', False) else 'backbone'


class TensorForward(torch.nn.Module):
    """``model(inputs, mode='tensor', stage=...)`` with positional dict
    input, for the tracer used by the FLOP counter."""

    def __init__(self, model, stage='backbone'):
        super().__init__()
        self.model = model
        self.stage = stage

    def forward(self, inputs):
        if set(inputs) == {'inputs'}:  # a single-input MMAction2 model
            return self.model(inputs['inputs'], mode='tensor',
                              stage=self.stage)
        return self.model(dict(inputs), mode='tensor', stage=self.stage)


def _numel(shape) -> int:
    n = 1
    for v in shape:
        n *= int(v)
    return n


def sdpa_flop_jit(inputs, outputs) -> int:
    """``aten::scaled_dot_product_attention(q, k, v, ...)``: ``q k^T`` and
    ``attn v``, one multiply-add per product: ``batch x Lq x Lk x (d +
    dv)``."""
    from mmengine.analysis.jit_handles import get_shape
    q, k, v = (get_shape(x) for x in inputs[:3])
    return _numel(q[:-2]) * q[-2] * k[-2] * (q[-1] + v[-1])


def native_mha_flop_jit(inputs, outputs) -> int:
    """``aten::_native_multi_head_attention`` (``nn.MultiheadAttention``'s
    inference fast path): the q / k / v input projections, ``q k^T``,
    ``attn v`` and the output projection."""
    from mmengine.analysis.jit_handles import get_shape
    q, k = get_shape(inputs[0]), get_shape(inputs[1])
    batch, lq, e = _numel(q[:-2]), q[-2], q[-1]
    lk = k[-2]
    return batch * (lq * e * e + 2 * lk * e * e + 2 * lq * lk * e +
                    lq * e * e)


#: Attention ops MMEngine's counter does not know (it would count 0).
ATTENTION_FLOP_HANDLES = {
    'aten::scaled_dot_product_attention': sdpa_flop_jit,
    'aten::_native_multi_head_attention': native_mha_flop_jit,
}


def _flop_analyzer(model, inputs, stage=None):
    from mmengine.analysis import FlopAnalyzer
    wrapper = TensorForward(model, _stage(model, stage))
    analyzer = FlopAnalyzer(wrapper, (inputs, ))
    analyzer.set_op_handle(**ATTENTION_FLOP_HANDLES)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer


def count_flops(model, clip_len=16, size=224, device='cpu', shapes=None,
                stage=None) -> int:
    """FLOPs (multiply-adds + BatchNorm, MMEngine) of one clip of every
    modality of ``model`` through backbone, neck and head (``stage``).

    The clips: ``shapes`` (``{modality: (C, T, H, W)}``) if given, else
    :func:`input_shapes` of ``clip_len`` / ``size`` -- each an int for all
    modalities or a ``{modality: value}`` dict, e.g. ``clip_len=dict(
    rgb=16, pose=48), size=dict(rgb=224, pose=56)``."""
    if shapes is None:
        shapes = input_shapes(model, clip_len, size)
    inputs = dummy_inputs(model, 1, clip_len, size, device, shapes)
    with torch.no_grad():
        return int(_flop_analyzer(model, inputs, stage).total())


# ---------------------------------------------------------------------------
# activation elements
# ---------------------------------------------------------------------------
class _FunctionalActivations(TorchFunctionMode):

    def __init__(self, counter):
        super().__init__()
        self.counter = counter

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func in ACTIVATION_FUNCTIONS and isinstance(out, torch.Tensor):
            self.counter.functional(func, out)
        return out


class ActivationCounter:
    """Output elements of the activations run inside ``model``, per module.

    ``counts[name]`` sums the output elements of the activation module
    ``name`` (forward hook) and of the functional activations called
    directly in module ``name`` (innermost module on the call stack), not
    inside an activation module. ``calls`` lists ``(name, what, elements)``.

    Use as a context manager around forward passes of ``model``.
    """

    def __init__(self, model: nn.Module, prefix: str = ''):
        self.model = model
        self.prefix = prefix
        self.counts = defaultdict(int)
        self.calls = []
        self._stack = []
        self._inside_activation = 0
        self._handles = []
        self._mode = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def functional(self, func, out):
        if self._inside_activation:
            return
        name = self._stack[-1] if self._stack else ''
        self.counts[name] += out.numel()
        self.calls.append((name, getattr(func, '__name__', str(func)),
                           out.numel()))

    def __enter__(self):
        for name, module in self.model.named_modules():
            name = self.prefix + name
            is_act = isinstance(module, ACTIVATION_MODULES)

            def pre(mod, args, name=name, is_act=is_act):
                self._stack.append(name)
                self._inside_activation += is_act

            def post(mod, args, out, name=name, is_act=is_act):
                self._stack.pop()
                self._inside_activation -= is_act
                if is_act and not self._inside_activation:
                    self.counts[name] += out.numel()
                    self.calls.append((name, type(mod).__name__,
                                       out.numel()))

            self._handles.append(module.register_forward_pre_hook(pre))
            self._handles.append(module.register_forward_hook(post))
        self._mode = _FunctionalActivations(self)
        self._mode.__enter__()
        return self

    def __exit__(self, *exc):
        self._mode.__exit__(*exc)
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._stack = []
        self._inside_activation = 0
        return False


def count_activations(model, inputs, stage=None) -> ActivationCounter:
    """One forward pass of ``inputs`` (as :func:`count_flops`) under an
    :class:`ActivationCounter`."""
    with torch.no_grad(), ActivationCounter(model) as counter:
        TensorForward(model, _stage(model, stage))(inputs)
    return counter


# ---------------------------------------------------------------------------
# per-stream report, both conventions
# ---------------------------------------------------------------------------
def owner(name: str, modalities: Sequence[str]) -> Optional[str]:
    """The modality a parameter / module name belongs to: the one named by
    a component of it (``backbone.rgb.layer1...``,
    ``cls_head.fc_cls.pose``), else None (shared)."""
    parts = name.split('.')
    for m in modalities:
        if m in parts:
            return m
    return None


def flop_report(model, shapes=None, device='cpu', stage=None) -> Dict:
    """Per-stream and whole-model parameters and FLOPs of one clip, both
    conventions.

    Returns:
        dict: ``rows`` -- ``{part: dict(params, flops, activations,
        flops_with_activations, paper_flops, paper_params)}`` for each
        modality, ``'shared'`` (neck, shared head layers; only when
        non-empty) and ``'whole'``; ``shapes``; ``paper`` (entry name or
        None); ``calls`` -- the counted activations ``(module, what,
        elements)``.
    """
    model = model.to(device).eval()
    modalities = modalities_of(model)
    if shapes is None:
        shapes = input_shapes(model)
    inputs = dummy_inputs(model, 1, None, None, device, shapes)
    with torch.no_grad():
        analyzer = _flop_analyzer(model, inputs, stage)
        by_module = analyzer.by_module()
        total_flops = analyzer.total()
    counter = count_activations(model, inputs, stage)

    flops = defaultdict(int)
    for name, value in by_module.items():
        name = name[len('model.'):] if name.startswith('model.') else name
        parts = name.split('.')
        # the outermost module named after a modality holds its cost
        if parts[-1] in modalities and parts[-1] not in parts[:-1]:
            flops[parts[-1]] += value
    params, acts = defaultdict(int), defaultdict(int)
    for name, p in model.named_parameters():
        params[owner(name, modalities) or 'shared'] += p.numel()
    for name, value in counter.counts.items():
        acts[owner(name, modalities) or 'shared'] += value
    flops['shared'] = total_flops - sum(flops[m] for m in modalities)

    name = paper_model(model)
    paper_rows = PAPER_FIGURES[name]['rows'] if name else {}
    parts = list(modalities)
    if flops['shared'] or params['shared'] or acts['shared']:
        parts.append('shared')
    rows = {}
    for part in parts + ['whole']:
        if part == 'whole':
            p, f, a = (sum(params.values()), total_flops,
                       sum(acts.values()))
        else:
            p, f, a = params[part], flops[part], acts[part]
        paper_f, paper_p = paper_rows.get(part, (None, None))
        if part == 'whole' and not set(paper_rows) - {'whole'} <= set(
                modalities):
            paper_f = paper_p = None  # a single stream is not the model
        rows[part] = dict(params=p, flops=f, activations=a,
                          flops_with_activations=f + a,
                          paper_flops=paper_f, paper_params=paper_p)
    head = getattr(model, 'cls_head', None)
    return dict(rows=rows, shapes=dict(shapes), paper=name,
                num_classes=getattr(head, 'num_classes', None),
                calls=counter.calls)


def _fmt_params(n):
    if n is None:
        return ''
    if n >= 1e6:
        return f'{n / 1e6:.2f}M'
    return f'{n / 1e3:.1f}k' if n >= 1e3 else str(int(n))


def _fmt_flops(n, digits=2):
    return '' if n is None else f'{n / 1e9:.{digits}f}'


def format_flop_report(report: Dict) -> str:
    """Markdown table of :func:`flop_report`."""
    paper = report['paper']
    lines = [
        '| part | params | paper params | GFLOPs (MMEngine: mult-adds + BN) '
        '| activation elements (G) | GFLOPs (+ activations) | paper GFLOPs |',
        '|---|---:|---:|---:|---:|---:|---:|'
    ]
    for part, r in report['rows'].items():
        paper_flops = r['paper_flops']
        lines.append(
            f"| {part} | {_fmt_params(r['params'])} | "
            f"{_fmt_params(r['paper_params'])} | {_fmt_flops(r['flops'])} | "
            f"{_fmt_flops(r['activations'], 3)} | "
            f"{_fmt_flops(r['flops_with_activations'])} | "
            f"{'' if paper_flops is None else f'{paper_flops / 1e9:.1f}'} |")
    shapes = ', '.join(f'{m} {"x".join(map(str, s))}'
                       for m, s in report['shapes'].items())
    notes = [f'Inputs (one clip): {shapes}.']
    if paper:
        entry = PAPER_FIGURES[paper]
        notes.append(f"Paper figures: {paper}, {entry['source']}.")
        differ = {m: s for m, s in report['shapes'].items()
                  if m in entry['inputs'] and tuple(s) != entry['inputs'][m]}
        if differ:
            notes.append('These inputs differ from the paper\'s ('
                         + ', '.join(f'{m} {"x".join(map(str, s))}'
                                     for m, s in entry['inputs'].items())
                         + '): its figures are not comparable.')
        classes = report.get('num_classes')
        if classes is not None and classes != entry['num_classes']:
            notes.append(f'This model has {classes} classes, the paper\'s '
                         f'figures {entry["num_classes"]} (classifier '
                         'parameters differ; --cfg-options '
                         f'model.cls_head.num_classes={entry["num_classes"]}'
                         ').')
    return '\n'.join(lines) + '\n\n' + ' '.join(notes)


def complexity(model, clip_len=16, size=224, batch=1, iters=5,
               device='cpu', shapes=None, stage=None, flops=None):
    """Params, FLOPs (MMEngine; ``flops`` if already counted) and
    clips/s of ``model``."""
    model = model.to(device)
    if shapes is None:
        shapes = input_shapes(model, clip_len, size)
    stage = _stage(model, stage)
    params = sum(p.numel() for p in model.parameters())
    if flops is None:
        flops = count_flops(model, clip_len, size, device, shapes, stage)
    with torch.no_grad():
        batch_inputs = dummy_inputs(model, batch, clip_len, size, device,
                                    shapes)
        forward = TensorForward(model, stage)
        forward(batch_inputs)  # warm-up
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(iters):
            forward(batch_inputs)
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    return dict(params=params, flops=flops,
                clips_per_second=batch * iters / seconds)


def parse_input_shapes(items) -> Dict[str, Tuple[int, ...]]:
    """``['rgb=3,16,224,224', ...]`` -> ``{'rgb': (3, 16, 224, 224)}``."""
    shapes = {}
    for item in items or ():
        m, sep, dims = item.partition('=')
        try:
            shapes[m] = tuple(int(v) for v in dims.split(','))
        except ValueError:
            shapes[m] = ()
        if not sep or not shapes[m]:
            raise argparse.ArgumentTypeError(
                f'--input-shape {item!r}: expected MODALITY=C,T,H,W (or the '
                "modality's own per-clip shape, e.g. pose=12,50,3)")
    return shapes


def config_input_shapes(cfg) -> Dict[str, Tuple[int, ...]]:
    """A config's ``input_shape`` variable: ``{modality: per-clip shape}``
    for inputs that are not ``C x T x H x W`` clips (the deformable
    transformer's joint coordinates, ``pose=(T, J, 3)``)."""
    cfg = Config.fromfile(cfg) if isinstance(cfg, str) else cfg
    return {m: tuple(int(v) for v in shape)
            for m, shape in dict(cfg.get('input_shape') or {}).items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument(
        '--clip-len', type=int, default=None,
        help="all modalities; default: the config's clip_len (int or "
        "{modality: T}), else the paper's input / 16")
    parser.add_argument(
        '--size', type=int, default=None,
        help="all modalities; default: the config's crop_size (int or "
        "{modality: S}), else the paper's input / 224")
    parser.add_argument(
        '--input-shape', nargs='+', metavar='MODALITY=C,T,H,W',
        help='clip of a modality, e.g. rgb=3,16,224,224 pose=17,48,56,56')
    parser.add_argument(
        '--with-activations', action='store_true',
        help='also print per-stream params and FLOPs both ways (MMEngine; '
        '+ activation elements) next to the paper\'s figures')
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    model = build_model(args.config, args.cfg_options)
    cfg = Config.fromfile(args.config)
    # int (all modalities) or {modality: value}; None: not given
    given_t = args.clip_len or _plain(cfg.get('clip_len'))
    given_s = args.size or _plain(cfg.get('crop_size'))
    overrides = config_input_shapes(cfg)
    overrides.update(parse_input_shapes(args.input_shape))
    shapes = input_shapes(model, given_t, given_s, overrides)
    report = flop_report(model, shapes, args.device) \
        if args.with_activations else None
    r = complexity(model, None, None, args.batch, args.iters,
                   args.device, shapes=shapes,
                   flops=report and report['rows']['whole']['flops'])
    first = next(iter(shapes.values()))
    if first[0] == 3 and first[2] == first[3] and all(
            s == first for s in shapes.values()):
        shape_text = f'{first[1]}x{first[2]}x{first[3]}, all modalities'
    else:
        shape_text = ', '.join(f'{m} {"x".join(map(str, s))}'
                               for m, s in shapes.items())
    print(f'{args.config}: {r["params"] / 1e6:.2f}M params, '
          f'{r["flops"] / 1e9:.2f} GFLOPs per clip '
          f'({shape_text}), '
          f'{r["clips_per_second"]:.2f} clips/s on {args.device} '
          f'(batch {args.batch})')
    if report is not None:
        print(format_flop_report(report))
        r['report'] = report
    return r


if __name__ == '__main__':
    main()
