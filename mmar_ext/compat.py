"""The one place that makes the published OpenMMLab stack run today.

mmaction2 1.2.0, mmengine 0.10.7, mmcv 2.1.0, mmdet 3.3.0 and mmpose 1.3.2
were released for numpy 1 and torch 2.1. On numpy 2 and torch 2.14 several
things break before any model runs. Each breakage is fixed here exactly once,
as a small named function, and each has a test in ``tests/test_compat.py``
that fails without it. Breakages that only the installation can fix (mmcv's
C++ standard, xtcocotools' numpy ABI, mmpose's chumpy requirement) live in
``tools/setup_env.sh``. The README's "Compatibility" section lists both.

:func:`apply` is idempotent and is called by ``import mmar_ext``, which every
config triggers through ``custom_imports=dict(imports=['mmar_ext'])`` while
MMEngine loads the config -- i.e. before the runner imports
``mmaction.models``. That is why MMAction2's stock ``tools/train.py`` and
``tools/test.py`` work on our configs too.
"""
import atexit
import importlib.util
import logging
import os
import sys
import types
from typing import Callable, Dict, List

FIXES: Dict[str, Callable[[], None]] = {}
_applied: List[str] = []


def _fix(func: Callable[[], None]) -> Callable[[], None]:
    FIXES[func.__name__] = func
    return func


@_fix
def cv2_before_decord() -> None:
    """The decord 0.6.0 wheel bundles its own zlib. If ``decord`` is imported
    before ``cv2``, OpenCV's libpng binds to that zlib and *every* PNG read
    fails ("libpng error: bad parameters to zlib"; ``cv2.imread`` returns
    None) -- NTU's depth frames are PNGs, and MMAction2's ``DecordInit``
    imports decord lazily in the middle of a pipeline. Import cv2 first."""
    if 'decord' in sys.modules and 'cv2' not in sys.modules:
        logging.getLogger('mmar_ext').warning(
            'decord was imported before cv2 and mmar_ext: OpenCV may fail to '
            'read PNG files (depth frames). Import mmar_ext (or cv2) first.')
    import cv2  # noqa: F401


@_fix
def numpy_inf_alias() -> None:
    """numpy 2 removed ``np.Inf``; MMAction2's ``PoseCompact`` and
    ``MMCompact`` (``mmaction/datasets/transforms/pose_transforms.py``) still
    use it, so every pose pipeline with a compact step raises
    ``AttributeError``. Restore the alias to ``np.inf``."""
    import numpy as np
    if 'Inf' not in np.__dict__:
        np.Inf = np.inf


@_fix
def mmaction_color_jitter_hue() -> None:
    """MMAction2's ``ColorJitter.adjust_hue`` adds a possibly negative Python
    int to a uint8 hue channel. numpy 1 promoted that to int16; numpy 2 keeps
    uint8 and raises ``OverflowError`` -- on about half of all random draws,
    so any RGB pipeline with colour jitter crashes. Do the addition in int16,
    which is what the code computed under numpy 1."""
    import cv2
    import numpy as np
    from mmaction.datasets.transforms.processing import ColorJitter

    if getattr(ColorJitter.adjust_hue, '_mmar_ext_fixed', False):
        return

    def adjust_hue(img, factor):
        img = np.clip(img, 0, 255).astype(np.uint8)
        hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
        hue = hsv[..., 0].astype(np.int16) + int(factor * 255)
        hsv[..., 0] = hue % 180
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.float32)

    adjust_hue._mmar_ext_fixed = True
    ColorJitter.adjust_hue = staticmethod(adjust_hue)


@_fix
def mmaction_missing_drn_localizer() -> None:
    """The mmaction2 1.2.0 wheel and sdist ship ``models/localizers/__init__``
    importing ``.drn.drn`` but not the ``drn`` package itself, so
    ``import mmaction.models`` (and therefore every runner) fails with
    ``ModuleNotFoundError``. Register a stand-in module whose ``DRN`` raises a
    clear error if someone actually builds the (temporal grounding) DRN model.
    """
    name = 'mmaction.models.localizers.drn'
    if name in sys.modules:
        return
    # Look on disk: importing anything under mmaction.models would run the
    # broken __init__ this fix exists for.
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return  # mmaction2 not installed
    package_dir = list(spec.submodule_search_locations)[0]
    if os.path.isfile(os.path.join(package_dir, 'models', 'localizers',
                                   'drn', 'drn.py')):
        return  # a fixed mmaction2 release ships it

    class DRN:  # noqa: D401 - placeholder with the real name for the registry
        """Placeholder: the mmaction2 1.2.0 distribution lacks DRN's code."""

        def __init__(self, *args, **kwargs):
            raise ImportError(
                'mmaction2 1.2.0 as published on PyPI lacks '
                'mmaction/models/localizers/drn; DRN is unavailable. '
                'Install mmaction2 from its git repository to use it.')

    package = types.ModuleType(name)
    package.__path__ = []  # make it a package so '.drn.drn' resolves
    module = types.ModuleType(name + '.drn')
    module.DRN = DRN
    package.drn = module
    sys.modules[name] = package
    sys.modules[name + '.drn'] = module
    # Registered like the real one, so a DRN config fails with the message
    # above rather than "DRN is not in the registry".
    from mmaction.registry import MODELS
    MODELS.register_module('DRN', module=DRN, force=True)


