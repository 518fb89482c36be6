"""The person detector and the pose estimator of the extraction.

As in PoseC3D / EPAM-Net (and MMAction2's ``ntu_pose_extraction.py``): a
Faster R-CNN R50-FPN person detector (MMDetection) and HRNet-w32 top-down
heatmap pose estimation on COCO-17 at 256x192 (MMPose). The configs are the
ones packaged inside the installed mmdet / mmpose wheels; the checkpoints
default to the official OpenMMLab URLs (``ntu_pose_extraction.py``'s
defaults) and may be local paths. MMEngine caches downloaded checkpoints
under ``~/.cache/torch/hub/checkpoints``; offline, pass local files.
"""
from __future__ import annotations

import copy
import logging
import os
import os.path as osp
import warnings
from typing import Optional

logger = logging.getLogger(__name__)

#: Faster R-CNN R50-FPN (caffe-style ResNet) with one class, person: the
#: model of ``DEFAULT_DET_CHECKPOINT`` (MMAction2's demo config
#: ``faster-rcnn_r50-caffe_fpn_ms-1x_coco-person.py`` is the same model).
DEFAULT_DET_CONFIG = \
    'mmdet::faster_rcnn/faster-rcnn_r50-caffe_fpn_ms-1x_coco-person.py'
DEFAULT_DET_CHECKPOINT = (
    'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
    'faster_rcnn_r50_fpn_1x_coco-person/'
    'faster_rcnn_r50_fpn_1x_coco-person_20201216_175929-d022e227.pth')
DEFAULT_POSE_CONFIG = ('mmpose::body_2d_keypoint/topdown_heatmap/coco/'
                       'td-hm_hrnet-w32_8xb64-210e_coco-256x192.py')
DEFAULT_POSE_CHECKPOINT = (
    'https://download.openmmlab.com/mmpose/top_down/hrnet/'
    'hrnet_w32_coco_256x192-c78dce93_20200708.pth')


def add_model_arguments(parser) -> None:
    """The detector / pose-model options every command that runs the 2D
    pose extraction takes (``data_prep.pose_extraction``,
    ``tools/inference.py``): ``--det-config``, ``--det-checkpoint``,
    ``--pose-config``, ``--pose-checkpoint`` (defaults: the models above),
    ``--det-cfg-options``, ``--pose-cfg-options`` and ``--det-score-thr``."""
    from mmengine.config import DictAction
    parser.add_argument('--det-config', default=DEFAULT_DET_CONFIG)
    parser.add_argument('--det-checkpoint', default=DEFAULT_DET_CHECKPOINT)
    parser.add_argument('--pose-config', default=DEFAULT_POSE_CONFIG)
    parser.add_argument('--pose-checkpoint', default=DEFAULT_POSE_CHECKPOINT)
    parser.add_argument('--det-cfg-options', nargs='+', action=DictAction,
                        help='overrides of the detector config, key=value')
    parser.add_argument('--pose-cfg-options', nargs='+', action=DictAction,
                        help='overrides of the pose config, key=value')
    parser.add_argument('--det-score-thr', type=float, default=0.5,
                        help='detector score a person box needs')


def packaged_config(name: str) -> str:
    """Path of a config shipped in an OpenMMLab wheel.

    ``name`` is ``'<package>::<path under configs/>'`` (MMEngine's
    notation, e.g. ``'mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py'``);
    any other string is returned unchanged (a config file path).
    """
    if '::' not in name:
        return name
    package, relative = name.split('::', 1)
    module = __import__(package)
    path = osp.join(osp.dirname(module.__file__), '.mim', 'configs',
                    relative)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{name}: no such config in the installed '
                                f'{package} ({path})')
    return path


def resolve_device(device: Optional[str] = 'auto') -> str:
    """``'auto'`` (or None) is ``'cuda:0'`` when CUDA is available, else
    ``'cpu'``; anything else is returned unchanged."""
    if device in (None, 'auto'):
        import torch
        return 'cuda:0' if torch.cuda.is_available() else 'cpu'
    return device


def _load_config(config, cfg_options: Optional[dict]):
    from mmengine.config import Config
    if not isinstance(config, Config):
        config = Config.fromfile(packaged_config(os.fspath(config)))
    else:
        config = copy.deepcopy(config)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    # Never fetch ImageNet backbone weights: the checkpoint has everything.
    if 'init_cfg' in config.model.get('backbone', {}):
        config.model.backbone.init_cfg = None
    return config


def _build(builder, config, scope: str, *args, **kwargs):
    """Runs an OpenMMLab model builder in its registry scope (without
    leaving that scope as the process-wide default, which would break
    MMAction2 registry look-ups afterwards) and without its palette / meta
    warnings."""
    from mmengine.registry import DefaultScope
    with warnings.catch_warnings(), DefaultScope.overwrite_default_scope(
            config.get('default_scope', scope)):
        warnings.simplefilter('ignore', UserWarning)
        return builder(config, *args, **kwargs)


def build_detector(config=DEFAULT_DET_CONFIG,
                   checkpoint: Optional[str] = DEFAULT_DET_CHECKPOINT,
                   device: str = 'auto', cfg_options: Optional[dict] = None):
    """The MMDetection model (``mmdet.apis.init_detector``), in eval mode.

    Args:
        config: config path, ``'mmdet::...'`` packaged config, or Config.
        checkpoint: local path or URL; None leaves random weights.
        device: ``'auto'``, ``'cpu'``, ``'cuda:0'``, ...
        cfg_options: overrides merged into the config (MMEngine
            ``merge_from_dict`` keys, e.g.
            ``{'model.test_cfg.rcnn.score_thr': 0.3}``).
    """
    import mmar_ext  # noqa: F401  (compat fixes, e.g. torch.load)
    from mmdet.apis import init_detector
    config = _load_config(config, cfg_options)
    return _build(init_detector, config, 'mmdet', checkpoint,
                  device=resolve_device(device))


