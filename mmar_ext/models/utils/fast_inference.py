"""Inference-only ``XShiftNet``: 2D convolutions over ``[N*T, C, H, W]``.

Every convolution of :class:`~mmar_ext.models.backbones.XShiftNet` has a
``1 x k x k`` kernel (X-ShiftNet, seed 002 §3.1: "replacing all 3D
convolutions with 2D convolutions"); the trained model keeps them as
``Conv3d`` on ``[N, C, T, H, W]`` so that it stays an X3D in MMAction2's
sense (checkpoints, ``init_cfg``, freezing). On a CPU, oneDNN runs the same
arithmetic faster as ``Conv2d`` on the frames stacked into the batch, and
faster still in channels-last layout with each BatchNorm folded into the
convolution before it. :class:`XShiftNet2d` is that rewrite of a trained
(eval-mode) ``XShiftNet``; :func:`convert_x_shiftnet` swaps it in for every
``XShiftNet`` of a model (e.g. both streams of EPAM-Net)::

    from mmar_ext.models.utils.fast_inference import convert_x_shiftnet
    fast = convert_x_shiftnet(model)          # a converted deep copy
    with torch.inference_mode():
        scores = fast(inputs, mode='tensor', stage='head')

What changes, all of it exact up to float rounding (tested against the
original to ``1e-4`` relative):

* ``Conv3d(1xkxk)`` -> ``Conv2d(kxk)`` (weights ``w[:, :, 0]``), BN3d folded
  into the preceding convolution (``fold_bn=True``) or kept as BN2d;
* the zero-padded temporal shift (:func:`~mmar_ext.models.backbones.
  temporal_shift`) on the ``[N, T, ...]`` view of the batch, allocating
  the output without zero-filling it first;
* squeeze-excitation pools over ``T x H x W`` of each clip, as X3D's
  ``AdaptiveAvgPool3d(1)`` (not per frame), its ``1x1x1`` convolutions are
  ``Linear``;
* ``Swish`` (``x * sigmoid(x)``) is ``F.silu``, ReLU runs in place;
* a block whose expanded tensor would exceed :data:`MAX_EXPANSION_BYTES`
  expands its frames in chunks (the expansion is frame-wise), which keeps
  every allocation small enough for glibc to reuse;
* input and output stay ``[N, C, T, H, W]``: one layout change at each
  end of the stream.

The result is for inference only: no gradients, no BatchNorm statistics,
no ``train()`` semantics (``train(True)`` raises).
"""
import copy
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule

from ..backbones.x_shiftnet import XShiftBlock, XShiftNet


def conv_module_to_2d(module: ConvModule, fold_bn: bool = True
                      ) -> nn.Sequential:
    """``Conv2d`` (+ ``BatchNorm2d`` unless folded) of a ``ConvModule``
    whose ``Conv3d`` has a temporal kernel, stride and padding of 1, 1, 0.
    The activation is not included (:class:`XShiftNet2d` applies it)."""
    conv = module.conv
    if not isinstance(conv, nn.Conv3d):
        raise TypeError(f'expected a Conv3d, got {type(conv).__name__}')
    if (conv.kernel_size[0], conv.stride[0], conv.padding[0],
            conv.dilation[0]) != (1, 1, 0, 1) or \
            conv.padding_mode != 'zeros':
        raise ValueError(f'{conv} is not a frame-wise (1xkxk) convolution')
    if module.order[:2] != ('conv', 'norm') and module.with_norm:
        raise ValueError(f'unsupported ConvModule order {module.order}')
    conv2d = nn.Conv2d(
        conv.in_channels, conv.out_channels, conv.kernel_size[1:],
        stride=conv.stride[1:], padding=conv.padding[1:],
        dilation=conv.dilation[1:], groups=conv.groups,
        bias=conv.bias is not None)
    with torch.no_grad():
        conv2d.weight.copy_(conv.weight[:, :, 0])
        if conv.bias is not None:
            conv2d.bias.copy_(conv.bias)
    if not module.with_norm:
        return nn.Sequential(conv2d)
    bn = module.norm
    bn2d = nn.BatchNorm2d(bn.num_features, eps=bn.eps, affine=bn.affine)
    bn2d.load_state_dict(bn.state_dict())
    bn2d.eval()
    if fold_bn:
        return nn.Sequential(
            torch.nn.utils.fusion.fuse_conv_bn_eval(conv2d.eval(), bn2d))
    return nn.Sequential(conv2d, bn2d)


def frame_conv(seq: nn.Sequential, x: torch.Tensor,
               chunked: bool = False) -> torch.Tensor:
    """``seq(x)`` (a :func:`conv_module_to_2d` result). For a chunk of
    frames (``chunked``) on a CPU the convolution is oneDNN's: PyTorch
    sends an unstrided 1x1 convolution of fewer than 16 images to its
    slow reference kernel when single-threaded."""
    conv = seq[0]
    if chunked and x.device.type == 'cpu' and x.dtype == torch.float32 \
            and torch.backends.mkldnn.is_available():
        out = torch.mkldnn_convolution(x, conv.weight, conv.bias,
                                       conv.padding, conv.stride,
                                       conv.dilation, conv.groups)
    else:
        out = conv(x)
    for module in seq[1:]:
        out = module(out)
    return out


