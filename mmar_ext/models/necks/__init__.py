from .pose_driven_attention import (NestingSTAttentionMap, NSTAttentionMap,
                                    PoseDrivenAttention)

__all__ = ['NestingSTAttentionMap', 'NSTAttentionMap', 'PoseDrivenAttention']
