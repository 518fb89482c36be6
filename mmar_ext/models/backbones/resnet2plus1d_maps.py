"""R(2+1)D returning two of its feature maps, ``F_a`` and ``F_b`` -- the
backbone [45] of the cross-modal 3D deformable transformer (paper 004,
§3.1: ``F_a in R^{C x T x H/2 x W/2}``, ``F_b in R^{4C x T x H/8 x W/8}``).

The paper gives the two maps' shapes, not the network. We read them as
MMAction2's :class:`ResNet2Plus1d` (R(2+1)D-18 by default, ``depth=34`` a
switch; trained from scratch, Table 1) cut after its third stage, with

* the stem's spatial stride 2 and **no max-pool**, so ``layer1`` keeps
  ``H/2 x W/2``: ``F_a = layer1`` (``C = base_channels = 64``);
* stages with spatial strides ``(1, 2, 2)``: ``F_b = layer3``
  (``4C = 256`` channels, ``H/8 x W/8``) -- the "4C" of the paper is the
  ResNet width ratio of stage 3 to stage 1;
* **temporal strides 1** everywhere: ``T`` is kept, which the 3D token
  search (``k = 7`` unpadded over the 12 frames of Fig. 7b) needs.

Everything else is MMAction2's R(2+1)D recipe (``Conv2plus1d``, BN, ReLU,
no zero-init of the residual branches).
"""
from typing import Sequence, Tuple

import torch

from mmaction.models.backbones.resnet3d import ResNet3d
from mmaction.models.backbones.resnet2plus1d import ResNet2Plus1d
from mmaction.registry import MODELS


@MODELS.register_module()
class ResNet2Plus1dMaps(ResNet2Plus1d):
    """R(2+1)D, three stages, returning ``(F_a, F_b)``.

    Args:
        depth (int): 18 or 34 (any depth MMAction2's ``ResNet3d`` knows).
            Defaults to 18.
        base_channels (int): ``C``, the width of ``F_a``. Defaults to 64.
        out_indices (Sequence[int]): Stages returned (0-based). Defaults to
            ``(0, 2)``: ``F_a``, ``F_b``.
        **kwargs: Other :class:`ResNet3d` arguments.

    Shape:
        ``[N, 3, T, H, W]`` -> ``([N, C, T, H/2, W/2], [N, 4C, T, H/8,
        W/8])``.
    """

    def __init__(self,
                 depth: int = 18,
                 base_channels: int = 64,
                 out_indices: Sequence[int] = (0, 2),
                 **kwargs) -> None:
        settings = dict(
            pretrained=None, pretrained2d=False, num_stages=3,
            spatial_strides=(1, 2, 2), temporal_strides=(1, 1, 1),
            dilations=(1, 1, 1), inflate=(1, 1, 1), conv1_kernel=(3, 7, 7),
            conv1_stride_t=1, with_pool1=False, with_pool2=False,
            conv_cfg=dict(type='Conv2plus1d'), norm_cfg=dict(type='BN3d'),
            act_cfg=dict(type='ReLU', inplace=True), norm_eval=False,
            zero_init_residual=False)
        settings.update(kwargs)
        super().__init__(depth=depth, base_channels=base_channels,
                         out_indices=tuple(out_indices), **settings)
        self.out_channels = tuple(base_channels * 2**i for i in out_indices)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """``ResNet3d.forward`` (stem, optional pools, stages, outputs of
        ``out_indices``) -- ``ResNet2Plus1d.forward`` always max-pools and
        returns the last stage only."""
        outs = ResNet3d.forward(self, x)
        return outs if isinstance(outs, tuple) else (outs, )
