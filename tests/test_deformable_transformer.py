"""The cross-modal 3D deformable transformer (paper 004) assembled:
R(2+1)D maps, the neck's blocks and switches (Tables 4, 5), the
missing-modality policy, bad input, the configs and a whole tools/train.py
+ tools/test.py + robustness-report run on the tiny synthetic set. The
modules are tested alone in test_deformable_attention_3d.py,
test_stride_attention.py and test_joint_tokenizer.py."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from e2e_helpers import PY, ROOT, data_options, dump_scores, run
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmar_ext  # noqa: F401
from mmaction.registry import MODELS
from mmar_ext.evaluation import ModalitySubsetNotApplicable

init_default_scope('mmaction')
SYNTH = osp.join(ROOT, 'configs', 'deformable_transformer_synth.py')
TINY = dict(in_channels=(8, 16), token_shape=(4, 4, 4), num_layers=2,
            num_heads=2, kernel_size=3)


def neck(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='CrossModalDeformableTransformer', **TINY)
    cfg.update(kwargs)
    module = MODELS.build(cfg)
    module.init_weights()
    return module


def inputs(b=2, t=4, joints=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    f_a = torch.randn(b, 8, t, 16, 16, generator=g)
    f_b = torch.randn(b, 16, t, 4, 4, generator=g)
    coords = torch.rand(b, t, joints, 3, generator=g) * 15
    coords[..., 2] = 1
    return f_a, f_b, coords


def test_backbone_gives_f_a_and_f_b():
    net = MODELS.build(dict(type='ResNet2Plus1dMaps', base_channels=8))
    f_a, f_b = net(torch.randn(1, 3, 12, 64, 64))
    assert f_a.shape == (1, 8, 12, 32, 32)  # C x T x H/2 x W/2
    assert f_b.shape == (1, 32, 12, 8, 8)  # 4C x T x H/8 x W/8
    assert net.out_channels == (8, 32)
    assert not net.with_pool1 and not net.with_pool2  # no max-pool


@pytest.mark.parametrize('kwargs,channels', [
    (dict(), 3 * 16), (dict(modal_tokens='single'), 16),
    (dict(modal_tokens='none'), 2 * 16),
    (dict(deformable='full', joint_attention='full',
          temporal_attention='full'), 3 * 16),
    (dict(deformable='off'), 3 * 16), (dict(joint_attention='off'), 3 * 16),
    (dict(temporal_attention='off'), 3 * 16),
    (dict(temporal_modules='per_modality'), 3 * 16),
    (dict(temporal_modules='per_modality', modal_tokens='single'), 16)])
def test_every_variant_trains_every_part(kwargs, channels):
    """Shapes, and gradients reaching every parameter -- the offset convs,
    q/k/v, the modal tokens, the position embedding -- and F_a through the
    pose tokens alone (Tables 4, 5 switches)."""
    module = neck(**kwargs)
    f_a, f_b, coords = inputs()
    f_a.requires_grad_(True)
    out, aux = module({'rgb': (f_a, f_b), 'pose': coords})
    assert out.shape == (2, channels, 4, 1, 1) == (2, module.out_channels,
                                                   4, 1, 1)
    assert aux == {}
    out.square().mean().backward()
    silent = [n for n, p in module.named_parameters()
              if p.grad is None or not p.grad.abs().sum()]
    # the last offset conv starts at zero and gets a gradient (through the
    # sampling derivative); the 3DTS layers before it do once it moved
    assert all('token_search.conv.' in n or 'token_search.norm.' in n
               for n in silent), silent
    assert f_a.grad.abs().sum() > 0  # F_a reaches the output through P
    for name, p in module.named_parameters():
        if 'conv_offset.weight' in name:
            p.data.normal_(0, 0.01)
    module.zero_grad()
    module({'rgb': (f_a, f_b), 'pose': coords})[0].square().mean().backward()
    silent = [n for n, p in module.named_parameters()
              if p.grad is None or not p.grad.abs().sum()]
    assert silent == [], silent
    offsets = [n for n, _ in module.named_parameters()
               if 'token_search.conv_offset' in n]
    assert len(offsets) == (0 if kwargs.get('deformable') in ('off', 'full')
                            else 2 * 2)  # weight + bias, 2 blocks


def test_switch_values_and_sizes_are_checked():
    for key in ('modal_tokens', 'deformable', 'joint_attention',
                'temporal_attention', 'temporal_modules'):
        with pytest.raises(ValueError, match=key):
            neck(**{key: 'maybe'})
    with pytest.raises(ValueError, match='per_modality.* needs modal tokens'):
        neck(temporal_modules='per_modality', modal_tokens='none')
    with pytest.raises(ValueError, match='T, H/8 and W/8 >= 7'):
        neck(kernel_size=7)  # 4 x 4 x 4 tokens
    neck(kernel_size=7, deformable='full')  # no token search: fine


def test_per_modality_temporal_pair_keeps_the_rgb_side_apart():
    """With the pair, the RGB temporal module sees no joint token: with the
    other modules off, one block's M_RGB does not depend on the joints,
    while the merged module's does; the pair's M_CLS is the mean of its two
    modules' CLS outputs."""
    f_a, f_b, coords = inputs()
    moved = coords.clone()
    moved[..., :2] = moved[..., :2].flip(1)
    for modules, same in (('per_modality', True), ('merged', False)):
        torch.manual_seed(0)
        module = neck(temporal_modules=modules, num_layers=1,
                      deformable='off', joint_attention='off').eval()
        with torch.no_grad():
            out = module({'rgb': (f_a, f_b), 'pose': coords})[0]
            out2 = module({'rgb': (f_a, f_b), 'pose': moved})[0]
        m_rgb, m_rgb2 = out[:, :16], out2[:, :16]
        assert torch.allclose(m_rgb, m_rgb2) == same, modules
        assert torch.isfinite(module({'rgb': (f_a, f_b)})[0]).all()
    block = module.blocks[0]
    assert block.temporal_pose is None
    block = neck(temporal_modules='per_modality').blocks[0]
    assert isinstance(block.temporal_pose, type(block.temporal))


