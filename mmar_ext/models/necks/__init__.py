from .action_mae import ActionMAE
from .cross_modal_deformable_transformer import (
    CrossModalDeformableTransformer, DeformableTransformerBlock)
from .cross_modality_encoding import CrossModalityFeatureEncoding
from .deformable_attention_3d import (DeformableAttention3D, TokenSearch3D,
                                      sample_3d)
from .joint_tokenizer import JointTokenizer
from .joint_spatial_weights import JointSpatialWeights
from .m_mixer import MMixer
from .m_mixer_substitutes import (GRUFusion, RecurrentSequenceEncoder,
                                  TransformerFusion,
                                  TransformerSequenceEncoder)
from .modality_context_unit import ModalityContextUnit
from .multimodal_feature_bank import MultiModalFeatureBank
from .pose_driven_attention import (NestingSTAttentionMap, NSTAttentionMap,
                                    PoseDrivenAttention)
from .stride_attention import (JointStrideAttention, TemporalStrideAttention,
                               strided_window_attention, window_starts)

__all__ = [
    'ActionMAE', 'CrossModalDeformableTransformer',
    'CrossModalityFeatureEncoding', 'DeformableAttention3D',
    'DeformableTransformerBlock', 'GRUFusion', 'JointSpatialWeights',
    'JointStrideAttention', 'JointTokenizer', 'MMixer',
    'TemporalStrideAttention', 'TokenSearch3D', 'sample_3d',
    'strided_window_attention', 'window_starts',
    'ModalityContextUnit', 'MultiModalFeatureBank', 'NestingSTAttentionMap',
    'NSTAttentionMap', 'PoseDrivenAttention', 'RecurrentSequenceEncoder',
    'TransformerFusion', 'TransformerSequenceEncoder'
]
