"""EPAM-Net's configs (issue 8 §2-§3), built and run.

Fast checks (no tool run): every ``configs/epam_net_*.py`` builds (model and
pipelines); the NTU / PKU-MMD / Toyota pipelines turn one sample of the
tiny synthetic set (its annotation given every split name those configs
use) into ``rgb_imgs`` [1, 3, 16, 224, 224] and ``pose_imgs``
[1, 17, 48, 56, 56]; the stage-1 pipelines make exactly the inputs of
stage 2; stage 2's ``stream_checkpoints`` takes each stream's backbone and
FC from its stage-1 model.

Runs, as a user would, on the tiny synthetic set of ``tests/conftest.py``
at tiny clip sizes (``--cfg-options``: 6 pose frames of 16x16, 2 RGB frames
of 64x64; both streams end at 2x2), 1 epoch each:

* the synthetic stage-1 RGB and pose configs through ``tools/train.py`` and
  ``tools/test.py --dump`` (shared by the tests below);
* stage 2 (``epam_net_synth.py``) started from those two checkpoints,
  through MMAction2's *stock* ``train.py`` / ``test.py``;
* the same through ``tools/dist_train.sh CONFIG 2`` (two CPU processes over
  gloo).
"""
import copy
import glob
import os.path as osp
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from e2e_helpers import PY, ROOT, data_options, run

import mmar_ext  # noqa: F401  (registration)
from mmengine import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmaction.registry import DATASETS, MODELS, TRANSFORMS

pytestmark = pytest.mark.timeout(900)

CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', 'epam_net_*.py')))
#: stage-2 configs of the real datasets (each has _rgb / _pose beside it)
DATASET_CONFIGS = [
    'configs/epam_net_ntu120.py', 'configs/epam_net_ntu120_xset.py',
    'configs/epam_net_ntu60_xsub.py', 'configs/epam_net_ntu60_xview.py',
    'configs/epam_net_pku_mmd_xsub.py', 'configs/epam_net_pku_mmd_xview.py',
    'configs/epam_net_toyota_cs.py', 'configs/epam_net_toyota_cv2.py'
]
#: first prefix that matches wins (Toyota CV: the 19 cross-view classes)
NUM_CLASSES = {'ntu120': 120, 'ntu60': 60, 'pku_mmd': 51, 'toyota_cv': 19,
               'toyota': 31}
#: split names of the configs that the synthetic annotation lacks
SPLIT_ALIASES = dict(xset='xsub', cs='xsub', cv2='xview')

#: tiny clips for the tool runs: 6 pose frames (RGB: every 3rd, 2 frames),
#: RGB 64x64 -> heatmaps 16x16; RGB stride 32 and pose stride 8 -> 2x2
TINY_FRAMES = dict(pose=6, rgb=2)
TINY_SIZE = 64


def load(config):
    return Config.fromfile(osp.join(ROOT, config))


def tiny_options(config):
    """``--cfg-options`` shrinking the clips of ``config``'s pipelines."""
    cfg, opts = load(config), []
    for split in ('train', 'val', 'test'):
        key = f'{split}_dataloader.dataset.pipeline'
        for i, step in enumerate(cfg[f'{split}_dataloader'].dataset.pipeline):
            if step['type'] == 'MultiModalSampleFrames':
                opts += [f'{key}.{i}.modality_clip_len.{m}={n}'
                         for m, n in TINY_FRAMES.items()]
            elif step['type'] == 'Resize':
                opts.append(f'{key}.{i}.scale=({TINY_SIZE},{TINY_SIZE})')
            for j, sub in enumerate(step.get('transforms') or ()):
                if isinstance(sub, dict) and sub['type'] == 'Resize':
                    opts.append(f'{key}.{i}.transforms.{j}.scale='
                                f'({TINY_SIZE},{TINY_SIZE})')
    return opts


def checkpoint_options(rgb, pose):
    """Stage 2 from the stage-1 checkpoints (as the configs document)."""
    return [f'model.stream_checkpoints.rgb={rgb}',
            f'model.stream_checkpoints.pose={pose}']


def check_dump(path, num_clips):
    with open(path, 'rb') as f:
        results = pickle.load(f)
    assert len(results) == num_clips
    scores = np.stack([np.asarray(r['pred_score']) for r in results])
    assert scores.shape[1] == 12  # the synthetic configs' classes
    assert np.allclose(scores.sum(1), 1, atol=1e-4)


def state_dict(path):
    return torch.load(path, map_location='cpu',
                      weights_only=False)['state_dict']