def test_missing_pose_policy():
    """RGB alone: the joint tokens are masked (finite, and the logits do
    not depend on the coordinates); samples without joints or with a
    missing person: finite; pose alone: not applicable."""
    module = neck().eval()
    f_a, f_b, coords = inputs()
    with torch.no_grad():
        alone, _ = module({'rgb': (f_a, f_b)})
        assert torch.isfinite(alone).all()
        none = coords.clone()
        none[..., 2] = 0  # every joint missing
        masked, _ = module({'rgb': (f_a, f_b), 'pose': none})
        moved = none.clone()
        moved[..., :2] += 3
        masked2, _ = module({'rgb': (f_a, f_b), 'pose': moved})
        torch.testing.assert_close(masked, masked2)
        half = coords.clone()
        half[:, :, 3:, 2] = 0  # the second person absent
        assert torch.isfinite(module({'rgb': (f_a, f_b), 'pose': half})[0]
                              ).all()
        # per sample: present[:, pose] False == no joints for that sample
        present = torch.tensor([[True, False], [True, True]])
        out, _ = module({'rgb': (f_a, f_b), 'pose': coords}, present=present)
        ref, _ = module({'rgb': (f_a, f_b), 'pose': none})
        torch.testing.assert_close(out[0], ref[0])
    with pytest.raises(ModalitySubsetNotApplicable, match='pool the RGB'):
        module.check_modalities(('pose', ))
    module.check_modalities(('rgb', ))


def test_recognizer_refuses_pose_alone():
    cfg = Config.fromfile(SYNTH)
    model = MODELS.build(cfg.model)
    model.set_test_modalities(('rgb', ))
    assert model.test_modalities == ('rgb', )
    with pytest.raises(ModalitySubsetNotApplicable):
        model.set_test_modalities(('pose', ))
    assert 'not applicable' in model.neck.missing_modality_policy


def test_joints_outside_the_crop_give_almost_nothing():
    """A joint 3 sigma (and more) outside F_a pools ~0 features: its token
    is the projection's bias."""
    module = neck()
    f_a, _, coords = inputs()
    far = coords.clone()
    far[..., 0] = -4.  # 4 cells left of column 0, sigma = 1
    tokens, missing = module.tokenizer(f_a, far)
    bias = module.tokenizer.proj.bias
    assert not missing.any()
    assert (tokens - bias).abs().max() < 0.05 * tokens.abs().max()


