"""Per-sample missing modalities in the data (issue 9 §2).

A copy of the tiny synthetic NTU annotation (``e2e_data`` of conftest.py)
in which some samples lack depth -- one has no ``depth_path`` entry, one
names a folder that does not exist -- is read with
``MultiModalActionDataset(missing_modality='allow')``; batches mixing
complete and incomplete samples go through the synthetic configs' pipelines
and models. Each head must give an incomplete sample, inside a mixed batch,
the scores it gets alone with depth dropped (a hand computation too); the
depth encoder must never see the incomplete samples, nor their placeholder
influence anything; ActionMAE must reconstruct their depth slot.
"""
import copy
import os.path as osp
import pickle

import pytest
import torch
from torch.utils.data import DataLoader, Subset

import mmar_ext  # noqa: F401  (compat fixes + registration, before mmaction)
from mmaction.registry import DATASETS, MODELS  # noqa: E402
from mmaction.structures import ActionDataSample  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from mmar_ext.models import (ConcatFusionHead, SumFusionHead,  # noqa: E402
                             TransformerFusionHead)

init_default_scope('mmaction')

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
HEADS = ('sum', 'concat', 'transformer')
SPLIT = 'xsub_val'


def config(head='sum'):
    return Config.fromfile(
        osp.join(ROOT, 'configs', f'stfusion_synth_rgb-depth_{head}.py'))


@pytest.fixture(scope='module')
def partial(e2e_data, tmp_path_factory):
    """The e2e annotation with depth missing for 3 samples of ``SPLIT``:
    two without ``depth_path``, one whose depth folder does not exist."""
    with open(e2e_data['ann'], 'rb') as f:
        data = pickle.load(f)
    by_name = {a['frame_dir']: a for a in data['annotations']}
    names = list(data['split'][SPLIT])
    no_entry = [names[1], names[4]]
    no_folder = [names[3]]
    for name in no_entry:
        del by_name[name]['depth_path']
    for name in no_folder:
        by_name[name]['depth_path'] = 'nturgb+d_depth_masked/DELETED_' + name
    ann = tmp_path_factory.mktemp('partial') / 'partial.pkl'
    with open(ann, 'wb') as f:
        pickle.dump(data, f)
    return dict(e2e_data, partial=str(ann), no_entry=no_entry,
                no_folder=no_folder, lacking=sorted(no_entry + no_folder))


def dataset(data, ann=None, pipeline='test', **kwargs):
    cfg = config()
    loader = cfg.train_dataloader if pipeline == 'train' else \
        cfg.test_dataloader
    ds = copy.deepcopy(loader.dataset)
    ds.update(ann_file=ann or data['partial'], data_root=data['raw'],
              split=SPLIT)
    ds.update(kwargs)
    return DATASETS.build(ds)


def index_of(ds, names):
    where = {ds.get_data_info(i)['frame_dir']: i for i in range(len(ds))}
    return [where[n] for n in names]


@pytest.fixture(scope='module')
def allow_ds(partial):
    return dataset(partial, missing_modality='allow')


@pytest.fixture(scope='module')
def mixed(partial, allow_ds):
    """Indices of a batch [complete, incomplete, complete, incomplete]."""
    lacking = index_of(allow_ds, partial['lacking'])
    complete = [i for i in range(len(allow_ds)) if i not in lacking]
    return dict(batch=[complete[0], lacking[0], complete[1], lacking[1]],
                complete=complete, lacking=lacking)


def loader_batch(ds, indices):
    """One batch of MMEngine's default collation."""
    loader = DataLoader(Subset(ds, indices), batch_size=len(indices),
                        shuffle=False, num_workers=0,
                        collate_fn=pseudo_collate)
    return next(iter(loader))


def build_model(head='sum', **model_kwargs):
    cfg = config(head).model
    cfg.update(model_kwargs)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    if head == 'concat':  # a visible bias, so that P / M matters
        torch.nn.init.normal_(model.cls_head.fc_cls.bias)
    return model.eval()


def preprocess(model, batch, training=False):
    return model.data_preprocessor(copy.deepcopy(batch), training)


def logits(model, data):
    with torch.no_grad():
        return model(data['inputs'], data['data_samples'], mode='tensor',
                     stage='head')


