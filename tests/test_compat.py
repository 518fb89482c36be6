"""Each fix of mmar_ext.compat (and of tools/setup_env.sh) has a test here.

The ``*_upstream_still_broken`` tests run the same action in a fresh
interpreter *without* ``import mmar_ext`` and assert that it fails: they show
the fix is needed (and will tell us when an upstream release makes it
obsolete). The other tests show the action works with the fix.
"""
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import mmar_ext  # noqa: F401
from mmar_ext import compat


def run_python(code: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout)


def test_all_fixes_applied():
    assert compat.apply() == list(compat.FIXES)
    assert set(compat.FIXES) == {
        'cv2_before_decord', 'numpy_inf_alias', 'mmaction_color_jitter_hue',
        'mmaction_missing_drn_localizer',
        'mmengine_checkpoint_weights_only', 'mmengine_cpu_distributed'}


# --- decord's bundled zlib breaks OpenCV's PNG reader ----------------------
PNG_AFTER_DECORD = '''
import numpy as np
{prelude}
import decord, cv2
ok = cv2.imwrite({path!r}, np.arange(12, dtype=np.uint16).reshape(3, 4))
img = cv2.imread({path!r}, cv2.IMREAD_UNCHANGED)
assert img is not None and img[2, 3] == 11, 'PNG unreadable'
'''


def test_png_after_decord_with_fix(tmp_path):
    proc = run_python(PNG_AFTER_DECORD.format(
        prelude='import mmar_ext', path=str(tmp_path / 'a.png')))
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_png_after_decord_upstream_still_broken(tmp_path):
    proc = run_python(PNG_AFTER_DECORD.format(
        prelude='', path=str(tmp_path / 'a.png')))
    assert proc.returncode != 0 and 'PNG unreadable' in proc.stderr


# --- numpy 2: np.Inf in PoseCompact / MMCompact ----------------------------
POSE_COMPACT = """
import numpy as np
{prelude}
from mmaction.datasets.transforms import PoseCompact
kp = np.random.rand(1, 4, 17, 2).astype(np.float32) * 100 + 10
out = PoseCompact(hw_ratio=1., allow_imgpad=True)(
    dict(keypoint=kp, img_shape=(200, 200)))
print(out['img_shape'])
"""


def test_pose_compact_runs_with_fix():
    from mmaction.datasets.transforms import MMCompact, PoseCompact
    kp = np.random.rand(1, 4, 17, 2).astype(np.float32) * 100 + 10
    out = PoseCompact(hw_ratio=1., allow_imgpad=True)(
        dict(keypoint=kp, img_shape=(200, 200)))
    h, w = out['img_shape']
    assert abs(h - w) <= 1  # hw_ratio=1 up to rounding
    imgs = [np.zeros((200, 200, 3), np.uint8)] * 4
    out = MMCompact(hw_ratio=1., allow_imgpad=True)(
        dict(keypoint=kp, img_shape=(200, 200), imgs=imgs))
    assert out['imgs'][0].shape[:2] == out['img_shape']


def test_pose_compact_upstream_still_broken():
    # Load compat.py alone (not the mmar_ext package, whose import applies
    # every fix) and apply only the unrelated drn fix.
    prelude = (
        'import importlib.util as u; '
        f'spec = u.spec_from_file_location("c", {compat.__file__!r}); '
        'c = u.module_from_spec(spec); spec.loader.exec_module(c); '
        'c.mmaction_missing_drn_localizer()')
    proc = run_python(POSE_COMPACT.format(prelude=prelude))
    assert proc.returncode != 0 and 'Inf' in proc.stderr, proc.stderr[-2000:]


# --- numpy 2: uint8 overflow in ColorJitter.adjust_hue ----------------------
def test_color_jitter_negative_hue_with_fix():
    from mmaction.datasets.transforms import ColorJitter
    img = (np.random.rand(8, 8, 3) * 255).astype(np.uint8)
    out = ColorJitter.adjust_hue(img, -0.3)
    assert out.shape == img.shape and out.dtype == np.float32
    # same as the int16 arithmetic numpy 1 performed
    import cv2
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) - 76) % 180
    assert np.array_equal(out, cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB))


def test_color_jitter_upstream_still_broken():
    prelude = (
        'import importlib.util as u; '
        f'spec = u.spec_from_file_location("c", {compat.__file__!r}); '
        'c = u.module_from_spec(spec); spec.loader.exec_module(c); '
        'c.mmaction_missing_drn_localizer()')
    proc = run_python(prelude + '''
import numpy as np
from mmaction.datasets.transforms import ColorJitter
ColorJitter.adjust_hue(np.full((4, 4, 3), 100, np.uint8), -0.3)
''')
    assert proc.returncode != 0 and 'OverflowError' in proc.stderr


