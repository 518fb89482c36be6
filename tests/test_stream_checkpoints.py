"""``MultiModalRecognizer(stream_checkpoints=...)``: each stream (backbone
and its classifier) of a two-stream EPAM-Net from its own stage-1
checkpoint, the neck fresh; a checkpoint of the wrong stream fails loudly.

Small models: the synthetic EPAM-Net (``configs/_base_/epam_net_synth.py``,
X-ShiftNets at a third of the paper's width)."""
import copy
import os.path as osp

import pytest
import torch
from mmengine import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

import mmar_ext  # noqa: F401  (registration)
from mmaction.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODEL = Config.fromfile(osp.join(ROOT, 'configs/_base_/epam_net_synth.py')).model
STREAMS = ('rgb', 'pose')


def build(seed=0, init=True, **overrides):
    """The two-stream model (or a stage-1 one with ``modalities=...,
    neck=None``), initialised under ``seed`` unless ``init=False``."""
    init_default_scope('mmaction')
    cfg = Config(dict(model=copy.deepcopy(MODEL)))
    cfg.merge_from_dict(dict(model=overrides))
    torch.manual_seed(seed)  # construction and initialisation draw from it
    model = MODELS.build(cfg.model)
    if init:
        model.init_weights()
    return model


@pytest.fixture(scope='module')
def stage1(tmp_path_factory):
    """Stage-1-like checkpoints of each stream, ``{'state_dict': ...}``,
    with every tensor (BN statistics too) unlike a fresh initialisation."""
    tmp = tmp_path_factory.mktemp('stage1')
    out = {}
    for i, m in enumerate(STREAMS):
        model = build(seed=10 + i, modalities=(m, ), neck=None)
        with torch.no_grad():
            for name, t in model.state_dict().items():
                if t.is_floating_point():
                    t.uniform_(0.5, 1.5)
                else:
                    t.fill_(7)  # num_batches_tracked
        state = {k: v.clone() for k, v in model.state_dict().items()}
        assert not any(k.startswith('neck.') for k in state)
        path = str(tmp / f'{m}.pth')
        torch.save(dict(state_dict=state, meta=dict(epoch=1)), path)
        out[m] = dict(path=path, state=state)
    return out


def read_log(name, tmp_path, fn):
    """Run ``fn`` with a fresh current MMLogger; return its log file."""
    log_file = tmp_path / f'{name}.log'
    MMLogger.get_instance(name, log_file=str(log_file))
    fn()
    return log_file.read_text()


def test_loads_each_stream_exactly_and_leaves_the_neck(stage1, tmp_path):
    paths = {m: stage1[m]['path'] for m in STREAMS}
    fresh = build(seed=0).state_dict()
    model = build(seed=0, init=False, stream_checkpoints=paths)
    log = read_log('stream_ckpt_exact', tmp_path, model.init_weights)
    state = model.state_dict()
    for m in STREAMS:
        keys = [
            k for k in state
            if k.startswith(f'backbone.{m}.') or k.startswith(
                f'cls_head.fc_cls.{m}.')
        ]
        assert len(keys) > 100
        assert f'cls_head.fc_cls.{m}.weight' in keys
        for k in keys:
            assert torch.equal(state[k], stage1[m]['state'][k]), k
        # one line per stream: counts and the file
        head = sum(k.startswith('cls_head.') for k in keys)
        assert (f'{m} stream: loaded {len(keys) - head} backbone.{m}.* and '
                f'{head} cls_head tensors from {paths[m]}') in log, log
    neck = [k for k in state if k.startswith('neck.')]
    assert neck
    for k in neck:  # the neck's own initialisation, as without checkpoints
        assert torch.equal(state[k], fresh[k]), k
    assert set(state) == {k for m in STREAMS for k in stage1[m]['state']
                          } | set(neck)


def test_wrong_stream_checkpoint_raises_naming_the_file(stage1):
    pose = stage1['pose']['path']
    with pytest.raises(ValueError) as err:
        build(stream_checkpoints=dict(rgb=pose))
    msg = str(err.value)
    assert pose in msg and "'rgb'" in msg and 'backbone.rgb.' in msg, msg


def test_classifier_shape_mismatch_raises(stage1, tmp_path):
    """A stage-1 model of another class count: the backbone fits, the FC
    does not."""
    other = build(seed=3, modalities=('rgb', ), neck=None,
                  cls_head=dict(num_classes=5))
    path = str(tmp_path / 'rgb_5_classes.pth')
    torch.save(dict(state_dict=other.state_dict()), path)
    with pytest.raises(ValueError) as err:
        build(seed=0, stream_checkpoints=dict(rgb=path))
    msg = str(err.value)
    assert path in msg and 'cls_head.fc_cls.rgb.weight' in msg, msg


def test_unknown_modality_raises_at_construction(stage1):
    init_default_scope('mmaction')
    cfg = copy.deepcopy(MODEL)
    cfg.stream_checkpoints = dict(depth=stage1['rgb']['path'])
    with pytest.raises(ValueError, match='depth'):
        MODELS.build(cfg)


def test_module_prefix_and_bare_state_dict(stage1, tmp_path):
    """A DDP-saved state dict (``module.`` keys), not wrapped in
    ``{'state_dict': ...}``; a ``None`` entry leaves that stream as
    initialised."""
    state = stage1['pose']['state']
    path = str(tmp_path / 'pose_ddp.pth')
    torch.save({f'module.{k}': v for k, v in state.items()}, path)
    fresh = build(seed=0).state_dict()
    model = build(seed=0, stream_checkpoints=dict(rgb=None, pose=path))
    loaded = model.state_dict()
    for k, v in state.items():
        assert torch.equal(loaded[k], v), k
    for k in loaded:
        if k.startswith('backbone.rgb.') or k.startswith('cls_head.fc_cls.rgb'):
            assert torch.equal(loaded[k], fresh[k]), k
