"""MMEngine hooks of mmar_ext (registered into ``mmaction.registry.HOOKS``)."""
from .random_states_hook import RandomStatesHook

__all__ = ['RandomStatesHook']