def _activation(module: Optional[nn.Module]):
    """In-place ReLU for ``nn.ReLU``, the module itself otherwise."""
    if module is None:
        return None
    if isinstance(module, nn.ReLU):
        return nn.ReLU(inplace=True)
    return copy.deepcopy(module)


def shift_frames(x: torch.Tensor, num_frames: int,
                 shift_div: int) -> torch.Tensor:
    """:func:`temporal_shift` of a frame batch ``[N*T, C, H, W]`` (any
    memory format; the output has the input's)."""
    nt, c, h, w = x.shape
    n = nt // num_frames
    fold = c // shift_div
    x5 = x.view(n, num_frames, c, h, w)
    out = torch.empty_like(x5)
    out[:, :-1, :fold] = x5[:, 1:, :fold]
    out[:, -1:, :fold] = 0
    out[:, 1:, fold:2 * fold] = x5[:, :-1, fold:2 * fold]
    out[:, :1, fold:2 * fold] = 0
    out[:, :, 2 * fold:] = x5[:, :, 2 * fold:]
    return out.view(nt, c, h, w)


class SqueezeExcite2d(nn.Module):
    """X3D's ``SEModule`` on a frame batch: pooled over the clip's
    ``T x H x W`` (as ``AdaptiveAvgPool3d(1)``), one weight per channel and
    clip."""

    def __init__(self, se) -> None:
        super().__init__()
        self.fc1 = nn.Linear(se.fc1.in_channels, se.fc1.out_channels)
        self.fc2 = nn.Linear(se.fc2.in_channels, se.fc2.out_channels)
        with torch.no_grad():
            for lin, conv in ((self.fc1, se.fc1), (self.fc2, se.fc2)):
                lin.weight.copy_(conv.weight.flatten(1))
                lin.bias.copy_(conv.bias)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        """Scales ``x`` in place (it is the fresh output of a conv)."""
        nt, c, h, w = x.shape
        n = nt // num_frames
        if x.is_contiguous(memory_format=torch.channels_last):
            # memory [N*T, H, W, C]: a reduction over contiguous rows
            s = x.permute(0, 2, 3, 1).reshape(n, -1, c).mean(1)
        else:
            s = x.view(n, num_frames, c, h, w).mean((1, 3, 4))
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(s))))
        x.view(n, num_frames, c, h, w).mul_(s[:, None, :, None, None])
        return x


#: Largest intermediate tensor (bytes) the expansion of a block allocates at
#: once; above it ``conv1 -> act -> conv2`` run on chunks of frames. glibc
#: serves allocations over 32 MiB with fresh ``mmap`` pages, which cost a
#: page fault each on every call (about 0.5 ms per MiB measured on the
#: 2-core test machine: the 43 MiB expansion of the RGB stream's first
#: block took as long again to allocate as to compute); smaller blocks are
#: reused from the heap, and chunks stay in cache between ``conv1`` and
#: the depthwise ``conv2``. 6-24 MiB measured alike (EPAM-Net: 8% faster
#: than unchunked, one thread).
MAX_EXPANSION_BYTES = 12 << 20


