from .action_mae import ActionMAE
from .cross_modality_encoding import CrossModalityFeatureEncoding
from .joint_spatial_weights import JointSpatialWeights
from .m_mixer import MMixer
from .m_mixer_substitutes import (GRUFusion, RecurrentSequenceEncoder,
                                  TransformerFusion,
                                  TransformerSequenceEncoder)
from .modality_context_unit import ModalityContextUnit
from .multimodal_feature_bank import MultiModalFeatureBank
from .pose_driven_attention import (NestingSTAttentionMap, NSTAttentionMap,
                                    PoseDrivenAttention)

__all__ = [
    'ActionMAE', 'CrossModalityFeatureEncoding', 'GRUFusion',
    'JointSpatialWeights', 'MMixer',
    'ModalityContextUnit', 'MultiModalFeatureBank', 'NestingSTAttentionMap',
    'NSTAttentionMap', 'PoseDrivenAttention', 'RecurrentSequenceEncoder',
    'TransformerFusion', 'TransformerSequenceEncoder'
]
