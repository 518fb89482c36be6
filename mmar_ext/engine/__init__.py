"""Training-loop additions (hooks) of mmar_ext."""
from .hooks import RandomStatesHook

__all__ = ['RandomStatesHook']
