"""Multi-modal data transforms, registered in MMAction2's ``TRANSFORMS``."""
from .color import DepthToJet, frames_to_jet, jet_lut
from .decoding import MultiModalDecode
from .formatting import PackMultiModalInputs
from .heatmap import JointCoordinates
from .modality import ModalityTransforms
from .pose import (JointHeatmaps, PoseHeatmapVolume, SkeletonBoxCrop,
                   SkeletonROIMosaic)
from .sampling import MultiModalSampleFrames
from .skeleton_input import FixedLengthSkeleton, GCNSkeletonInput

__all__ = [
    'DepthToJet', 'FixedLengthSkeleton', 'GCNSkeletonInput', 'JointCoordinates',
    'JointHeatmaps', 'ModalityTransforms', 'MultiModalDecode',
    'MultiModalSampleFrames', 'PackMultiModalInputs', 'PoseHeatmapVolume',
    'SkeletonBoxCrop', 'SkeletonROIMosaic', 'frames_to_jet', 'jet_lut'
]
