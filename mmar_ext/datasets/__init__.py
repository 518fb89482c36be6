"""Multi-modal datasets and transforms (in MMAction2's registries)."""
from .multimodal_dataset import MultiModalActionDataset
from .transforms import (DepthToJet, ModalityTransforms, MultiModalDecode,
                         MultiModalSampleFrames)

__all__ = [
    'MultiModalActionDataset', 'MultiModalSampleFrames', 'MultiModalDecode',
    'DepthToJet', 'ModalityTransforms'
]
