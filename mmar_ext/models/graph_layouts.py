"""MMAction2's skeleton ``Graph`` on every registered skeleton layout.

``mmaction.models.utils.Graph`` (built by ``STGCN`` and ``AAGCN`` from their
``graph_cfg``) takes ``layout='openpose'``, ``'nturgb+d'``, ``'coco'`` or a
dict ``dict(num_node=..., inward=[(i, j), ...], center=...)``; any other
name fails its assertion. :func:`extend_mmaction_graph` (run by ``import
mmar_ext``, i.e. by every config's ``custom_imports``) wraps
``Graph.__init__`` so that the name of a layout of
:mod:`mmar_ext.datasets.skeleton_layouts` (``'kinect_v1_20'``,
``'uwa3d15'``, ``'lcrnet13'``, ``'pennaction13'``, ``'ntu25'``,
``'coco17'``, ``'openpose18'`` or one added with ``register_layout``) is
turned into that dict
(:func:`~mmar_ext.datasets.skeleton_layouts.graph_layout`) before
MMAction2's own code runs, e.g. ``backbone=dict(type='STGCN',
graph_cfg=dict(layout='kinect_v1_20', mode='stgcn_spatial'))``. MMAction2's
names and dicts reach the original ``__init__`` unchanged, so existing
models build exactly as before; ``ntu25`` / ``coco17`` / ``openpose18`` give
the same adjacency as ``'nturgb+d'`` / ``'coco'`` / ``'openpose'``. The
graph keeps the name in ``graph.layout``.
"""
from ..datasets.skeleton_layouts import graph_layout, layout_names

#: Layout names MMAction2's ``Graph`` knows itself (1.2.0: the first three;
#: later versions add ``'coco-hand'``): passed through untouched.
MMACTION_LAYOUTS = ('openpose', 'nturgb+d', 'coco', 'coco-hand')


def extend_mmaction_graph() -> None:
    """Teach ``mmaction.models.utils.Graph`` the registered skeleton layout
    names. Idempotent."""
    from mmaction.models.utils.graph import Graph
    original_init = Graph.__init__
    if getattr(original_init, '_mmar_ext_layouts', False):
        return

    def __init__(self, layout='coco', mode='spatial', max_hop=1):
        name = None
        if isinstance(layout, str) and layout not in MMACTION_LAYOUTS:
            if layout not in layout_names():
                raise ValueError(
                    f'unknown graph layout {layout!r}; MMAction2 layouts: '
                    f'{", ".join(MMACTION_LAYOUTS)}; skeleton layouts: '
                    f'{", ".join(layout_names())}; or a dict(num_node, '
                    'inward, center)')
            name, layout = layout, graph_layout(layout)
        original_init(self, layout=layout, mode=mode, max_hop=max_hop)
        if name is not None:
            self.layout = name

    __init__._mmar_ext_layouts = True
    __init__.__doc__ = original_init.__doc__
    __init__.__wrapped__ = original_init
    Graph.__init__ = __init__
