"""model-index.yml and configs/metafiles/*.yml (OpenMMLab's model index):
the index parses and imports every metafile, every metafile validates
(tools/analysis/check_model_index.py: schema, collection references, unique
model names, config paths, coverage of the real-dataset configs, paper
figures named as such), every config loads, agrees with its entry and its
model builds with the parameter count written; and the validator names the
metafile and the config when a config does not exist.

The models are built once per distinct ``model`` dict on PyTorch's meta
device (the constructors run, no memory is allocated and no weights are
initialised or loaded): about half the time of CPU builds, which the
command line does by default."""
import glob
import os.path as osp
import subprocess
import sys

import pytest
import yaml
from e2e_helpers import ROOT

sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
import check_model_index as cmi  # noqa: E402

pytestmark = pytest.mark.timeout(300)

INDEX = osp.join(ROOT, 'model-index.yml')
ARCHS = ('stfusion', 'actionmae', 'm_mixer', 'epam_net', 'tsmf',
         'deformable_transformer')


@pytest.fixture(scope='module')
def report():
    """The whole check of the repository's index, models built (meta)."""
    stats = {}
    problems = cmi.check_model_index(INDEX, build=True, device='meta',
                                     stats=stats)
    return problems, stats


def test_index_parses_and_imports_every_metafile():
    with open(INDEX) as f:
        index = yaml.safe_load(f)
    assert list(index) == ['Import']
    assert index['Import'] == [f'configs/metafiles/{a}.yml' for a in ARCHS]
    # no metafile left out of the index
    on_disk = sorted(osp.relpath(p, ROOT) for p in glob.glob(
        osp.join(ROOT, 'configs', 'metafiles', '*.yml')))
    assert sorted(index['Import']) == on_disk
    metafiles, problems = cmi.load_index(INDEX)
    assert problems == []
    assert sorted(metafiles) == on_disk
    for rel, data in metafiles.items():
        # one collection per architecture, its models named after the file
        assert len(data['Collections']) == 1, rel
        arch = osp.basename(rel)[:-4]
        assert all(m['Name'].startswith(arch + '_') for m in data['Models'])


def test_every_metafile_validates_and_every_config_builds(report):
    problems, stats = report
    assert problems == []
    real = [p for p in glob.glob(osp.join(ROOT, 'configs', '*.py'))
            if not cmi.is_synthetic(p)]
    assert stats['metafiles'] == len(ARCHS)
    assert stats['models'] == len(real)
    # configs share model dicts (xsub / xview of one dataset, variants that
    # differ in data only): fewer builds than configs, but some of each
    assert len(ARCHS) < stats['built'] <= stats['models']


def test_paper_figures_are_marked_and_sourced():
    metafiles, _ = cmi.load_index(INDEX)
    models = {m['Name']: m for d in metafiles.values() for m in d['Models']}
    for name, m in models.items():
        assert 'Weights' not in m and 'Training Log' not in m, name
        for res in m['Results']:
            assert all(k.startswith('Paper ') for k in res['Metrics']), name
    # a few figures against the papers' tables
    assert models['stfusion_ntu60_xsub_rgb']['Results'][0]['Metrics'] == {
        'Paper Top 1 Accuracy': 86.6}
    assert 'Table 6' in models['stfusion_ntu60_xsub_rgb']['Paper Reference']
    mae = models['actionmae_ntu60_xsub_rgb-depth-ir']['Results'][0]
    assert mae['Dataset'] == 'NTU60-XSub'
    assert mae['Metrics']['Paper Top 1 Accuracy'] == 93.0
    assert mae['Metrics']['Paper Top 1 Accuracy (test I)'] == 81.7
    toyota = models['epam_net_toyota_cv2']['Results'][0]['Metrics']
    assert toyota == {'Paper Mean Class Accuracy': 67.8}
    tsmf = models['tsmf_pku_mmd_xview']['Results'][0]['Metrics']
    assert tsmf == {'Paper Top 1 Accuracy': 95.7,
                    'Paper Top 1 Accuracy (student)': 82.2,
                    'Paper Top 1 Accuracy (teacher)': 92.4}
    # settings the papers do not report have no results, and say so
    for name in ('tsmf_ntu120_xsub', 'stfusion_ntu120_xsub_rgb-depth_sum'):
        assert models[name]['Results'] == []
        assert models[name]['Paper Reference'].startswith('none')


