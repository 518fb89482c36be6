"""Multi-modal datasets and transforms (in MMAction2's registries)."""
from .multimodal_dataset import MultiModalActionDataset
from .transforms import (DepthToJet, ModalityTransforms, MultiModalDecode,
                         MultiModalSampleFrames, PackMultiModalInputs)

__all__ = [
    'MultiModalActionDataset', 'MultiModalSampleFrames', 'MultiModalDecode',
    'DepthToJet', 'ModalityTransforms', 'PackMultiModalInputs'
]
