"""Models of mmar_ext, registered into ``mmaction.registry.MODELS``.

* ``common``: the pre-LN transformer token encoder (paper 001 eqs. (2)-(4)).
* ``backbones``: ``SpaceTimeEncoder`` (eqs. (1)-(4)), ``ModalityEncoders``,
  ``XShiftNet`` (seed 002, Table 2).
* ``necks``: EPAM-Net's pose-driven spatial-temporal attention (seed 002).
* ``heads``: sum / concat / transformer fusion heads (§2.3, Table 4).
* ``recognizers``: ``MultiModalRecognizer``.
* :mod:`.graph_layouts`: MMAction2's ``Graph`` (ST-GCN & co.) also accepts
  the layouts of :mod:`mmar_ext.datasets.skeleton_layouts` by name.
"""
from .backbones import *  # noqa: F401,F403
from .common import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .recognizers import *  # noqa: F401,F403
from .graph_layouts import extend_mmaction_graph

extend_mmaction_graph()
