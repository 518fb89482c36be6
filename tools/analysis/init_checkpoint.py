"""Save the weights a config's model starts training from, as a checkpoint.

    python tools/analysis/init_checkpoint.py CONFIG OUT.pth \\
        [--cfg-options model.stream_checkpoints.rgb=RGB.pth ...]

Builds the model of ``CONFIG`` as MMAction2's runner does and runs its
initialisation (``init_weights``: ``init_cfg`` entries, ``Pretrained``
loads, ``stream_checkpoints``), then writes ``{'state_dict', 'meta'}``
(atomically) for ``tools/test.py``. With it a model assembled from other
models can be tested before any training: e.g. EPAM-Net's two stage-1
streams joined by score fusion, no attention, no fine-tuning (paper 002,
Table 3 row 3)::

    python tools/analysis/init_checkpoint.py configs/epam_net_synth.py \\
        fusion.pth --cfg-options model.neck=None \\
        model.stream_checkpoints.rgb=RGB.pth \\
        model.stream_checkpoints.pose=POSE.pth
    python tools/test.py configs/epam_net_synth.py fusion.pth \\
        --cfg-options model.neck=None
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction


def build_initialised_model(cfg: Config, seed: int = 0) -> torch.nn.Module:
    """The model of ``cfg`` after ``init_weights()`` (random parts seeded)."""
    import mmar_ext  # noqa: F401  (registers the models)
    from mmengine.registry import init_default_scope
    from mmengine.runner import set_random_seed
    from mmaction.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    set_random_seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('out', help='checkpoint file to write')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the freshly initialised parts')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={})
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    model = build_initialised_model(cfg, args.seed)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    meta = dict(config=args.config, cfg_options=args.cfg_options,
                seed=args.seed, note='initialisation only, not trained')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp = args.out + '.tmp'
    torch.save(dict(state_dict=state, meta=meta), tmp)
    os.replace(tmp, args.out)
    print(f'{args.out}: {len(state)} tensors of the initialised model of '
          f'{args.config}')


if __name__ == '__main__':
    main()
