"""ActionMAE (paper 001 §3) through MMAction2's runner on the tiny synthetic
set: our tools/train.py + tools/test.py, MMAction2's stock tools, the
robustness report (a modality missing at test time is reconstructed), and
every ActionMAE config builds."""
import glob
import os.path as osp
import pickle

import numpy as np
import pytest
from e2e_helpers import PY, ROOT, data_options, dump_scores, run

CONFIG = 'configs/actionmae_synth_rgb-depth.py'
pytestmark = pytest.mark.timeout(900)


def test_actionmae_configs_build():
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmar_ext  # noqa: F401
    from mmaction.registry import MODELS
    init_default_scope('mmaction')
    configs = sorted(glob.glob(osp.join(ROOT, 'configs', 'actionmae_*.py')))
    assert len(configs) == 8
    for path in configs:
        cfg = Config.fromfile(path)
        for enc in cfg.model.backbone.values():
            enc.space_encoder.pretrained = None  # no downloads
        model = MODELS.build(cfg.model)
        name = osp.basename(path)
        assert type(model.neck).__name__ == 'ActionMAE', name
        assert model.neck.modalities == model.modalities, name
        assert type(model.cls_head).__name__ == 'TransformerFusionHead'
        assert model.cls_head.loss_cls is not None
        assert cfg.model.cls_head.label_smooth_eps == 0.1
        expected = {'ntu60': 60, 'ntu120': 120, 'nwucla': 10, 'uwa3d': 30,
                    'synth': 12}[name.split('_')[1]]
        assert model.cls_head.num_classes == expected, name
        mods = name.rsplit('_', 1)[1][:-3].split('-')
        assert list(model.modalities) == mods, name
        assert list(cfg.train_dataloader.dataset.modalities) == mods, name


def test_actionmae_train_test_stock_tools_and_missing_modalities(
        e2e_data, tmp_path):
    from mmar_ext.utils import mmaction_tool_path
    opts = data_options(e2e_data)
    work = tmp_path / 'work'
    proc = run([PY, 'tools/train.py', CONFIG, '--work-dir', work,
                '--cfg-options', *opts])
    log = proc.stdout + proc.stderr
    assert 'loss_rec' in log and 'loss_cls' in log, log[-3000:]
    ckpt = (work / 'last_checkpoint').read_text().strip()
    dump = tmp_path / 'dump.pkl'
    run([PY, 'tools/test.py', CONFIG, ckpt, '--work-dir', work, '--dump',
         dump, '--cfg-options', *opts])
    # MMAction2's own test.py gives the same scores
    stock = tmp_path / 'stock.pkl'
    run([PY, mmaction_tool_path('test.py'), CONFIG, ckpt, '--work-dir',
         work, '--dump', stock, '--cfg-options', *opts])
    np.testing.assert_allclose(dump_scores(stock), dump_scores(dump),
                               atol=1e-6)
    assert dump_scores(dump).shape == (e2e_data['num_val'], 12)
    # depth missing at test time: reconstructed, not zero-filled
    rgb_only = tmp_path / 'rgb_only.pkl'
    run([PY, 'tools/test.py', CONFIG, ckpt, '--work-dir', work, '--dump',
         rgb_only, '--cfg-options', *opts, "model.test_cfg.modalities=['rgb']"])
    assert not np.allclose(dump_scores(rgb_only), dump_scores(dump))
    # the robustness report: R+D, R, D with the ActionMAE policy
    report = tmp_path / 'report.md'
    run([PY, 'tools/analysis/missing_modality_eval.py', CONFIG, ckpt,
         '--work-dir', tmp_path / 'missing', '--out', report,
         '--cfg-options', *opts])
    text = report.read_text()
    assert 'reconstructed by ActionMAE' in text
    rows = [line.split('|')[1].strip() for line in text.splitlines()
            if line.startswith('|')][2:]
    assert rows == ['R+D', 'R', 'D', 'mean Δ'], rows
    assert report.with_suffix('.png').is_file()


@pytest.mark.parametrize('config,splits', [
    ('configs/actionmae_nwucla_xview_rgb-depth.py', 'xview'),
    ('configs/actionmae_uwa3d_xview34_rgb-depth.py', 'xview34'),
])
def test_other_benchmarks_run_on_synthetic_data_of_their_layout(
        config, splits, e2e_data, tmp_path):
    """The NW-UCLA and UWA3D II configs at their paper sizes on an
    annotation of the project's layout with their split names (here the
    tiny synthetic one with its xview splits renamed; their converters'
    tests train a step on the converters' output)."""
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope

    import mmar_ext  # noqa: F401
    from mmaction.registry import DATASETS, MODELS
    init_default_scope('mmaction')
    with open(e2e_data['ann'], 'rb') as f:
        data = pickle.load(f)
    for part in ('train', 'val'):
        data['split'][f'{splits}_{part}'] = data['split'][f'xview_{part}']
    ann = tmp_path / 'annotations.pkl'
    with open(ann, 'wb') as f:
        pickle.dump(data, f)
    cfg = Config.fromfile(osp.join(ROOT, config))
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    for split in ('train', 'test'):
        d = dict(cfg[f'{split}_dataloader'].dataset, ann_file=str(ann),
                 data_root=e2e_data['raw'])
        item = DATASETS.build(d)[0]
        assert {k: tuple(v.shape) for k, v in item['inputs'].items()} == {
            'rgb_imgs': (1, 3, 16, 224, 224),
            'depth_imgs': (1, 3, 16, 224, 224)}
        batch = preprocessor(pseudo_collate([item]), training=split == 'train')
        assert set(batch['inputs']) == {'rgb_imgs', 'depth_imgs'}