def assert_loaded(log, rgb, pose):
    """The stage-2 log line of each stream (``stream_checkpoints``): its
    backbone and FC tensors loaded from its stage-1 checkpoint."""
    for stream, path in (('rgb', rgb), ('pose', pose)):
        start = f'stream_checkpoints: {stream} stream: loaded '
        end = f' cls_head tensors from {path}'
        assert any(start in line and line.rstrip().endswith(end)
                   for line in log.splitlines()), \
            f'{start}...{end} not in the log:\n{log[-3000:]}'


# ------------------------------------------------------------ fast checks
@pytest.fixture(scope='module')
def all_splits_ann(e2e_data, tmp_path_factory):
    """The tiny synthetic annotation with every split name of the EPAM-Net
    configs (xset_*, cs_*, cv2_* as copies of xsub_* / xview_*; *_test,
    which Toyota's configs test on, as copies of *_val)."""
    with open(e2e_data['ann'], 'rb') as f:
        data = pickle.load(f)
    for new, old in SPLIT_ALIASES.items():
        for part, old_part in (('train', 'train'), ('val', 'val'),
                               ('test', 'val')):
            data['split'][f'{new}_{part}'] = data['split'][f'{old}_{old_part}']
    path = tmp_path_factory.mktemp('epam_ann') / 'annotations.pkl'
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return str(path)


def build_dataset(cfg, split, ann_file, raw):
    init_default_scope('mmaction')
    d = copy.deepcopy(cfg[f'{split}_dataloader'].dataset)
    d.update(ann_file=ann_file, data_root=raw)
    return DATASETS.build(d)


def test_configs_found():
    assert len(CONFIGS) == 3 * (len(DATASET_CONFIGS) + 1)  # + synthetic
    for config in DATASET_CONFIGS + ['configs/epam_net_synth.py']:
        for stage in ('', '_rgb', '_pose'):
            assert config.replace('.py', f'{stage}.py') in CONFIGS


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds(config):
    cfg = load(config)
    init_default_scope('mmaction')
    model = MODELS.build(cfg.model)
    stage = ('rgb' if config.endswith('_rgb.py') else
             'pose' if config.endswith('_pose.py') else 'both')
    assert model.modalities == (('rgb', 'pose') if stage == 'both' else
                                (stage, ))
    assert model.with_neck == (stage == 'both')
    name = osp.basename(config)[len('epam_net_'):]
    classes = next((n for k, n in NUM_CLASSES.items() if name.startswith(k)),
                   12)
    assert model.cls_head.num_classes == classes
    for split in ('train', 'val', 'test'):
        dataset = cfg[f'{split}_dataloader'].dataset
        assert dataset.num_classes == classes
        assert set(dataset.modalities) == (
            {'pose'} if stage == 'pose' else {'rgb', 'pose'})
        for step in dataset.pipeline:
            TRANSFORMS.build(step)
        sampler = dataset.pipeline[0]
        assert sampler['type'] == 'MultiModalSampleFrames'
        assert sampler['num_clips'] == 1
        assert sampler.get('test_mode', False) == (split != 'train')
    assert cfg.test_evaluator['type'] == 'AccMetric'
    if stage == 'both':  # stage 2 starts from the two stage-1 models
        checkpoints = cfg.model.stream_checkpoints
        assert set(checkpoints) == {'rgb', 'pose'}
        for stream, path in checkpoints.items():
            assert path == cfg[f'{stream}_checkpoint']
            assert path.startswith(f'work_dirs/epam_net_{name[:-3]}_{stream}/')
            assert 'init_cfg' not in cfg.model.backbone[stream]
        assert 'init_cfg' not in cfg.model.cls_head
    if name.startswith('toyota'):
        assert cfg.default_hooks.checkpoint.save_best == 'acc/mean1'
        if stage != 'both':  # the stream's backbone from NTU120 stage 1
            assert cfg.model.backbone[stage].init_cfg['checkpoint'].startswith(
                f'work_dirs/epam_net_ntu120_{stage}/')


def test_paper_schedules_and_batches():
    """§4.2 on 8 GPUs: RGB 8 x 8 = 64, pose 12 x 8 = 96, stage 2 3 x 8 = 24,
    SGD momentum 0.9, cosine."""
    expect = dict(rgb=(8, 0.05, 200), pose=(12, 0.0375, 240), both=(3, 1e-3,
                                                                    10))
    for stage, suffix in (('rgb', '_rgb'), ('pose', '_pose'), ('both', '')):
        cfg = load(f'configs/epam_net_ntu120{suffix}.py')
        batch, lr, epochs = expect[stage]
        assert cfg.train_dataloader.batch_size == batch
        assert cfg.auto_scale_lr == dict(enable=False,
                                         base_batch_size=8 * batch)
        opt = cfg.optim_wrapper.optimizer
        assert (opt.type, opt.lr, opt.momentum) == ('SGD', lr, 0.9)
        assert cfg.train_cfg.max_epochs == epochs
        assert [s.type for s in cfg.param_scheduler] == ['CosineAnnealingLR']