def build_pose_model(config=DEFAULT_POSE_CONFIG,
                     checkpoint: Optional[str] = DEFAULT_POSE_CHECKPOINT,
                     device: str = 'auto',
                     cfg_options: Optional[dict] = None):
    """The MMPose top-down model (``mmpose.apis.init_model``), in eval mode.

    Arguments as :func:`build_detector` (``'mmpose::...'`` configs).
    """
    import mmar_ext  # noqa: F401
    from mmpose.apis import init_model
    config = _load_config(config, cfg_options)
    return _build(init_model, config, 'mmpose', checkpoint,
                  device=resolve_device(device))


def fuse_for_inference(model):
    """Folds every BatchNorm into the convolution before it (in place).

    Inference-only; the outputs equal the unfused model's up to float
    rounding, and on the CPU both models run markedly faster (the BN layers
    of HRNet and of Faster R-CNN's frozen ResNet cost as much memory traffic
    as a convolution). Uses MMCV's ``fuse_conv_bn``.
    """
    from mmcv.cnn import fuse_conv_bn
    if model.training:
        raise RuntimeError('fuse_for_inference needs a model in eval mode')
    return fuse_conv_bn(model)


def _contiguous_inputs(module, args):
    import torch
    return tuple(a.contiguous() if isinstance(a, torch.Tensor) else a
                 for a in args)


def _channels_last_input(module, args):
    import torch
    return (args[0].contiguous(memory_format=torch.channels_last),
            ) + tuple(args[1:])


def to_channels_last(model):
    """Runs the convolutions of ``model`` in NHWC memory format (in place).

    On the CPU, oneDNN convolutions are faster on channels-last tensors
    (no reordering before and after each one). The backbone's input is
    converted, and every MMCV op module (compiled kernels such as
    ``RoIAlign`` that index NCHW memory directly) gets contiguous NCHW
    inputs through a forward pre-hook. Outputs equal the original model's
    up to float rounding.
    """
    import torch
    model.to(memory_format=torch.channels_last)
    backbone = getattr(model, 'backbone', None)
    if backbone is not None:
        backbone.register_forward_pre_hook(_channels_last_input)
    for module in model.modules():
        if type(module).__module__.startswith('mmcv.ops'):
            module.register_forward_pre_hook(_contiguous_inputs)
    return model


#: ``precision`` choices of :func:`set_trunk_precision`
PRECISIONS = ('fp32', 'bf16', 'fp16')


def _to_float32(out):
    """``out`` with its half / bfloat16 tensors cast to float32."""
    import torch
    if isinstance(out, torch.Tensor):
        return out.float() if out.dtype in (torch.float16,
                                            torch.bfloat16) else out
    if isinstance(out, (list, tuple)):
        return type(out)(_to_float32(o) for o in out)
    if isinstance(out, dict):
        return {k: _to_float32(v) for k, v in out.items()}
    return out


def _autocast_method(method, device_type: str, dtype):
    import functools

    import torch

    @functools.wraps(method)
    def wrapped(*args, **kwargs):
        with torch.autocast(device_type, dtype=dtype):
            out = method(*args, **kwargs)
        return _to_float32(out)

    return wrapped


def set_trunk_precision(model, precision: str = 'fp32'):
    """Runs the convolutional trunk of ``model`` in reduced precision.

    ``'bf16'`` / ``'fp16'`` run ``extract_feat`` (backbone and neck: about
    75% of the detector's and nearly all of HRNet's FLOPs) and a detector's
    RPN head under ``torch.autocast`` and hand float32 features on, so box
    decoding, NMS, RoIAlign, the box head and heatmap decoding stay float32.
    On CPUs with bfloat16 instructions (AVX512-BF16, AMX) ``'bf16'`` runs
    the trunk about 2x faster than float32 (ResNet-50 at 1333x750 on this
    repository's 2-core AMD EPYC: 0.28 vs 0.66 s per frame), with feature
    errors around 1% of their range, so boxes and keypoints move slightly:
    an opt-in trade-off, not the default. ``'fp16'`` needs CUDA. In place;
    returns the model.
    """
    import torch
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {PRECISIONS}, got '
                         f'{precision!r}')
    if precision == 'fp32':
        return model
    device_type = next(model.parameters()).device.type
    if precision == 'fp16' and device_type != 'cuda':
        raise ValueError("precision='fp16' needs CUDA; use 'bf16' on the "
                         'CPU')
    dtype = torch.bfloat16 if precision == 'bf16' else torch.float16
    model.extract_feat = _autocast_method(model.extract_feat, device_type,
                                          dtype)
    rpn_head = getattr(model, 'rpn_head', None)
    if rpn_head is not None:
        rpn_head.forward = _autocast_method(rpn_head.forward, device_type,
                                            dtype)
    return model


def optimize_for_inference(model):
    """:func:`fuse_for_inference`; on the CPU also MMCV's single-threaded
    ``RoIAlign`` replaced by :class:`roi_align.EmbeddingBagRoIAlign` and
    :func:`to_channels_last` (on CUDA, NHWC only pays off in half
    precision). In place; returns the model."""
    fuse_for_inference(model)
    if next(model.parameters()).device.type == 'cpu':
        from .roi_align import replace_roi_align
        replace_roi_align(model)  # before: it reads NHWC features as they are
        to_channels_last(model)
    return model
