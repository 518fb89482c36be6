"""X-ShiftNet: X3D made 2D in time, with temporal shift (EPAM-Net, seed 002).

§3.1 / Table 2 of the paper: "we obtain the 2D CNN counterpart of the X3D
network by removing the temporal convolution in the conv1 stage and replacing
all 3D convolutions with 2D convolutions. Then, TSM is added for each
inverted residual block of the network." Relative to MMAction2's
:class:`~mmaction.models.backbones.X3D` (X3D-M geometry: widths 24/48/96/192,
bottleneck factor 2.25, 3/5/11/7 blocks), only this differs:

* stem: a ``1x3x3`` convolution with BatchNorm and ReLU, no ``5x1x1``
  temporal convolution (X3D's ``conv1_t`` becomes the stem's BN + ReLU);
* every block's depthwise convolution is ``1x3x3`` instead of ``3x3x3``;
* every block shifts ``1/shift_div`` of its channels one frame forward and
  ``1/shift_div`` one frame backward, zero-padded (TSM, not cyclic), on the
  residual branch before its first ``1x1`` convolution
  (:func:`temporal_shift`);
* ``stage_blocks``, the stem stride and the stage strides are explicit, so
  the pose stream (no res2, stem stride 1) is the same class.

Squeeze-excitation in every other block (0, 2, 4, ... of a stage, reduction
1/16 rounded to a multiple of 8), swish after the depthwise convolution and
``conv5`` (1x1, ``gamma_b`` times the last width) are X3D's, as in the
authors' code. Features stay ``[N, C, T, H, W]``: the ``1xkxk`` Conv3d are
the 2D convolutions of the paper applied frame by frame.

Instances (Table 2)::

    RGB:  XShiftNet()                            3x16x224x224 -> 432x16x7x7
    pose: XShiftNet(in_channels=17, stem_stride=1, stage_blocks=(5, 11, 7),
                    shift_div=4)                 17x48x56x56 -> 216x48x7x7
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import initialize

from mmaction.models.backbones.x3d import X3D, BlockX3D
from mmaction.registry import MODELS


def temporal_shift(x: torch.Tensor, shift_div: int) -> torch.Tensor:
    """Zero-padded temporal shift of ``x`` ``[N, C, T, H, W]`` (TSM).

    Channels ``[0, C/d)`` take the next frame's values (shift backward in
    time), channels ``[C/d, 2C/d)`` the previous frame's (forward); the frame
    shifted in from outside the clip is zero. Equals MMAction2's
    ``TemporalShift.shift`` on the ``[N*T, C, H, W]`` layout.
    """
    fold = x.size(1) // shift_div
    out = torch.zeros_like(x)
    out[:, :fold, :-1] = x[:, :fold, 1:]
    out[:, fold:2 * fold, 1:] = x[:, fold:2 * fold, :-1]
    out[:, 2 * fold:] = x[:, 2 * fold:]
    return out


class XShiftBlock(BlockX3D):
    """X3D's inverted bottleneck with a ``1x3x3`` depthwise convolution and
    a temporal shift before its first ``1x1`` convolution (Table 2).

    Args:
        shift_div (int): ``1/shift_div`` of the channels is shifted each way.
        **kwargs: :class:`BlockX3D` arguments.
    """

    def __init__(self, inplanes: int, planes: int, outplanes: int,
                 shift_div: int = 8, **kwargs) -> None:
        super().__init__(inplanes, planes, outplanes, **kwargs)
        self.shift_div = shift_div
        self.conv2 = ConvModule(
            planes,
            planes,
            kernel_size=(1, 3, 3),
            stride=(1, self.spatial_stride, self.spatial_stride),
            padding=(0, 1, 1),
            groups=planes,
            bias=False,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:

        def residual(x):
            out = self.conv1(temporal_shift(x, self.shift_div))
            out = self.conv2(out)
            if self.se_ratio is not None:
                out = self.se_module(out)
            out = self.conv3(self.swish(out))
            identity = x if self.downsample is None else self.downsample(x)
            return out + identity

        if self.with_cp and x.requires_grad:
            out = torch.utils.checkpoint.checkpoint(
                residual, x, use_reentrant=False)
        else:
            out = residual(x)
        return self.relu(out)


@MODELS.register_module()
class XShiftNet(X3D):
    """X-ShiftNet backbone (EPAM-Net, Table 2); see the module docstring.

    Args:
        in_channels (int): Input channels (3 for RGB, ``K`` joint heatmaps
            for pose). Defaults to 3.
        base_channels (int): Width of the first stage (and of the stem).
            Defaults to 24.
        stage_blocks (Sequence[int]): Blocks per stage; stage ``i`` has
            width ``base_channels * 2**i``. Defaults to X3D-M's
            ``(3, 5, 11, 7)``.
        gamma_b (float): Bottleneck (inner) width factor. Defaults to 2.25.
        stem_stride (int): Spatial stride of the stem. Defaults to 2 (RGB;
            1 for pose).
        spatial_strides (Sequence[int], optional): Stride of each stage's
            first block. Defaults to 2 for every stage.
        shift_div (int): Temporal shift of ``1/shift_div`` channels each
            way; 8 for RGB (1/8 + 1/8), 4 for pose (1/4 + 1/4), §4.2.
        se_style, se_ratio, use_swish, conv_cfg, norm_cfg, act_cfg,
        frozen_stages, norm_eval, with_cp, zero_init_residual, pretrained:
            as in :class:`~mmaction.models.backbones.X3D`.
        init_cfg (dict | list, optional): MMEngine init config applied after
            X3D's initialisation, e.g. ``dict(type='Pretrained',
            checkpoint=..., prefix='backbone.rgb.')`` to start a stream from
            its stage-1 model (EPAM-Net's stage 2).
        fast_inference (bool): In eval mode without gradients (testing),
            run the inference-only 2D rewrite of this network
            (:class:`~mmar_ext.models.utils.fast_inference.XShiftNet2d`:
            the same function up to float rounding, ~2.2x faster on a CPU),
            built from the current weights at the first such call and
            dropped by ``train()`` and ``load_state_dict``. Training and
            any forward with gradients use the network itself. Defaults to
            False; ``--cfg-options model.backbone.rgb.fast_inference=True
            model.backbone.pose.fast_inference=True`` for ``tools/test.py``.
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 24,
                 stage_blocks: Sequence[int] = (3, 5, 11, 7),
                 gamma_b: float = 2.25,
                 stem_stride: int = 2,
                 spatial_strides: Optional[Sequence[int]] = None,
                 shift_div: int = 8,
                 se_style: str = 'half',
                 se_ratio: Optional[float] = 1 / 16,
                 use_swish: bool = True,
                 conv_cfg: dict = dict(type='Conv3d'),
                 norm_cfg: dict = dict(type='BN3d', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU', inplace=True),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = True,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None,
                 fast_inference: bool = False) -> None:
        # X3D.__init__ derives widths and depths from its gamma factors and
        # builds at once; the attributes its methods (make_res_layer,
        # _freeze_stages, init_weights, forward, train) use are set here.
        nn.Module.__init__(self)
        stage_blocks = tuple(int(n) for n in stage_blocks)
        if spatial_strides is None:
            spatial_strides = (2, ) * len(stage_blocks)
        if len(spatial_strides) != len(stage_blocks) or not stage_blocks:
            raise ValueError(f'one spatial stride per stage: {stage_blocks} '
                             f'vs {tuple(spatial_strides)}')
        if shift_div < 2:
            raise ValueError(f'shift_div must be >= 2, got {shift_div}')
        if se_style not in ('all', 'half'):
            raise ValueError(f"se_style must be 'all' or 'half', got "
                             f'{se_style!r}')
        self.pretrained = pretrained
        self.init_cfg = init_cfg
        self.in_channels = in_channels
        self.base_channels = base_channels
        self.stage_blocks = list(stage_blocks)
        self.num_stages = len(stage_blocks)
        self.gamma_b = gamma_b
        self.stem_stride = stem_stride
        self.spatial_strides = tuple(spatial_strides)
        self.shift_div = shift_div
        self.frozen_stages = frozen_stages
        self.se_style = se_style
        self.se_ratio = se_ratio
        self.use_swish = use_swish
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.zero_init_residual = zero_init_residual
        self.block = XShiftBlock

        self._make_stem_layer()
        self.res_layers = []
        layer_inplanes = base_channels
        for i, num_blocks in enumerate(self.stage_blocks):
            width = base_channels * 2**i
            layer = self.make_res_layer(
                XShiftBlock, layer_inplanes, width, int(width * gamma_b),
                num_blocks, spatial_stride=self.spatial_strides[i],
                se_style=se_style, se_ratio=se_ratio, use_swish=use_swish,
                norm_cfg=norm_cfg, conv_cfg=conv_cfg, act_cfg=act_cfg,
                with_cp=with_cp, shift_div=shift_div)
            layer_inplanes = width
            self.add_module(f'layer{i + 1}', layer)
            self.res_layers.append(f'layer{i + 1}')
        self.conv5 = ConvModule(
            layer_inplanes,
            int(layer_inplanes * gamma_b),
            kernel_size=1,
            bias=False,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.feat_dim = int(layer_inplanes * gamma_b)
        self.fast_inference = fast_inference
        self._register_load_state_dict_pre_hook(
            lambda *args, **kwargs: self._drop_inference_net())

    def init_weights(self) -> None:
        """X3D's initialisation (Kaiming, zero-initialised residual BN, or
        ``pretrained``), then ``init_cfg``."""
        super().init_weights()
        if self.init_cfg:
            initialize(self, self.init_cfg)

    def train(self, mode: bool = True) -> 'XShiftNet':
        """X3D's ``train`` (frozen stages, ``norm_eval``), returning
        ``self`` as ``nn.Module.train`` does (X3D's returns None)."""
        super().train(mode)
        if mode:
            self._drop_inference_net()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fast_inference and not self.training \
                and not torch.is_grad_enabled():
            return self._inference_net()(x)
        return super().forward(x)

    def _inference_net(self) -> nn.Module:
        # kept out of the module tree: not a submodule, not in state_dict
        net = self.__dict__.get('_inference_net_cache')
        if net is None:
            from ..utils.fast_inference import XShiftNet2d
            net = XShiftNet2d(self)
            self.__dict__['_inference_net_cache'] = net
        return net

    def _drop_inference_net(self) -> None:
        self.__dict__.pop('_inference_net_cache', None)

    def _make_stem_layer(self) -> None:
        """``conv1``: ``1x3x3`` convolution; X3D's temporal ``conv1_t`` is
        replaced by the BatchNorm + ReLU that followed it."""
        self.conv1_s = ConvModule(
            self.in_channels,
            self.base_channels,
            kernel_size=(1, 3, 3),
            stride=(1, self.stem_stride, self.stem_stride),
            padding=(0, 1, 1),
            bias=False,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.conv1_t = nn.Identity()