def test_synthetic_pipelines_have_the_ntu_steps():
    ntu, synth = load(DATASET_CONFIGS[0]), load('configs/epam_net_synth.py')
    for key in ('both', 'rgb', 'pose'):
        for split in ('train', 'test'):
            name = f'{key}_{split}_pipeline'
            assert [s['type'] for s in ntu[name]] == \
                [s['type'] for s in synth[name]], name


@pytest.mark.parametrize('config', DATASET_CONFIGS)
def test_dataset_pipeline_on_a_synthetic_sample(config, e2e_data,
                                                all_splits_ann):
    cfg = load(config)
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    for split in ('train', 'test'):
        ds = build_dataset(cfg, split, all_splits_ann, e2e_data['raw'])
        item = ds[0]
        assert {k: tuple(v.shape) for k, v in item['inputs'].items()} == {
            'rgb_imgs': (1, 3, 16, 224, 224),
            'pose_imgs': (1, 17, 48, 56, 56)
        }
        batch = preprocessor(pseudo_collate([item]), training=split == 'train')
        rgb, pose = batch['inputs']['rgb_imgs'], batch['inputs']['pose_imgs']
        assert tuple(rgb.shape) == (1, 1, 3, 16, 224, 224)
        assert tuple(pose.shape) == (1, 1, 17, 48, 56, 56)
        assert rgb.dtype == pose.dtype == torch.float32
        assert rgb.min() < 0 < rgb.max()  # mean/std normalised
        assert 0 <= pose.min() and 0.5 < pose.max() <= 1  # heatmaps, as is


def _sample(cfg_name, split, seed, e2e_data, **pipeline_updates):
    cfg = load(cfg_name)
    pipeline = cfg[f'{split}_dataloader'].dataset.pipeline
    for step in pipeline:  # e.g. Flip with flip_ratio=1
        for sub in [step] + list(step.get('transforms') or ()):
            if isinstance(sub, dict) and sub['type'] in pipeline_updates:
                sub.update(pipeline_updates[sub['type']])
    ds = build_dataset(cfg, split, e2e_data['ann'], e2e_data['raw'])
    np.random.seed(seed)
    return ds.prepare_data(0)['inputs']


@pytest.mark.parametrize('split', ['train', 'test'])
def test_stage1_inputs_equal_stage2_inputs(split, e2e_data):
    """The stage-1 pipelines crop, flip and render exactly as stage 2."""
    flip = dict(Flip=dict(flip_ratio=1.))  # train: always flipped
    both = _sample('configs/epam_net_ntu120.py', split, 0, e2e_data, **flip)
    rgb = _sample('configs/epam_net_ntu120_rgb.py', split, 0, e2e_data,
                  **flip)
    pose = _sample('configs/epam_net_ntu120_pose.py', split, 0, e2e_data,
                   **flip)
    assert list(rgb) == ['rgb_imgs'] and list(pose) == ['pose_imgs']
    assert torch.equal(rgb['rgb_imgs'], both['rgb_imgs'])
    assert torch.allclose(pose['pose_imgs'], both['pose_imgs'], atol=1e-6)
    assert both['pose_imgs'].max() > 0.5


def test_stage2_init_takes_each_stream_from_its_stage1_model(tmp_path):
    """``stream_checkpoints``: backbone.rgb + fc_cls.rgb from the RGB model,
    backbone.pose + fc_cls.pose from the pose model, a fresh neck."""
    init_default_scope('mmaction')
    paths = {}
    stage1 = {}
    for stream in ('rgb', 'pose'):
        torch.manual_seed({'rgb': 1, 'pose': 2}[stream])
        model = MODELS.build(load(f'configs/epam_net_synth_{stream}.py').model)
        model.init_weights()
        with torch.no_grad():  # BN statistics are loaded as well
            for name, buf in model.named_buffers():
                if name.endswith('running_mean'):
                    buf.uniform_()
        stage1[stream] = model.state_dict()
        paths[stream] = str(tmp_path / f'{stream}.pth')
        torch.save(dict(state_dict=stage1[stream]), paths[stream])
        assert not any(k.startswith('neck.') for k in stage1[stream])
    cfg = load('configs/epam_net_synth.py')
    cfg.model.stream_checkpoints = paths
    model = MODELS.build(cfg.model)
    model.init_weights()
    fused = model.state_dict()
    for stream in ('rgb', 'pose'):
        keys = [k for k in stage1[stream]
                if k.startswith((f'backbone.{stream}.',
                                 f'cls_head.fc_cls.{stream}.'))]
        assert any('fc_cls' in k for k in keys) and len(keys) > 100
        for k in keys:
            assert torch.equal(fused[k], stage1[stream][k]), k
    assert set(fused) == set(stage1['rgb']) | set(stage1['pose']) | {
        k for k in fused if k.startswith('neck.')}
    assert any(k.startswith('neck.') for k in fused)


