from .action_mae import ActionMAE
from .pose_driven_attention import (NestingSTAttentionMap, NSTAttentionMap,
                                    PoseDrivenAttention)

__all__ = [
    'ActionMAE', 'NestingSTAttentionMap', 'NSTAttentionMap',
    'PoseDrivenAttention'
]