def test_paper_size_model_and_configs():
    """Our counts (the paper gives none): R(2+1)D-18 + the neck, NTU60."""
    sizes = {}
    for path in sorted(glob.glob(osp.join(ROOT, 'configs',
                                          'deformable_transformer_*.py'))):
        cfg = Config.fromfile(path)
        name = osp.basename(path)[len('deformable_transformer_'):-3]
        sizes[name] = (cfg.model.cls_head.num_classes,
                       cfg.train_dataloader.dataset.split)
        if name == 'ntu60_xsub':
            model = MODELS.build(cfg.model)
            assert sum(p.numel() for p in model.parameters()) == 21_113_153
            assert tuple(cfg.model.neck.token_shape) == (12, 28, 28)
            assert cfg.train_dataloader.dataset.pipeline[-2][
                'keypoint_key'] == 'keypoint_ntu25'
    assert sizes['ntu60_xview'] == (60, 'xview_train')
    assert sizes['ntu120_xset'] == (120, 'xset_train')
    assert sizes['finegym'] == (99, 'gym99_train')
    assert sizes['pennaction'] == (15, 'train')


@pytest.mark.timeout(900)
def test_train_test_and_robustness_report(e2e_data, tmp_path):
    """tools/train.py, tools/test.py and the robustness report on the tiny
    synthetic set: R+P and R; P alone listed as not applicable."""
    opts = data_options(e2e_data) + [
        'model.neck.num_layers=1', 'train_dataloader.batch_size=4']
    work = tmp_path / 'work'
    run([PY, 'tools/train.py', SYNTH, '--work-dir', work, '--cfg-options',
         *opts])
    ckpt = (work / 'last_checkpoint').read_text().strip()
    dump = tmp_path / 'dump.pkl'
    run([PY, 'tools/test.py', SYNTH, ckpt, '--work-dir', work, '--dump',
         dump, '--cfg-options', *opts])
    scores = dump_scores(dump)
    assert scores.shape == (e2e_data['num_val'], 12)
    assert np.isfinite(scores).all()
    report = tmp_path / 'report.md'
    run([PY, 'tools/analysis/missing_modality_eval.py', SYNTH, ckpt,
         '--work-dir', tmp_path / 'missing', '--out', report,
         '--decode', 'all', '--cfg-options', *opts])
    text = report.read_text()
    rows = [line.split('|')[1].strip() for line in text.splitlines()
            if line.startswith('|')][2:]
    assert rows == ['R+P', 'R', 'mean Δ (1 of 2 subsets)'], rows
    assert 'Not applicable: P -- ' in text


def test_frame_transforms_move_the_keypoints_of_keypoint_key():
    """ModalityTransforms(keypoint_key='keypoint_ntu25'): MMAction2's
    Resize / Flip move those joints (left / right swapped) with the frames;
    the COCO 'keypoint' stays as it was."""
    from mmaction.registry import TRANSFORMS
    rng = np.random.default_rng(0)
    ntu = rng.uniform(0, 40, (1, 2, 25, 2)).astype(np.float32)
    coco = rng.uniform(0, 40, (1, 2, 17, 2)).astype(np.float32)
    res = dict(modalities=('rgb', ), rgb_imgs=[np.zeros((40, 60, 3),
                                                        np.uint8)] * 2,
               keypoint_ntu25=ntu.copy(),
               keypoint_ntu25_score=np.ones((1, 2, 25), np.float32),
               keypoint=coco.copy(), img_shape=(40, 60))
    left = [4, 5, 6, 7, 12, 13, 14, 15, 21, 22]
    right = [8, 9, 10, 11, 16, 17, 18, 19, 23, 24]
    t = TRANSFORMS.build(dict(
        type='ModalityTransforms', modalities=('rgb', ),
        keypoint_modality='rgb', keypoint_key='keypoint_ntu25',
        transforms=[dict(type='Resize', scale=(120, 80), keep_ratio=False),
                    dict(type='Flip', flip_ratio=1., left_kp=left,
                         right_kp=right)]))
    out = t(res)
    expect = ntu * 2
    expect[..., 0] = 120 - expect[..., 0]
    expect[..., left + right, :] = expect[..., right + left, :]
    np.testing.assert_allclose(out['keypoint_ntu25'], expect, rtol=1e-6)
    np.testing.assert_array_equal(out['keypoint'], coco)
    assert out['img_shape'] == (80, 120)
