"""Parameters, FLOPs and inference throughput of a config's model.

    python tools/analysis/complexity.py CONFIG [--clip-len T] [--size S]
        [--batch 1] [--iters 5] [--device cpu|cuda]

FLOPs come from MMEngine's ``get_model_complexity_info`` (fvcore-style
counting: one multiply-add = one FLOP), measured on one clip per modality of
``[1, 1, 3, T, H, W]`` (default: the config's ``clip_len`` and
``crop_size``, else 16 and 224); throughput is clips per second of
``tensor``-mode forward passes after a warm-up. Speed claims in this
project are always reported next to a baseline measured in the same run.
"""
import argparse
import time

import torch
from mmengine.config import Config, DictAction


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


def clip_shape(config, clip_len=None, size=None):
    """``(T, S)`` of a test clip: the arguments, else the config's
    ``clip_len`` / ``crop_size`` variables, else ``(16, 224)``."""
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    return (clip_len or cfg.get('clip_len', 16),
            size or cfg.get('crop_size', 224))


def dummy_inputs(model, batch, clip_len, size, device):
    """One clip per modality, ``[batch, num_clips=1, 3, T, H, W]``."""
    return {model.input_key.format(m): torch.randn(
        batch, 1, 3, clip_len, size, size, device=device)
        for m in model.modalities}


class TensorForward(torch.nn.Module):
    """``model(inputs, mode='tensor')`` with positional dict input, for the
    tracer used by the FLOP counter."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, inputs):
        return self.model(inputs, mode='tensor')


def count_flops(model, clip_len=16, size=224, device='cpu') -> int:
    """FLOPs (multiply-adds) of one clip of every modality of ``model``."""
    from mmengine.analysis import get_model_complexity_info
    inputs = dummy_inputs(model, 1, clip_len, size, device)
    with torch.no_grad():
        info = get_model_complexity_info(
            TensorForward(model), inputs=(inputs, ), show_table=False,
            show_arch=False)
    return int(info['flops'])


def complexity(model, clip_len=16, size=224, batch=1, iters=5,
               device='cpu'):
    model = model.to(device)
    params = sum(p.numel() for p in model.parameters())
    flops = count_flops(model, clip_len, size, device)
    with torch.no_grad():
        batch_inputs = dummy_inputs(model, batch, clip_len, size, device)
        model(batch_inputs, mode='tensor')  # warm-up
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(iters):
            model(batch_inputs, mode='tensor')
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    return dict(params=params, flops=flops,
                clips_per_second=batch * iters / seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--clip-len', type=int, default=None,
                        help="default: the config's clip_len, else 16")
    parser.add_argument('--size', type=int, default=None,
                        help="default: the config's crop_size, else 224")
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    model = build_model(args.config, args.cfg_options)
    clip_len, size = clip_shape(args.config, args.clip_len, args.size)
    r = complexity(model, clip_len, size, args.batch, args.iters,
                   args.device)
    print(f'{args.config}: {r["params"] / 1e6:.2f}M params, '
          f'{r["flops"] / 1e9:.2f} GFLOPs per clip '
          f'({clip_len}x{size}x{size}, all modalities), '
          f'{r["clips_per_second"]:.2f} clips/s on {args.device} '
          f'(batch {args.batch})')
    return r


if __name__ == '__main__':
    main()
