from .fusion_heads import (BaseFusionHead, ConcatFusionHead, SumFusionHead,
                           TransformerFusionHead)

__all__ = [
    'BaseFusionHead', 'SumFusionHead', 'ConcatFusionHead',
    'TransformerFusionHead'
]
