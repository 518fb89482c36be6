"""One encoder per modality, applied to a dict of modality tensors."""
from typing import Dict

import torch
from mmengine.model import ModuleDict

from mmaction.registry import MODELS


@MODELS.register_module()
class ModalityEncoders(ModuleDict):
    """A dict of modality-specific encoders (``E^m`` of paper 001, eq. (1)).

    Args:
        encoders (dict): ``{modality: encoder config}``, e.g.
            ``dict(rgb=dict(type='SpaceTimeEncoder', ...), depth=...)``.
            The key order is the canonical modality order.
        init_cfg (dict, optional): MMEngine init config.

    ``forward({m: x_m})`` runs only the encoders whose modality is in the
    input dict and returns ``{m: E^m(x_m)}`` in canonical order, so absent
    modalities cost nothing (missing-modality inference, Table 4).
    """

    def __init__(self, encoders: dict, init_cfg=None) -> None:
        if not encoders:
            raise ValueError('at least one modality encoder is required')
        super().__init__(
            {m: MODELS.build(dict(cfg))
             for m, cfg in encoders.items()},
            init_cfg=init_cfg)

    @property
    def modalities(self) -> tuple:
        """Modality names in canonical (config) order."""
        return tuple(self.keys())

    def forward(self, inputs: Dict[str, torch.Tensor]) -> Dict:
        unknown = set(inputs) - set(self.keys())
        if unknown:
            raise KeyError(f'no encoder for modalities {sorted(unknown)}; '
                           f'known: {self.modalities}')
        return {m: self[m](inputs[m]) for m in self.keys() if m in inputs}


#: The identity as a modality's encoder: the neck reads the input as it is --
#: e.g. the joint coordinates that the 3D deformable transformer's joint
#: tokenizer (paper 004, eq. 1) pools from the RGB feature maps.
MODELS.register_module(name='PassThroughEncoder', module=torch.nn.Identity)