# ------------------------------------------------------------- tool runs
@pytest.fixture(scope='module')
def stage1(e2e_data, tmp_path_factory):
    """Stage-1 RGB and pose synthetic models: ``tools/train.py`` (1 epoch)
    and ``tools/test.py --dump``; the two streams run side by side (each
    process has one thread)."""
    tmp = tmp_path_factory.mktemp('epam_stage1')

    def train_and_test(stream):
        config = f'configs/epam_net_synth_{stream}.py'
        opts = data_options(e2e_data) + tiny_options(config)
        work = tmp / stream
        train = run([PY, 'tools/train.py', config, '--work-dir', work,
                     '--cfg-options', *opts])
        ckpt = (work / 'last_checkpoint').read_text().strip()
        dump = tmp / f'{stream}_dump.pkl'
        test = run([PY, 'tools/test.py', config, ckpt, '--work-dir', work,
                    '--dump', dump, '--cfg-options', *opts])
        return dict(ckpt=ckpt, dump=dump, train=train.stdout + train.stderr,
                    test=test.stdout + test.stderr)

    with ThreadPoolExecutor(2) as pool:
        futures = {s: pool.submit(train_and_test, s) for s in ('rgb', 'pose')}
        return {s: f.result() for s, f in futures.items()}


def test_stage1_streams_train_and_test(stage1, e2e_data):
    for stream, res in stage1.items():
        assert res['ckpt'].endswith('epoch_1.pth') and osp.isfile(res['ckpt'])
        assert f'{stream}_loss_cls' in res['train']  # the stream's own loss
        assert 'acc/top1' in res['test'] and 'acc/mean1' in res['test']
        check_dump(res['dump'], e2e_data['num_val'])
        keys = state_dict(res['ckpt']).keys()
        other = 'pose' if stream == 'rgb' else 'rgb'
        assert any(k.startswith(f'backbone.{stream}.') for k in keys)
        assert f'cls_head.fc_cls.{stream}.weight' in keys
        assert not any(other in k.split('.')[:3] or k.startswith('neck.')
                       for k in keys)


def test_stage2_from_stage1_checkpoints_stock_tools(stage1, e2e_data,
                                                    tmp_path):
    """Stage 2 through MMAction2's own train.py / test.py."""
    from mmar_ext.utils import mmaction_tool_path
    config = 'configs/epam_net_synth.py'
    rgb, pose = stage1['rgb']['ckpt'], stage1['pose']['ckpt']
    opts = (data_options(e2e_data) + tiny_options(config) +
            checkpoint_options(rgb, pose))
    work = tmp_path / 'work'
    proc = run([PY, mmaction_tool_path('train.py'), config, '--work-dir', work,
                '--cfg-options', *opts])
    log = proc.stdout + proc.stderr
    assert_loaded(log, rgb, pose)
    assert 'rgb_loss_cls' in log and 'pose_loss_cls' in log
    dump = tmp_path / 'dump.pkl'
    proc = run([PY, mmaction_tool_path('test.py'), config,
                str(work / 'epoch_1.pth'), '--work-dir', work, '--dump', dump,
                '--cfg-options', *opts])
    assert 'acc/top1' in proc.stdout + proc.stderr
    check_dump(dump, e2e_data['num_val'])
    keys = state_dict(work / 'epoch_1.pth').keys()
    assert any(k.startswith('neck.') for k in keys)
    assert {'cls_head.fc_cls.rgb.weight', 'cls_head.fc_cls.pose.weight'} <= \
        set(keys)


def test_stage2_dist_train_two_cpu_processes(stage1, e2e_data, tmp_path):
    config = 'configs/epam_net_synth.py'
    rgb, pose = stage1['rgb']['ckpt'], stage1['pose']['ckpt']
    work = tmp_path / 'work'
    proc = run(['bash', 'tools/dist_train.sh', config, '2', '--work-dir', work,
                '--cfg-options', *data_options(e2e_data),
                *tiny_options(config), *checkpoint_options(rgb, pose)],
               env=dict(PYTHON=PY, PORT='29741'))
    log = proc.stdout + proc.stderr
    assert 'Distributed training: True' in log and 'GPU number: 2' in log, \
        log[-3000:]
    assert_loaded(log, rgb, pose)
    assert (work / 'epoch_1.pth').is_file()