# ------------------------------------------------------------------ dataset
def test_allow_reports_counts_and_masks(partial, monkeypatch):
    import mmar_ext.datasets.multimodal_dataset as mod
    logged = []
    monkeypatch.setattr(mod, 'print_log',
                        lambda msg, **kw: logged.append((msg, kw)))
    ds = dataset(partial, missing_modality='allow')
    assert len(ds) == partial['num_val']  # nothing dropped
    assert ds.num_missing == {'rgb': 0, 'depth': 3}
    assert len(logged) == 1 and logged[0][1].get('logger') == 'current'
    msg = logged[0][0]
    assert 'depth: 3' in msg and '1 with a path but no file' in msg
    assert partial['partial'] in msg and "'allow'" in msg
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        lacks = info['frame_dir'] in partial['lacking']
        assert info['modality_mask'] == {'rgb': True, 'depth': not lacks}
        assert info['modalities'] == (['rgb'] if lacks else ['rgb', 'depth'])
        assert ('depth_path' in info) != lacks


def test_absent_modality_is_not_decoded_and_packed_as_placeholder(
        partial, allow_ds, mixed, monkeypatch):
    from mmar_ext.datasets.transforms import MultiModalDecode
    decoded = []
    original = MultiModalDecode._decode_frame_folder

    def spy(self, results, m, path, inds):
        decoded.append(results['frame_dir'])
        return original(self, results, m, path, inds)

    monkeypatch.setattr(MultiModalDecode, '_decode_frame_folder', spy)
    names = []
    for i in mixed['batch']:
        item = allow_ds[i]
        sample = item['data_samples']
        name = sample.metainfo['frame_dir']
        names.append(name)
        lacks = name in partial['lacking']
        assert sample.metainfo['modality_mask'] == {'rgb': True,
                                                    'depth': not lacks}
        assert list(item['inputs']) == ['rgb_imgs', 'depth_imgs']
        depth = item['inputs']['depth_imgs']
        if lacks:  # no value at all: [num_clips, 1, 0, 0, 0]
            assert depth.shape == (1, 1, 0, 0, 0) and depth.numel() == 0
            assert depth.dtype == item['inputs']['rgb_imgs'].dtype
        else:
            assert depth.shape == (1, 3, 8, 64, 64)
    assert decoded == [n for n in names if n not in partial['lacking']]


def test_complete_samples_are_packed_as_before(partial, allow_ds, mixed):
    """A complete sample of an 'allow' dataset gives the same tensors as the
    same sample of the untouched annotation read with 'error'."""
    before = dataset(partial, ann=partial['ann'])
    assert before.num_missing == {}
    for i in mixed['complete'][:2]:
        new, old = allow_ds[i], before[i]
        assert new['data_samples'].metainfo['frame_dir'] == \
            before.get_data_info(i)['frame_dir']
        assert list(new['inputs']) == list(old['inputs'])
        for k in old['inputs']:
            assert torch.equal(new['inputs'][k], old['inputs'][k])
        assert 'modality_mask' not in old['data_samples'].metainfo


def test_error_skip_and_policies(partial):
    # 'error' (the default): the sample without depth_path at load ...
    with pytest.raises(KeyError) as e:
        dataset(partial)
    msg = str(e.value)
    assert partial['no_entry'][0] in msg and 'depth_path' in msg
    assert partial['partial'] in msg
    # ... and the deleted folder when decoded
    ds = dataset(partial, missing_modality=dict(depth='skip'))
    assert ds.num_skipped == 2
    i = index_of(ds, partial['no_folder'])[0]
    with pytest.raises(FileNotFoundError) as e:
        ds[i]
    assert partial['no_folder'][0] in str(e.value)
    assert 'DELETED_' + partial['no_folder'][0] in str(e.value)
    # per-modality policies: rgb may not be missing, depth may
    ds = dataset(partial, missing_modality=dict(rgb='error', depth='allow'))
    assert ds.num_missing == {'rgb': 0, 'depth': 3}
    with pytest.raises(KeyError):
        dataset(partial, missing_modality=dict(rgb='allow'))
    # a sample with none of the requested modalities is an error
    with pytest.raises(ValueError) as e:
        dataset(partial, modalities=('depth', ), missing_modality='allow')
    assert any(n in str(e.value) for n in partial['lacking'])
    for bad in ('drop', dict(depth='maybe'), dict(ir='allow')):
        with pytest.raises(ValueError):
            dataset(partial, missing_modality=bad)
    with pytest.raises(ValueError, match='pose'):
        dataset(partial, modalities=('rgb', 'pose'), missing_modality='allow')


