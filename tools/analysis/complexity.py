"""Parameters, FLOPs and inference throughput of a config's model.

    python tools/analysis/complexity.py CONFIG [--clip-len 16] [--size 224]
        [--batch 1] [--iters 5] [--device cpu|cuda]

FLOPs come from MMEngine's ``get_model_complexity_info`` (fvcore-style
counting: one multiply-add = one FLOP), measured on one clip per modality of
``[1, 1, 3, T, H, W]``; throughput is clips per second of ``tensor``-mode
forward passes after a warm-up. Speed claims in this
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


def complexity(model, clip_len=16, size=224, batch=1, iters=5,
               device='cpu'):
    from mmengine.analysis import get_model_complexity_info
    model = model.to(device)
    params = sum(p.numel() for p in model.parameters())
    inputs = dummy_inputs(model, 1, clip_len, size, device)
    with torch.no_grad():
        info = get_model_complexity_info(
            TensorForward(model), inputs=(inputs, ), show_table=False,
            show_arch=False)
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
    return dict(params=params, flops=info['flops'],
                clips_per_second=batch * iters / seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--clip-len', type=int, default=16)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    model = build_model(args.config, args.cfg_options)
    r = complexity(model, args.clip_len, args.size, args.batch, args.iters,
                   args.device)
    print(f'{args.config}: {r["params"] / 1e6:.2f}M params, '
          f'{r["flops"] / 1e9:.2f} GFLOPs per clip '
          f'({args.clip_len}x{args.size}x{args.size}, all modalities), '
          f'{r["clips_per_second"]:.2f} clips/s on {args.device} '
          f'(batch {args.batch})')
    return r


if __name__ == '__main__':
    main()
