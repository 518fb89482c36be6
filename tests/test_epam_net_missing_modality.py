"""The missing-modality sweep (``tools/analysis/missing_modality_eval.py``)
on EPAM-Net: the synthetic stage-2 config (R+P) with a randomly initialised
checkpoint (no training) on the tiny synthetic set of tests/conftest.py.

R is the RGB stream and classifier without the pose-driven attention, on
the same skeleton-box crop as R+P; P the pose stream and classifier on the
same heatmaps (the tool's docstring). The tool's numbers are checked
against the model run directly with ``set_test_modalities`` on the
full-modality test data."""
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from e2e_helpers import PY, data_options, run

import mmar_ext  # noqa: F401
from mmengine import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmaction.registry import DATASETS, MODELS

sys.path.insert(0, 'tools/analysis')
import missing_modality_eval  # noqa: E402

CONFIG = 'configs/epam_net_synth.py'

pytestmark = pytest.mark.timeout(600)


def random_model(cfg, seed=0):
    """The config's model, randomly initialised, with non-trivial
    BatchNorm statistics (so that the streams disagree)."""
    init_default_scope('mmaction')
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.weight.copy_(0.5 + torch.rand(n, generator=gen))
                m.bias.copy_(0.2 * torch.randn(n, generator=gen))
                m.running_mean.copy_(0.1 * torch.randn(n, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(n, generator=gen))
    return model.eval()


def build_test_data(cfg):
    init_default_scope('mmaction')
    return DATASETS.build(cfg.test_dataloader.dataset)


def predict(model, dataset, subset=None):
    """``model.test_step`` on ``dataset`` (batches of 4) with
    ``set_test_modalities(subset)``: scores [N, K] and labels [N]."""
    model.set_test_modalities(subset)
    scores, labels = [], []
    try:
        with torch.no_grad():
            for i in range(0, len(dataset), 4):
                batch = pseudo_collate(
                    [dataset[j] for j in range(i, min(i + 4, len(dataset)))])
                for sample in model.test_step(batch):
                    scores.append(sample.pred_score)
                    labels.append(int(sample.gt_label))
    finally:
        model.set_test_modalities(None)
    return torch.stack(scores).numpy(), np.array(labels)


def spread_classifiers(model, dataset):
    """Each stream's classifier on its standardised token, ``W (f - mean)
    / std`` over the test set with a random ``W``: a random model's
    predictions then depend on the clip (otherwise its tokens' common part
    picks one class for every clip, whatever the streams)."""
    tokens = {m: [] for m in model.modalities}
    hooks = [model.cls_head.fc_cls[m].register_forward_pre_hook(
        lambda module, args, m=m: tokens[m].append(args[0]))
        for m in model.modalities]
    predict(model, dataset)
    for hook in hooks:
        hook.remove()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m, values in tokens.items():
            t = torch.cat(values)
            fc = model.cls_head.fc_cls[m]
            w = torch.randn(fc.weight.shape, generator=gen) / (
                t.std(0) + 1e-6) / fc.in_features**0.5
            fc.weight.copy_(w)
            fc.bias.copy_(-w @ t.mean(0))


@pytest.fixture(scope='module')
def sweep(e2e_data, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('epam_missing')
    # the tiny set's 3 classes only
    classes = e2e_data['num_classes']
    opts = data_options(e2e_data) + [f'model.cls_head.num_classes={classes}']
    cfg = Config.fromfile(CONFIG)  # the model and test data of the tool's run
    cfg.model.cls_head.num_classes = classes
    cfg.test_dataloader.dataset.update(ann_file=e2e_data['ann'],
                                       data_root=e2e_data['raw'])
    model, dataset = random_model(cfg), build_test_data(cfg)
    spread_classifiers(model, dataset)
    ckpt = tmp / 'random.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    table = tmp / 'missing.md'
    run([PY, 'tools/analysis/missing_modality_eval.py', CONFIG, ckpt,
         '--work-dir', tmp / 'work', '--out', table, '--cfg-options', *opts])
    return dict(table=table.read_text(), model=model, dataset=dataset,
                csv=tmp / 'missing.csv', png=tmp / 'missing.png')


def rows_of(table):
    """``{subset: cells}`` of the report's table (the policy line and the
    blank line above it skipped)."""
    lines = [line for line in table.splitlines() if line.startswith('|')]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip('|').split('|')]
        rows[cells[0]] = cells[1:]
    return rows


def direct_accuracy(model, dataset, subset):
    """Top-1 and mean class accuracy (%) of ``model`` with
    ``set_test_modalities(subset)`` on the full-modality test data."""
    scores, labels = predict(model, dataset, subset)
    hits = scores.argmax(1) == labels
    per_class = [hits[labels == c].mean() for c in np.unique(labels)]
    return 100 * hits.mean(), 100 * np.mean(per_class)


def test_report_lists_every_subset(sweep):
    rows = rows_of(sweep['table'])
    assert list(rows) == ['R+P', 'R', 'P', 'mean Δ'], sweep['table']
    for name in ('R+P', 'R', 'P'):
        top1, top5, mean1 = (float(v) for v in rows[name][:3])
        assert all(0 <= v <= 100 for v in (top1, top5, mean1))
        assert top1 <= top5
    assert rows['R+P'][3] == '-'
    assert sweep['table'].splitlines()[0] == (
        'Missing-modality policy: RGB alone: RGB head without the '
        'pose-driven attention; pose alone: pose head.')
    # the three passes score differently (so that the comparison with the
    # model run directly below tells them apart)
    assert len({tuple(rows[n][:3]) for n in ('R+P', 'R', 'P')}) == 3
    for name in ('R', 'P'):  # Δ = full - subset (printed as -Δ)
        delta = float(rows['R+P'][0]) - float(rows[name][0])
        assert float(rows[name][3]) == pytest.approx(-delta, abs=0.11)


def test_csv_and_heatmap_next_to_the_markdown(sweep):
    """``--out missing.md`` also writes missing.csv (the same numbers,
    unrounded) and missing.png."""
    from mmar_ext.evaluation import read_robustness_csv
    report = read_robustness_csv(str(sweep['csv']))
    assert report['model'] == 'epam_net_synth'
    assert report['train_modalities'] == ('rgb', 'pose')
    assert report['policy'].startswith('RGB alone')
    rows = rows_of(sweep['table'])
    assert [r['modalities'] for r in report['rows']] == [
        ('rgb', 'pose'), ('rgb', ), ('pose', )]
    for r, name in zip(report['rows'], ('R+P', 'R', 'P')):
        assert [f'{r[k]:.1f}' for k in ('top1', 'top5', 'mean1')] == \
            rows[name][:3]
        assert rows[name][3] == ('-' if r['delta_top1'] is None else
                                 f"{r['delta_top1']:+.1f}")
    assert f"{report['mean_delta_top1']:+.1f}" == rows['mean Δ'][3]
    assert sweep['png'].read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


@pytest.mark.parametrize('name,subset', [('R+P', ('rgb', 'pose')),
                                         ('R', ('rgb', )), ('P', ('pose', ))])
def test_scores_equal_the_model_with_set_test_modalities(
        sweep, name, subset):
    top1, mean1 = direct_accuracy(sweep['model'], sweep['dataset'], subset)
    row = rows_of(sweep['table'])[name]
    assert (row[0], row[2]) == (f'{top1:.1f}', f'{mean1:.1f}'), \
        sweep['table']


def test_rgb_alone_skips_the_attention(sweep):
    """Without pose maps the neck passes the RGB maps through: R's scores
    are the RGB classifier's on the unmodulated RGB features."""
    model = sweep['model']
    batch = model.data_preprocessor(pseudo_collate([sweep['dataset'][0]]))
    inputs = batch['inputs']
    model.set_test_modalities(('rgb', ))
    try:
        with torch.no_grad():
            rgb_only = model(inputs, mode='tensor', stage='head')
            feats = model.backbone(
                dict(rgb=inputs['rgb_imgs'].flatten(0, 1)))
            plain = model.cls_head(feats)
    finally:
        model.set_test_modalities(None)
    torch.testing.assert_close(rgb_only, plain)
    # with both streams the RGB maps are modulated by the pose's attention
    with torch.no_grad():
        feats, _ = model.extract_feat(inputs, stage='neck')
        attended = model.cls_head.modality_scores(feats)['rgb']
    assert set(feats) == {'rgb', 'pose'}
    assert not torch.allclose(attended, plain)


def test_every_modality_is_decoded_when_pose_shares_the_data():
    """``--decode auto``: all modalities for EPAM-Net's test data (also
    stage 1's RGB, whose crop needs the sampled pose frames), the tested
    subset otherwise."""
    for config, decode_all in (('configs/epam_net_synth.py', True),
                               ('configs/epam_net_synth_rgb.py', True),
                               ('configs/epam_net_synth_pose.py', False),
                               ('configs/stfusion_synth_rgb-depth_sum.py',
                                False)):
        assert missing_modality_eval.decodes_all(
            Config.fromfile(config)) == decode_all, config