def test_modality_transforms_skip_absent_modalities():
    import numpy as np
    from mmaction.registry import TRANSFORMS
    t = TRANSFORMS.build(dict(
        type='ModalityTransforms', modalities=('rgb', 'depth'),
        transforms=[dict(type='CenterCrop', crop_size=4)]))
    results = dict(frame_dir='x', modalities=['rgb'],
                   rgb_imgs=[np.zeros((8, 8, 3), np.uint8)] * 2)
    with pytest.raises(KeyError, match='depth_imgs'):
        t(copy.deepcopy(results))
    out = t(dict(results, modality_mask=dict(rgb=True, depth=False)))
    assert out['rgb_imgs'][0].shape == (4, 4, 3) and 'depth_imgs' not in out


# ------------------------------------------------------------- fusion heads
@pytest.mark.parametrize('head', HEADS)
def test_mixed_batch_equals_samples_alone(partial, allow_ds, mixed, head):
    model = build_model(head)
    batch = loader_batch(allow_ds, mixed['batch'])
    data = preprocess(model, batch)
    masks = [s.metainfo['modality_mask']['depth']
             for s in data['data_samples']]
    assert masks == [True, False, True, False]
    # the placeholders were zero-padded to the batch's shape
    assert data['inputs']['depth_imgs'].shape == (4, 1, 3, 8, 64, 64)

    seen = {m: [] for m in model.modalities}
    for m in model.modalities:
        model.backbone[m].register_forward_pre_hook(
            lambda mod, args, m=m: seen[m].append(args[0].shape[0]))
    mixed_logits = logits(model, data)
    assert seen == {'rgb': [4], 'depth': [2]}  # depth: complete ones only
    with torch.no_grad():
        preds = model(data['inputs'], data['data_samples'], mode='predict')
    assert seen['depth'] == [2, 2]

    # incomplete samples: what the head gives them alone with depth dropped
    rgb = data['inputs']['rgb_imgs']
    for row in (1, 3):
        alone = preprocess(model, loader_batch(allow_ds,
                                               [mixed['batch'][row]]))
        model.set_test_modalities(('rgb', ))
        dropped = logits(model, alone)
        model.set_test_modalities(None)
        own_mask = logits(model, alone)  # its own mask, no selection
        torch.testing.assert_close(mixed_logits[row], dropped[0],
                                   rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(own_mask, dropped)
        # by hand, from the sample's RGB token
        with torch.no_grad():
            z = model.backbone['rgb'](rgb[row])  # [1, C]
            h = model.cls_head
            if head == 'sum':
                expected = h.fc_cls['rgb'](z)
            elif head == 'concat':  # footnote 3: W_rgb z + b * 1 / 2
                expected = z @ h.split_weight()['rgb'].t() + \
                    h.fc_cls.bias / 2
            else:  # the class token and the RGB token only
                expected = h.fc_cls(h.fusion(z[:, None])[:, 0])
        torch.testing.assert_close(mixed_logits[row], expected[0],
                                   rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(preds[row].pred_score,
                                   mixed_logits[row].softmax(-1),
                                   rtol=1e-4, atol=1e-6)

    # complete samples: what they get in a batch of complete samples
    complete = preprocess(model, loader_batch(allow_ds,
                                              mixed['complete'][:2]))
    torch.testing.assert_close(mixed_logits[[0, 2]], logits(model, complete),
                               rtol=1e-4, atol=1e-5)

    # the placeholders never matter: random values, same scores
    noisy = copy.deepcopy(data)
    noisy['inputs']['depth_imgs'][[1, 3]] = torch.randn(2, 1, 3, 8, 64, 64)
    assert torch.equal(logits(model, noisy), mixed_logits)


@pytest.mark.parametrize('head', HEADS)
def test_training_step_on_mixed_batches(partial, mixed, head):
    train_ds = dataset(partial, pipeline='train', missing_modality='allow')
    model = build_model(head).train()
    seen = []
    model.backbone['depth'].register_forward_pre_hook(
        lambda mod, args: seen.append(args[0].shape[0]))
    data = preprocess(model, loader_batch(train_ds, mixed['batch']), True)
    losses = model(**data, mode='loss')
    assert seen == [2] and torch.isfinite(losses['loss_cls'])
    losses['loss_cls'].backward()
    for m in model.modalities:
        grads = [p.grad for p in model.backbone[m].parameters()]
        assert all(g is not None for g in grads)
    # a batch in which no sample has depth: its encoder is not run
    model.zero_grad()
    data = preprocess(model, loader_batch(train_ds, mixed['lacking']), True)
    assert data['inputs']['depth_imgs'].numel() == 0
    losses = model(**data, mode='loss')
    assert seen == [2] and torch.isfinite(losses['loss_cls'])
    losses['loss_cls'].backward()
    assert all(p.grad is None for p in model.backbone['depth'].parameters())


def test_neck_without_present_is_not_implemented(allow_ds, mixed):
    model = build_model('sum', neck=dict(type='PoseDrivenAttention',
                                         pose='depth'))
    data = preprocess(model, loader_batch(allow_ds, mixed['batch']))
    with pytest.raises(NotImplementedError, match='PoseDrivenAttention'):
        model(**data, mode='predict')


def test_batch_blending_is_refused(allow_ds, mixed):
    model = build_model('sum').train()
    data = preprocess(model, loader_batch(allow_ds, mixed['batch']), True)
    model.data_preprocessor.preprocessors['rgb_imgs'].blending = object()
    with pytest.raises(NotImplementedError, match='blending'):
        model(**data, mode='loss')


def test_no_available_modality_at_test_time_names_the_sample(
        partial, allow_ds, mixed):
    model = build_model('sum')
    model.set_test_modalities(('depth', ))
    data = preprocess(model, loader_batch(allow_ds, mixed['batch']))
    with pytest.raises(ValueError) as e:
        model(**data, mode='predict')
    name = data['data_samples'][1].metainfo['frame_dir']
    assert name in str(e.value) and 'depth' in str(e.value)


# ------------------------------------------------------------------ ActionMAE
def test_action_mae_reconstructs_the_missing_depth(allow_ds, mixed):
    model = build_model('transformer',
                        neck=dict(type='ActionMAE', embed_dims=512))
    assert model.neck.modalities == ('rgb', 'depth')
    data = preprocess(model, loader_batch(allow_ds, mixed['batch']))
    seen = []
    model.backbone['depth'].register_forward_pre_hook(
        lambda mod, args: seen.append(args[0].shape[0]))
    with torch.no_grad():
        tokens = model.backbone(
            {m: data['inputs'][f'{m}_imgs'][:, 0] for m in model.modalities})
        seen.clear()
        feats, kwargs = model.extract_feat(
            data['inputs'], data_samples=data['data_samples'], test_mode=True)
        assert seen == [2] and 'modality_mask' not in kwargs
        scores = model.cls_head(feats)
    for m in model.modalities:  # observed slots: their own tokens
        torch.testing.assert_close(feats[m][[0, 2]], tokens[m][[0, 2]],
                                   rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(feats['rgb'][[1, 3]], tokens['rgb'][[1, 3]],
                               rtol=1e-4, atol=1e-5)
    for row in (1, 3):
        depth = feats['depth'][row]
        assert depth.abs().sum() > 0  # not the zero placeholder token
        assert not torch.allclose(depth, tokens['depth'][row], atol=1e-3)
        alone = preprocess(model, loader_batch(allow_ds,
                                               [mixed['batch'][row]]))
        model.set_test_modalities(('rgb', ))
        with torch.no_grad():
            single, _ = model.extract_feat(alone['inputs'], test_mode=True,
                                           data_samples=alone['data_samples'])
            single_scores = model.cls_head(single)
        model.set_test_modalities(None)
        torch.testing.assert_close(depth, single['depth'][0],
                                   rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(scores[row], single_scores[0],
                                   rtol=1e-4, atol=1e-5)
    # placeholders never matter
    noisy = copy.deepcopy(data)
    noisy['inputs']['depth_imgs'][[1, 3]] = 100 * torch.randn(
        2, 1, 3, 8, 64, 64)
    with torch.no_grad():
        assert torch.equal(logits(model, noisy), logits(model, data))
    # training: the reconstruction loss, on a mixed batch
    model.train()
    losses = model(**preprocess(model, loader_batch(allow_ds,
                                                    mixed['batch']), True),
                   mode='loss')
    assert torch.isfinite(losses['loss_cls'])
    assert torch.isfinite(losses['loss_rec'])


# -------------------------------------------------------- heads on their own
def _tokens(n=4, c=16, mods=('rgb', 'depth', 'ir')):
    g = torch.Generator().manual_seed(0)
    return {m: torch.randn(n, c, generator=g) for m in mods}


@pytest.mark.parametrize('cls', [SumFusionHead, ConcatFusionHead,
                                 TransformerFusionHead])
def test_head_mask_per_sample_equals_dict_subsets(cls):
    mods = ('rgb', 'depth', 'ir')
    kwargs = dict(in_channels=16)
    if cls is TransformerFusionHead:
        kwargs['transformer'] = dict(num_heads=2, feedforward_channels=32)
    head = cls(5, mods, **kwargs)
    head.init_weights()
    torch.nn.init.normal_(head.fc_cls.bias if cls is not SumFusionHead
                          else head.fc_cls['rgb'].bias)
    head.eval()
    x = _tokens()
    mask = torch.tensor([[True, True, True], [True, False, True],
                         [False, True, False], [True, False, False]])
    with torch.no_grad():
        out = head(x, modality_mask=mask)
        for n in range(4):
            sub = {m: x[m][n:n + 1] for m, ok in zip(mods, mask[n]) if ok}
            torch.testing.assert_close(out[n], head(sub)[0], rtol=1e-5,
                                       atol=1e-6)
        # an all-True mask, or none, is the dict-only path
        torch.testing.assert_close(
            head(x, modality_mask=torch.ones(4, 3, dtype=torch.bool)), head(x))
        # a modality missing from the dict is absent for every sample
        sub = {m: x[m] for m in ('rgb', 'ir')}
        torch.testing.assert_close(
            head(sub, modality_mask=torch.ones(4, 3, dtype=torch.bool)),
            head(sub))
        sub = {m: x[m] for m in ('rgb', 'depth')}  # IR absent for all
        out_sub = head(sub, modality_mask=mask)
        for n, has in enumerate((('rgb', 'depth'), ('rgb', ), ('depth', ),
                                 ('rgb', ))):
            torch.testing.assert_close(
                out_sub[n], head({m: x[m][n:n + 1] for m in has})[0],
                rtol=1e-5, atol=1e-6)
        # absent tokens are not read
        noisy = {m: v.clone() for m, v in x.items()}
        noisy['depth'][[1, 3]] = float('nan')
        noisy['rgb'][2] = 1e4
        assert torch.equal(head(noisy, modality_mask=mask), out)
    with pytest.raises(ValueError, match='none of the modalities'):
        head(x, modality_mask=torch.tensor([[False] * 3] + [[True] * 3] * 3))
    with pytest.raises(ValueError, match=r'\[N, M\]'):
        head(x, modality_mask=mask[:, :2])
    if cls is ConcatFusionHead:  # full bias: zero-filled absent tokens
        head.missing_bias = 'full'
        zeroed = {m: torch.where(mask[:, i, None], x[m], 0.)
                  for i, m in enumerate(mods)}
        with torch.no_grad():
            torch.testing.assert_close(
                head(x, modality_mask=mask),
                head.fc_cls(torch.cat([zeroed[m] for m in mods], 1)),
                rtol=1e-5, atol=1e-6)


def test_sum_loss_per_modality_counts_the_samples_that_have_it():
    head = SumFusionHead(5, ('rgb', 'depth'), in_channels=16,
                         loss_per_modality=True)
    head.init_weights()
    x = _tokens(mods=('rgb', 'depth'))
    samples = [ActionDataSample().set_gt_label(i) for i in range(4)]
    mask = torch.tensor([[True, True], [True, False], [True, True],
                         [True, False]])
    losses = head.loss(x, samples, modality_mask=mask)
    expected = head.loss({'depth': x['depth'][[0, 2]]},
                         [samples[0], samples[2]])
    torch.testing.assert_close(losses['depth_loss_cls'],
                               expected['depth_loss_cls'])
    torch.testing.assert_close(losses['rgb_loss_cls'],
                               head.loss(x, samples)['rgb_loss_cls'])