def _torch_load_full(source, map_location=None):
    """``torch.load`` as torch < 2.6 did it (``weights_only=False``).

    MMEngine checkpoints hold the message hub, optimizer state and meta
    (numpy scalars, config text); torch >= 2.6 refuses them by default.
    Only checkpoints the user names in a config or on the command line reach
    this function, exactly as with MMEngine on older torch.
    """
    import torch
    return torch.load(source, map_location=map_location, weights_only=False)


@_fix
def mmengine_checkpoint_weights_only() -> None:
    """torch >= 2.6 defaults ``torch.load(weights_only=True)``; MMEngine 0.10.7
    calls ``torch.load(filename, map_location)`` for local and http(s)
    checkpoints, so ``tools/test.py CONFIG CKPT``, ``--resume`` and ``load_from``
    fail with ``UnpicklingError`` on MMEngine's own checkpoints. Re-register
    MMEngine's loaders for those schemes (its documented extension point,
    ``CheckpointLoader.register_scheme``) with ``weights_only=False``."""
    import os.path as osp

    import torch
    from mmengine.dist import get_dist_info
    from mmengine.runner import checkpoint as ckpt

    if getattr(ckpt.load_from_local, '_mmar_ext_fixed', False):
        return

    def load_from_local(filename, map_location=None):
        filename = osp.expanduser(filename)
        if not osp.isfile(filename):
            raise FileNotFoundError(f'{filename} can not be found.')
        return _torch_load_full(filename, map_location)

    def load_from_http(filename, map_location=None, model_dir=None,
                       progress=os.isatty(0)):
        # Rank 0 downloads first; the others then read the cached file.
        rank, world_size = get_dist_info()

        def fetch():
            return torch.hub.load_state_dict_from_url(
                filename, model_dir=model_dir, map_location=map_location,
                progress=progress, weights_only=False)

        if rank == 0:
            checkpoint = fetch()
        if world_size > 1:
            torch.distributed.barrier()
            if rank > 0:
                checkpoint = fetch()
        return checkpoint

    for func in (load_from_local, load_from_http):
        func._mmar_ext_fixed = True
    ckpt.CheckpointLoader.register_scheme('', load_from_local, force=True)
    ckpt.CheckpointLoader.register_scheme(('http://', 'https://'),
                                          load_from_http, force=True)
    # load_from_torchvision / open-mmlab:// call the module-level name.
    ckpt.load_from_local = load_from_local
    ckpt.load_from_http = load_from_http


def destroy_process_group_at_exit() -> None:
    """Waits for every rank (at most a minute: a crashed rank must not hang
    the others), then destroys the default process group, so that no rank
    tears its connections down while another still talks to it."""
    import datetime

    import torch.distributed as torch_dist
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return
    try:
        torch_dist.monitored_barrier(timeout=datetime.timedelta(seconds=60))
    except Exception:  # a rank is gone: nothing left to wait for
        pass
    torch_dist.destroy_process_group()


@_fix
def mmengine_cpu_distributed() -> None:
    """MMEngine's ``init_dist('pytorch')`` calls ``torch.cuda.set_device`` and
    the runner wraps DDP with ``device_ids=[LOCAL_RANK]``; both fail on a
    machine without CUDA, so ``tools/dist_train.sh`` cannot even be tried on
    a CPU box. Without CUDA: use the gloo backend (NCCL needs GPUs) and no
    ``device_ids``. With CUDA nothing changes.

    MMEngine never destroys the process group, and ranks leave at different
    times; on gloo a process then now and then aborts at exit ("terminate
    called without an active exception", SIGABRT after the last
    validation). At exit the ranks now wait for each other and destroy the
    gloo group."""
    import torch
    import torch.distributed as torch_dist
    from mmengine.dist import utils as dist_utils
    from mmengine.model import MMDistributedDataParallel

    original_init = dist_utils._init_dist_pytorch
    if getattr(original_init, '_mmar_ext_fixed', False):
        return

    def _init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            return original_init(backend, init_backend=init_backend, **kwargs)
        if backend != 'gloo':
            logging.getLogger('mmar_ext').warning(
                'No CUDA device: using the gloo backend instead of %s.',
                backend)
        torch_dist.init_process_group(backend='gloo', **kwargs)
        atexit.register(destroy_process_group_at_exit)

    _init_dist_pytorch._mmar_ext_fixed = True
    dist_utils._init_dist_pytorch = _init_dist_pytorch

    original_ddp_init = MMDistributedDataParallel.__init__

    def ddp_init(self, module, *args, **kwargs):
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        if on_cpu:
            kwargs['device_ids'] = None
        original_ddp_init(self, module, *args, **kwargs)

    MMDistributedDataParallel.__init__ = ddp_init


def apply() -> List[str]:
    """Apply every fix once; return the names applied in this process."""
    for name, fix in FIXES.items():
        if name not in _applied:
            fix()
            _applied.append(name)
    return list(_applied)
