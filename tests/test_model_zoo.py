"""The README's cross-architecture model zoo table
(tools/analysis/model_zoo.py): generated from model-index.yml, one row per
model over the four NTU benchmarks, ours next to the paper's figure."""
import os.path as osp
import sys

import pytest
import yaml

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
import model_zoo  # noqa: E402


def test_readme_table_is_the_index():
    """README.md's block is exactly what model-index.yml gives (the README
    cannot drift from the metafiles)."""
    assert model_zoo.main(['--check', osp.join(ROOT, 'README.md')]) == 0


def test_every_architecture_has_a_row():
    rows, _ = model_zoo.zoo_rows()
    assert {r[0] for r in rows} == {
        'SpaceTimeFusion', 'ActionMAE', 'M-Mixer', 'EPAM-Net', 'TSMF',
        '3D-Deformable-Transformer'}
    epam = next(r for r in rows if r[1] == '`epam_net_<ntu>.py`')
    # NTU60 xsub / xview, NTU120 xsub / xset of paper 002, Table 3
    assert epam[5:] == ['96.1', '99.0', '92.4', '94.3']


@pytest.mark.parametrize('name, expected', [
    ('epam_net_ntu60_xview_rgb', 'epam_net_<ntu>_rgb'),
    ('epam_net_ntu120', 'epam_net_<ntu>'),
    ('stfusion_ntu120_xsub_rgb-depth_sum', 'stfusion_<ntu>_rgb-depth_sum'),
    ('tsmf_ntu60_xsub_paper-input_teacher', 'tsmf_<ntu>_paper-input_teacher'),
])
def test_family(name, expected):
    assert model_zoo.family(name) == expected


def _model(name, data, metrics, params='1.00M'):
    return {'Name': name, 'Config': f'configs/{name}.py',
            'In Collection': 'Tiny',
            'Metadata': {'Modality': 'RGB + Pose (pose for the crop)',
                         'Parameters': params, 'FLOPs': '2.50G',
                         'Training Data': data},
            'Results': [{'Dataset': data, 'Task': 'Action Recognition',
                         'Metrics': metrics}] if metrics else []}


def _index(tmp_path, models):
    (tmp_path / 'tiny.yml').write_text(yaml.safe_dump(
        {'Collections': [{'Name': 'Tiny'}], 'Models': models}))
    (tmp_path / 'model-index.yml').write_text(
        yaml.safe_dump({'Import': ['tiny.yml']}))
    return str(tmp_path / 'model-index.yml')


def test_rows_from_a_hand_written_index(tmp_path):
    index = _index(tmp_path, [
        _model('tiny_ntu60_xsub', 'NTU60-XSub',
               {'Paper Top 1 Accuracy': 90.5, 'Top 1 Accuracy': 88.25}),
        _model('tiny_ntu120_xset', 'NTU120-XSet',
               {'Paper Top 1 Accuracy': 80.0}, params='1.10M'),
        _model('tiny_ntu60_xview', 'NTU60-XView', {'Top 1 Accuracy': 95.0}),
        _model('tiny_ntu60_xsub_ablation', 'NTU60-XSub', None),
        _model('tiny_pku_mmd_xsub', 'PKU-MMD-XSub',
               {'Paper Top 1 Accuracy': 70.0}),
    ])
    rows, empty = model_zoo.zoo_rows(index)
    assert rows == [['Tiny', '`tiny_<ntu>.py`', 'RGB + Pose',
                     '1.00M / 1.10M', '2.50',
                     '90.5 (88.25)', '- (95.0)', '-', '80.0']]
    assert empty == ['`tiny_<ntu>_ablation`']   # PKU-MMD is not a column
    text = model_zoo.render(index)
    assert '| Tiny | `tiny_<ntu>.py` |' in text
    assert 'tiny_<ntu>_ablation' in text


def test_check_and_write(tmp_path, capsys):
    index = _index(tmp_path, [_model('tiny_ntu60_xsub', 'NTU60-XSub',
                                     {'Paper Top 1 Accuracy': 90.5})])
    readme = tmp_path / 'README.md'
    readme.write_text(f'# x\n\n{model_zoo.BEGIN}\nold table\n'
                      f'{model_zoo.END}\n\nafter\n')
    assert model_zoo.main(['--index', index, '--check', str(readme)]) == 1
    assert 'out of date' in capsys.readouterr().out
    assert model_zoo.main(['--index', index, '--write', str(readme)]) == 0
    assert model_zoo.main(['--index', index, '--check', str(readme)]) == 0
    text = readme.read_text()
    assert 'old table' not in text and text.endswith('\n\nafter\n')
    assert '| Tiny | `tiny_<ntu>.py` | RGB + Pose |' in text


def test_readme_without_markers(tmp_path):
    readme = tmp_path / 'README.md'
    readme.write_text('# no block\n')
    with pytest.raises(ValueError, match='no "<!-- model-zoo:begin -->"'):
        model_zoo.main(['--check', str(readme)])