# --------------------------------------------------------------------------
# the validator on small trees of its own

CONFIG = """\
modalities = ('rgb', )
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', depth=18, pretrained=None),
    cls_head=dict(type='TSNHead', num_classes=2, in_channels=512))
train_dataloader = dict(batch_size=4, dataset=dict(
    ann_file='data/ntu60_annotations.pkl', split='xsub_train'))
train_cfg = dict(max_epochs=3)
auto_scale_lr = dict(base_batch_size=32)
"""


def _model(name, config=None, **over):
    entry = {
        'Name': name,
        'Config': config or f'configs/{name}.py',
        'In Collection': 'Tiny',
        'Metadata': {
            'Architecture': 'ResNet18', 'Modality': 'RGB', 'Batch Size': 4,
            'Epochs': 3, 'FLOPs': '1.0G', 'Parameters': '11.18M',
            'Pretrained': 'None', 'Training Data': 'NTU60-XSub',
            'Training Resources': '8 GPUs'},
        'Results': [{'Dataset': 'NTU60-XSub', 'Task': 'Action Recognition',
                     'Metrics': {'Paper Top 1 Accuracy': 50.0}}],
        'Paper Reference': 'a paper, Table 1',
    }
    entry.update(over)
    return entry


def _tree(tmp_path, models, configs=('tiny',), metafile='tiny.yml',
          collections=('Tiny', )):
    """model-index.yml -> configs/metafiles/<metafile>, the given configs."""
    (tmp_path / 'configs' / 'metafiles').mkdir(parents=True)
    (tmp_path / 'README.md').write_text('# tiny\n')
    for c in configs:
        (tmp_path / 'configs' / f'{c}.py').write_text(CONFIG)
    rel = f'configs/metafiles/{metafile}'
    doc = {'Collections': [{'Name': c, 'README': 'README.md',
                            'Paper': {'Title': 'A paper'}}
                           for c in collections],
           'Models': models}
    (tmp_path / rel).write_text(yaml.safe_dump(doc, sort_keys=False))
    (tmp_path / 'model-index.yml').write_text(
        yaml.safe_dump({'Import': [rel]}))
    return str(tmp_path / 'model-index.yml'), rel


def test_a_clean_tree_passes_and_the_cli_says_ok(tmp_path, capsys):
    index, _ = _tree(tmp_path, [_model('tiny')])
    assert cmi.check_model_index(index, build=True, device='meta') == []
    assert cmi.main(['--index', index, '--no-build']) == 0
    assert capsys.readouterr().out.startswith('OK: 1 metafiles, 1 models')


def test_missing_config_is_reported_with_metafile_and_config(tmp_path):
    index, rel = _tree(tmp_path, [
        _model('tiny'),
        _model('gone', config='configs/gone.py')])
    problems = cmi.check_model_index(index, build=False)
    assert len(problems) == 1, problems
    assert rel in problems[0] and 'configs/gone.py' in problems[0]
    assert 'does not exist' in problems[0]
    # the script: exit status 1, the same line
    run = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'analysis',
                                  'check_model_index.py'),
         '--index', index, '--no-build'],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f'{rel}: model \'gone\': Config configs/gone.py does not exist' \
        in run.stdout


