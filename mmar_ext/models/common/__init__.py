from .transformer import (PreNormTransformerEncoder, TokenTransformer,
                          sinusoidal_position_embedding)

__all__ = [
    'PreNormTransformerEncoder', 'TokenTransformer',
    'sinusoidal_position_embedding'
]
