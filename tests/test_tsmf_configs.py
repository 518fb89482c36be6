"""Every TSMF config (paper 003) builds the model its name says: stage 1
(``*_teacher``: MMAction2's RecognizerGCN on the skeleton modality alone)
or stage 2 (TSMFRecognizer with the teacher of the same dataset), with the
dataset's class count and splits. No downloads, no checkpoints."""
import glob
import os.path as osp

import pytest
from e2e_helpers import ROOT

CLASSES = dict(ntu60=60, ntu120=120, pku_mmd=51, synth=12)
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'tsmf_*.py')))


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_tsmf_config_builds(path):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmar_ext  # noqa: F401
    from mmaction.registry import MODELS
    init_default_scope('mmaction')
    name = osp.basename(path)[:-3]
    dataset = next(d for d in CLASSES if name.startswith(f'tsmf_{d}'))
    cfg = Config.fromfile(path)
    teacher = name.endswith('_teacher')
    if not teacher:
        cfg.model.backbone.pretrained = None
        assert cfg.model.teacher_checkpoint == \
            f'work_dirs/{name.split("_no")[0].split("_train")[0]}' \
            f'_teacher/epoch_{15 if dataset == "synth" else 80}.pth'
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == (
        'RecognizerGCN' if teacher else 'TSMFRecognizer')
    gcn = model if teacher else model.teacher
    assert gcn.cls_head.num_classes == CLASSES[dataset]
    assert model.cls_head.num_classes == CLASSES[dataset]
    ds = cfg.train_dataloader.dataset
    assert tuple(ds.modalities) == (
        ('skeleton', ) if teacher else ('rgb', 'pose', 'skeleton'))
    protocol = name.split('_')[3 if dataset == 'pku_mmd' else 2] \
        if dataset != 'synth' else 'xsub'
    assert ds.split == f'{protocol}_train'
    assert cfg.test_dataloader.dataset.split == f'{protocol}_val'
    if dataset == 'pku_mmd':  # the paper drops clips without skeleton
        assert ds.missing_modality == dict(skeleton='skip')
    if not teacher:
        assert model.use_weights == ('noweights' not in name)
        assert model.teacher_mode == (
            'train' if 'trainteacher' in name else 'eval')


def test_pku_mmd_config_runs_on_synthetic_data_of_its_layout(e2e_data):
    """The PKU-MMD config (converter: tests/test_pku_mmd_converter.py) on
    an annotation of the project's layout (here the tiny synthetic one); one sample of each
    pipeline gives the teacher's 100 x 25 joints of two persons and the
    225 x 225 mosaic with its cells."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmar_ext  # noqa: F401
    from mmaction.registry import DATASETS
    init_default_scope('mmaction')
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'tsmf_pku_mmd_xsub.py'))
    for split in ('train', 'test'):
        d = dict(cfg[f'{split}_dataloader'].dataset, ann_file=e2e_data['ann'],
                 data_root=e2e_data['raw'])
        item = DATASETS.build(d)[0]
        assert {k: tuple(v.shape) for k, v in item['inputs'].items()} == {
            'skeleton': (1, 2, 100, 25, 3), 'roi_imgs': (1, 3, 225, 225)}
        cells = item['data_samples'].metainfo['roi_cells']
        assert tuple(cells['mosaic_shape']) == (225, 225)
        assert list(cells['joints']) == [0, 10, 9, 16, 15]  # COCO-17


def test_tsmf_ensemble_tool_equals_eq_1_on_logits(tmp_path, capsys):
    """Ensembling dumped probabilities in log space ranks like eq. 1 on the
    logits, and its softmax is eq. 1's softmax."""
    import pickle
    import sys

    import numpy as np
    sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis'))
    import tsmf_ensemble
    rng = np.random.default_rng(0)
    gcn_logits, st_logits = rng.normal(size=(2, 20, 6)) * 3
    labels = rng.integers(0, 6, 20)

    def softmax(x):
        e = np.exp(x - x.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    gcn_dump, tsmf_dump, out = (tmp_path / n for n in ('g.pkl', 't.pkl',
                                                        'f.pkl'))
    with open(gcn_dump, 'wb') as f:
        pickle.dump([dict(pred_score=p, gt_label=y)
                     for p, y in zip(softmax(gcn_logits), labels)], f)
    with open(tsmf_dump, 'wb') as f:
        pickle.dump([dict(pred_score=p, student_score=p, gt_label=y)
                     for p, y in zip(softmax(st_logits), labels)], f)
    tsmf_ensemble.main([str(gcn_dump), str(tsmf_dump), '--lam', '0.5',
                        '--out', str(out)])
    with open(out, 'rb') as f:
        fused = np.stack([r['pred_score'] for r in pickle.load(f)])
    np.testing.assert_allclose(fused, softmax(gcn_logits + 0.5 * st_logits),
                               atol=1e-6)
    assert 'ensemble (lambda=0.5)' in capsys.readouterr().out
    with open(tsmf_dump, 'wb') as f:  # another split: refused
        pickle.dump([dict(student_score=p, pred_score=p, gt_label=0)
                     for p in softmax(st_logits)], f)
    with pytest.raises(ValueError, match='not the same samples'):
        tsmf_ensemble.main([str(gcn_dump), str(tsmf_dump)])
