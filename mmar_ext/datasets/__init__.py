"""Multi-modal datasets and transforms (in MMAction2's registries)."""
from .multimodal_dataset import MultiModalActionDataset
from .skeleton_layouts import (SkeletonLayout, get_layout, layout_names,
                               register_layout)
from .transforms import (DepthToJet, ModalityTransforms, MultiModalDecode,
                         MultiModalSampleFrames, PackMultiModalInputs)

__all__ = [
    'MultiModalActionDataset', 'MultiModalSampleFrames', 'MultiModalDecode',
    'DepthToJet', 'ModalityTransforms', 'PackMultiModalInputs',
    'SkeletonLayout', 'get_layout', 'layout_names', 'register_layout'
]
