"""mmar_ext: multi-modal human action recognition for MMAction2.

Importing this package (directly, or through a config's
``custom_imports=dict(imports=['mmar_ext'])``) first applies the
compatibility fixes of :mod:`mmar_ext.compat` and then registers every
model, transform, dataset, hook and metric into MMAction2's registries.
"""
from . import compat  # noqa: F401  (must run before anything imports mmaction)

compat.apply()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402,F401