# --- mmaction2 wheel lacks models/localizers/drn ----------------------------
def test_mmaction_models_import_with_fix():
    proc = run_python("""
        import mmar_ext
        import mmaction.models
        from mmaction.registry import MODELS
        assert MODELS.get('Recognizer3D') is not None
        try:
            MODELS.build(dict(type='DRN'))
        except ImportError as e:
            assert 'drn' in str(e).lower()
        else:
            raise SystemExit('DRN placeholder did not raise')
    """)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_mmaction_models_upstream_still_broken():
    proc = run_python('import mmaction.models')
    assert proc.returncode != 0 and 'drn' in proc.stderr, proc.stderr[-2000:]


# --- torch >= 2.6 weights_only vs MMEngine checkpoints ----------------------
def _mmengine_style_checkpoint(path):
    from mmengine.logging import MessageHub
    torch.save(
        dict(meta=dict(epoch=3, seed=np.int64(7), hist=np.arange(3)),
             state_dict=dict(w=torch.ones(2)),
             message_hub=MessageHub.get_instance('compat_test').state_dict()),
        path)


def test_checkpoint_loading_with_fix(tmp_path):
    from mmengine.runner import CheckpointLoader, load_checkpoint
    path = str(tmp_path / 'epoch_3.pth')
    _mmengine_style_checkpoint(path)
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert ckpt['meta']['epoch'] == 3
    model = torch.nn.Module()
    model.w = torch.nn.Parameter(torch.zeros(2))
    load_checkpoint(model, path, map_location='cpu')
    assert torch.equal(model.w.data, torch.ones(2))


def test_checkpoint_loading_upstream_still_broken(tmp_path):
    path = str(tmp_path / 'epoch_3.pth')
    _mmengine_style_checkpoint(path)
    proc = run_python(f"""
        from mmengine.runner import CheckpointLoader
        CheckpointLoader.load_checkpoint({path!r}, map_location='cpu')
    """)
    assert proc.returncode != 0 and 'weights_only' in proc.stderr


# --- CPU-only distributed init and DDP wrapping -----------------------------
DIST_SNIPPET = """
import os, torch
{prelude}
from mmengine.dist import init_dist, get_world_size
from mmengine.model import MMDistributedDataParallel
os.environ.update(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
                  MASTER_ADDR='127.0.0.1', MASTER_PORT='{port}')
init_dist('pytorch', backend='nccl')
assert get_world_size() == 1
ddp = MMDistributedDataParallel(module=torch.nn.Linear(2, 2), device_ids=[0])
print('OK', torch.distributed.get_backend())
"""


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only behaviour')
def test_cpu_distributed_with_fix():
    # registered first, so it runs after the fix's exit handler: MMEngine
    # leaves the gloo group alive at exit, which now and then aborts the
    # process in the group's destructor (SIGABRT)
    prelude = ('import atexit, mmar_ext\n'
               'atexit.register(lambda: print("group alive at exit:", '
               'torch.distributed.is_initialized()))')
    proc = run_python(DIST_SNIPPET.format(prelude=prelude, port=29611))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'OK gloo' in proc.stdout
    assert 'group alive at exit: False' in proc.stdout


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only behaviour')
def test_cpu_distributed_upstream_still_broken():
    proc = run_python(DIST_SNIPPET.format(prelude='', port=29612))
    assert proc.returncode != 0


# --- install-script fixes: mmcv ops, xtcocotools on numpy 2, mmpose.apis ----
def test_mmcv_compiled_ops():
    from mmcv.ops import nms, roi_align  # noqa: F401
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 60, 60]],
                         dtype=torch.float32)
    _, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)
    assert keep.tolist() == [0, 2]


def test_xtcocotools_and_mmpose_apis_import():
    proc = run_python("""
        import mmar_ext
        import numpy as np
        from xtcocotools.coco import COCO
        from xtcocotools import mask
        rle = mask.encode(np.asfortranarray(np.ones((4, 4), np.uint8)))
        assert mask.area(rle) == 16
        from mmpose.apis import inference_topdown, init_model  # noqa
        from mmdet.apis import inference_detector, init_detector  # noqa
    """)
    assert proc.returncode == 0, proc.stderr[-3000:]