def test_schema_names_collections_and_honesty(tmp_path):
    bad_metric = _model('tiny2', Results=[{
        'Dataset': 'NTU60-XSub', 'Task': 'Action Recognition',
        'Metrics': {'Top 1 Accuracy': 90.0}}])
    no_reason = _model('tiny3', Results=[])
    index, rel = _tree(tmp_path, [
        _model('tiny', **{'In Collection': 'Nope'}),
        _model('tiny', config='configs/tiny4.py'),
        bad_metric, no_reason,
        {'Name': 'tiny5', 'Config': 'configs/tiny5.py', 'In Colection': 'x'},
    ], configs=('tiny', 'tiny2', 'tiny3', 'tiny4', 'tiny5', 'unlisted',
                'x_synth'))
    text = '\n'.join(cmi.check_model_index(index, build=False))
    assert f"{rel}: model 'tiny': In Collection 'Nope' is no collection" \
        in text
    assert f"{rel}: model 'tiny': name also used in {rel}" in text
    assert "Name is not the file name of its Config configs/tiny4.py" in text
    assert "metric 'Top 1 Accuracy' is not named 'Paper '" in text
    assert "model 'tiny3': no Results, but Paper Reference does not say" \
        in text
    assert "model 'tiny5': missing 'In Collection'" in text
    assert "model 'tiny5': unknown key 'In Colection'" in text
    assert 'configs/unlisted.py: not listed in any metafile' in text
    assert 'x_synth' not in text  # synthetic configs need no entry
    # a measured metric is fine with its training log
    ok = _model('tiny2', Results=bad_metric['Results'],
                **{'Training Log': 'work_dirs/tiny2/run.log'})
    assert 'Top 1 Accuracy' not in '\n'.join(cmi._check_results('m', ok))


def test_entry_must_agree_with_config_and_built_model(tmp_path):
    meta = dict(_model('tiny')['Metadata'], **{
        'Batch Size': 8, 'Epochs': 5, 'Parameters': '11.20M',
        'Modality': 'RGB + Depth', 'Training Data': 'NTU120-XSub',
        'Training Resources': '4 GPUs'})
    res = [{'Dataset': 'NTU120-XSub', 'Task': 'Action Recognition',
            'Metrics': {'Paper Top 1 Accuracy': 50.0}}]
    index, rel = _tree(tmp_path, [_model('tiny', Metadata=meta,
                                         Results=res)])
    text = '\n'.join(cmi.check_model_index(index, build=True, device='meta'))
    where = f"{rel}: model 'tiny' (configs/tiny.py)"
    assert f'{where}: Batch Size 8 but the config has ' \
        'train_dataloader.batch_size=4' in text
    assert f'{where}: Epochs 5' in text
    assert "Training Resources '4 GPUs', but the config is for 8 GPUs" \
        in text
    assert "Modality 'RGB + Depth' but the model takes ('rgb',)" in text
    assert "Training Data 'NTU120-XSub' but the config trains on " \
        'ntu60_annotations.pkl xsub_train (NTU60-XSub)' in text
    # ResNet18 + a 2-class head: 11,177,538 parameters, written 11.20M
    assert f'{where}: Parameters 11.20M but the built model has ' \
        '11,177,538 (11.18M)' in text


def test_a_model_that_does_not_build_is_reported(tmp_path):
    index, rel = _tree(tmp_path, [_model('tiny')])
    cfg = tmp_path / 'configs' / 'tiny.py'
    cfg.write_text(CONFIG.replace("type='ResNet'", "type='NoSuchBackbone'"))
    text = '\n'.join(cmi.check_model_index(index, build=True, device='meta'))
    assert f"{rel}: model 'tiny' (configs/tiny.py): model does not build" \
        in text and 'NoSuchBackbone' in text


def test_amount_and_modality_parsing():
    assert cmi.parse_amount('33.93M') == pytest.approx((33.93e6, 5e3))
    assert cmi.parse_amount('1027G') == pytest.approx((1027e9, 0.5e9))
    assert cmi.parse_amount('33.93') is None
    assert cmi.parse_modalities(
        'RGB + Pose (2D pose for the skeleton-box crop)') == ('rgb', 'pose')
    assert cmi.parse_modalities('Skeleton') == ('skeleton', )