class XShiftBlock2d(nn.Module):
    """:class:`XShiftBlock` on a frame batch."""

    def __init__(self, block: XShiftBlock, fold_bn: bool = True,
                 max_expansion_bytes: Optional[int] = MAX_EXPANSION_BYTES
                 ) -> None:
        super().__init__()
        self.max_expansion_bytes = max_expansion_bytes
        self.planes = block.planes
        if not block.use_swish:
            raise ValueError('XShiftBlock2d expects use_swish=True')
        self.shift_div = block.shift_div
        self.conv1 = conv_module_to_2d(block.conv1, fold_bn)
        self.act1 = _activation(block.conv1.activate
                                if block.conv1.with_activation else None)
        self.conv2 = conv_module_to_2d(block.conv2, fold_bn)
        if block.conv2.with_activation:
            raise ValueError('the depthwise conv of an XShiftBlock has no '
                             'activation')
        self.se = (SqueezeExcite2d(block.se_module)
                   if block.se_ratio is not None else None)
        self.conv3 = conv_module_to_2d(block.conv3, fold_bn)
        if block.conv3.with_activation:
            raise ValueError('conv3 of an XShiftBlock has no activation')
        self.downsample = (None if block.downsample is None else
                           conv_module_to_2d(block.downsample, fold_bn))
        self.act = _activation(block.relu)

    def expand(self, x: torch.Tensor, chunked: bool = False
               ) -> torch.Tensor:
        """``conv2(act1(conv1(x)))``: frame-wise, so any split of the
        frame batch gives the same result. ``chunked``: ``x`` is a chunk
        of the frames (see :func:`frame_conv`)."""
        out = frame_conv(self.conv1, x, chunked)
        if self.act1 is not None:
            out = self.act1(out)
        return frame_conv(self.conv2, out, chunked)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        shifted = shift_frames(x, num_frames, self.shift_div)
        nt, _, h, w = x.shape
        size = nt * self.planes * h * w * x.element_size()
        if self.max_expansion_bytes and size > self.max_expansion_bytes:
            chunks = -(-size // self.max_expansion_bytes)
            step = -(-nt // chunks)
            out = torch.cat([self.expand(shifted[i:i + step], True)
                             for i in range(0, nt, step)])
        else:
            out = self.expand(shifted)
        del shifted
        if self.se is not None:
            out = self.se(out, num_frames)
        out = self.conv3(F.silu(out, inplace=True))
        identity = x if self.downsample is None else self.downsample(x)
        out += identity
        return self.act(out)


class XShiftNet2d(nn.Module):
    """Inference-only rewrite of an eval-mode :class:`XShiftNet`.

    Args:
        net (XShiftNet): The trained stream; its BatchNorm statistics are
            used (``eval()`` semantics), its weights copied.
        fold_bn (bool): Fold each BatchNorm into its convolution.
            Defaults to True.
        channels_last (bool): Run the frames in channels-last layout.
            Defaults to True.
        max_expansion_bytes (int, optional): Run a block's expansion
            (``conv1 -> act -> conv2``) on chunks of frames when its
            ``conv1`` output would exceed this many bytes
            (:data:`MAX_EXPANSION_BYTES`); None: never.
    """

    def __init__(self, net: XShiftNet, fold_bn: bool = True,
                 channels_last: bool = True,
                 max_expansion_bytes: Optional[int] = MAX_EXPANSION_BYTES
                 ) -> None:
        super().__init__()
        if not isinstance(net.conv1_t, nn.Identity):
            raise ValueError('XShiftNet2d expects no temporal stem conv')
        self.channels_last = channels_last
        self.stem = conv_module_to_2d(net.conv1_s, fold_bn)
        self.stem_act = _activation(net.conv1_s.activate if
                                    net.conv1_s.with_activation else None)
        blocks = []
        for name in net.res_layers:
            for block in getattr(net, name):
                if not isinstance(block, XShiftBlock):
                    raise TypeError(f'unexpected block {type(block)}')
                blocks.append(
                    XShiftBlock2d(block, fold_bn, max_expansion_bytes))
        self.blocks = nn.ModuleList(blocks)
        self.conv5 = conv_module_to_2d(net.conv5, fold_bn)
        self.conv5_act = _activation(net.conv5.activate if
                                     net.conv5.with_activation else None)
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True):
        if mode:
            raise RuntimeError('XShiftNet2d is inference-only; train the '
                               'XShiftNet it was converted from')
        return super().train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, C, T, H, W]`` -> ``[N, C', T, H', W']``, as ``XShiftNet``."""
        n, c, t, h, w = x.shape
        if self.channels_last:
            # [N, T, H, W, C] memory == channels-last [N*T, C, H, W]
            x = x.permute(0, 2, 3, 4, 1).contiguous().view(
                n * t, h, w, c).permute(0, 3, 1, 2)
        else:
            x = x.transpose(1, 2).reshape(n * t, c, h, w)
        x = self.stem(x)
        if self.stem_act is not None:
            x = self.stem_act(x)
        for block in self.blocks:
            x = block(x, t)
        x = self.conv5(x)
        if self.conv5_act is not None:
            x = self.conv5_act(x)
        _, c, h, w = x.shape
        return x.view(n, t, c, h, w).transpose(1, 2).contiguous()


def convert_x_shiftnet(model: nn.Module, fold_bn: bool = True,
                       channels_last: bool = True,
                       inplace: bool = False,
                       max_expansion_bytes: Optional[int] =
                       MAX_EXPANSION_BYTES) -> nn.Module:
    """``model`` (a copy unless ``inplace``) in eval mode with every
    :class:`XShiftNet` submodule replaced by its :class:`XShiftNet2d`
    (options as there). A bare ``XShiftNet`` is converted and returned."""
    if isinstance(model, XShiftNet):
        return XShiftNet2d(model.eval(), fold_bn, channels_last,
                           max_expansion_bytes)
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    targets = [(name, m) for name, m in model.named_modules()
               if isinstance(m, XShiftNet)]
    if not targets:
        raise ValueError('the model has no XShiftNet to convert')
    for name, net in targets:
        parent_name, _, attr = name.rpartition('.')
        parent = model.get_submodule(parent_name) if parent_name else model
        fast = XShiftNet2d(net, fold_bn, channels_last, max_expansion_bytes)
        if isinstance(parent, (nn.ModuleDict, nn.ModuleList)):
            parent[attr if isinstance(parent, nn.ModuleDict) else int(attr)
                   ] = fast
        else:
            setattr(parent, attr, fast)
    return model
