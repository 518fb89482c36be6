"""TSMF (paper 003): the joint spatial weights (eq. 4), the frozen teacher,
the weighted mosaic (eq. 6) and the ensemble (eq. 1) of TSMFRecognizer.
Tiny teacher / student for everything that runs; the paper-size models
are only counted."""
import copy

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData  # noqa: F401

import mmar_ext  # noqa: F401
from mmaction.registry import MODELS, TRANSFORMS
from mmaction.structures import ActionDataSample
from mmar_ext.models.necks.joint_spatial_weights import JointSpatialWeights

init_default_scope('mmaction')
GRAPH = dict(layout='nturgb+d', mode='stgcn_spatial')
NUM_CLASSES = 4
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def teacher_cfg(tiny=True, num_classes=NUM_CLASSES):
    backbone = dict(type='STGCN', graph_cfg=GRAPH, tcn_dropout=0.5)
    if tiny:
        backbone.update(base_channels=8, num_stages=3, inflate_stages=[3],
                        down_stages=[3])
    return dict(type='RecognizerGCN', backbone=backbone,
                cls_head=dict(type='GCNHead', num_classes=num_classes,
                              in_channels=16 if tiny else 256))


def tsmf_cfg(tiny=True, **kwargs):
    return dict(
        type='TSMFRecognizer',
        teacher=teacher_cfg(tiny, kwargs.pop('teacher_classes', NUM_CLASSES)),
        backbone=dict(type='ResNet', depth=18, pretrained=None),
        cls_head=dict(type='TSNHead', num_classes=NUM_CLASSES,
                      in_channels=512, dropout_ratio=0.),
        data_preprocessor=dict(
            type='MultiModalDataPreprocessor',
            preprocessors=dict(
                skeleton=dict(type='ActionDataPreprocessor'),
                roi_imgs=dict(type='ActionDataPreprocessor', mean=MEAN,
                              std=STD, format_shape='NCHW'))),
        **kwargs)


def build(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(tsmf_cfg(**kwargs))


def mosaic_cells(m=1, seed=0):
    """A 5 x 5 mosaic of 8 px cells (40 x 40) from random frames."""
    rng = np.random.default_rng(seed)
    imgs = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
            for _ in range(6)]
    kp = rng.uniform(10, 40, (m, 6, 17, 2)).astype(np.float32)
    res = dict(rgb_imgs=imgs, keypoint=kp,
               keypoint_score=np.ones(kp.shape[:-1], np.float32),
               frame_dir=f'S001C001P001R001A00{seed}')
    t = TRANSFORMS.build(dict(type='SkeletonROIMosaic', crop_size=8,
                              out_size=None, test_mode=True))
    r = t(res)
    return r['roi_imgs'][0], r['roi_cells']


def batch(b=2, m=1):
    g = torch.Generator().manual_seed(1)
    skel = torch.randn(b, 1, 2, 20, 25, 3, generator=g)
    mosaics, samples = [], []
    for i in range(b):
        mosaic, cells = mosaic_cells(m, seed=i)
        mosaics.append(torch.from_numpy(mosaic).permute(2, 0, 1).float())
        s = ActionDataSample().set_gt_label(i % NUM_CLASSES)
        s.set_metainfo(dict(roi_cells=cells, frame_dir=f'sample{i}'))
        samples.append(s)
    roi = (torch.stack(mosaics)[:, None] - torch.tensor(MEAN).view(
        3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)
    return dict(skeleton=skel, roi_imgs=roi), samples


# ----------------------------------------------------------------- counts
def test_parameter_counts_of_the_authors_models():
    """Not in the paper; the authors' definitions, 60 classes: the ST-GCN
    teacher (with GCNHead) and the ResNet18 student (with its FC)."""
    model = MODELS.build(dict(tsmf_cfg(tiny=False), cls_head=dict(
        type='TSNHead', num_classes=60, in_channels=512, dropout_ratio=0.),
        teacher=teacher_cfg(False, 60)))
    teacher = sum(p.numel() for p in model.teacher.parameters())
    student = sum(p.numel() for n, p in model.named_parameters()
                  if not n.startswith('teacher.'))
    assert (teacher, student) == (3_098_832, 11_207_292)


# ----------------------------------------------------------------- eq. 4
def planted_map():
    """[1, M=2, C=2, T=10, V=25]: body 0 strong, joint 3 rising in time."""
    feat = torch.zeros(1, 2, 2, 10, 25)
    feat[0, 0, :, :, 3] = torch.arange(10.)[None]  # 0..9 on both channels
    feat[0, 0, 0, :, 11] = 4.  # one channel only: mean 2
    feat[0, 1, :, :, 7] = 1.  # weaker body
    return feat


def test_joint_weights_hand_computed():
    feat = planted_map()
    scale = 255 / 127
    p = JointSpatialWeights()(feat)[0]
    # |P| channel mean; min 0, max 9 over the sample; body 0 (mean 0.06
    # > 0.04); top ceil(10/5)=2 frames of joint 3: (9 + 8)/2 / 9
    expect = torch.tensor([8.5 / 9, 2 / 9, 0, 0, 0]) * scale
    torch.testing.assert_close(p, expect)
    mean = JointSpatialWeights(frame_pool='mean')(feat)[0]
    torch.testing.assert_close(
        mean, torch.tensor([4.5 / 9, 2 / 9, 0, 0, 0]) * scale)
    # body 1 alone would give joint 7 (left hand) the top weight
    only1 = feat.clone()
    only1[:, 0] = 0
    assert JointSpatialWeights()(only1)[0].argmax() == 2
    # 'l2' differs from 'abs' by scale only where one channel is active
    l2 = JointSpatialWeights(channel_reduce='l2')(feat)[0]
    assert l2[0] == pytest.approx(scale * 8.5 / 9)


def test_joint_weights_per_sample_and_constant_maps(recwarn):
    module = JointSpatialWeights()
    g = torch.Generator().manual_seed(0)
    feats = torch.rand(3, 2, 8, 10, 25, generator=g) * torch.tensor(
        [1., 10., 100.]).view(3, 1, 1, 1, 1)
    together = module(feats)
    for i in range(3):
        torch.testing.assert_close(module(feats[i:i + 1])[0], together[i])
    feats[1] = 5.
    p = module(feats)
    assert module.constant.tolist() == [False, True, False]
    assert torch.equal(p[1], torch.ones(5))
    with pytest.raises(ValueError, match='graph nodes'):
        module(torch.rand(1, 2, 8, 10, 17))


# ----------------------------------------------------------- the teacher
def test_teacher_stays_frozen_through_training(tmp_path):
    model = build()
    model.train()
    assert not model.teacher.training and model.backbone.training
    before = copy.deepcopy(model.teacher.state_dict())
    optim = torch.optim.SGD([p for p in model.parameters()
                             if p.requires_grad], lr=0.1, momentum=0.9)
    inputs, samples = batch()
    for _ in range(2):
        losses = model(inputs, samples, mode='loss')
        assert set(losses) >= {'loss_cls'} and 'teacher_loss_cls' not in \
            losses
        optim.zero_grad()
        losses['loss_cls'].backward()
        optim.step()
    after = model.teacher.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # + BN
    assert all(p.grad is None for p in model.teacher.parameters())
    feat = model.teacher_features(inputs['skeleton'])
    p1 = model.part_weights(feat, 2)
    p2 = model.part_weights(model.teacher_features(inputs['skeleton']), 2)
    assert torch.equal(p1, p2)  # two train-mode forwards agree


def test_teacher_mode_train_trains_both():
    model = build(teacher_mode='train', ensemble_weight=0.5)
    model.train()
    assert model.teacher.training
    inputs, samples = batch()
    losses = model(inputs, samples, mode='loss')
    assert {'loss_cls', 'teacher_loss_cls'} <= set(losses)
    (losses['loss_cls'] + losses['teacher_loss_cls']).backward()
    assert all(p.grad is not None for p in model.teacher.parameters())


def test_teacher_checkpoint_loading(tmp_path):
    teacher = MODELS.build(teacher_cfg())
    path = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), path)
    model = build(teacher_checkpoint=str(path))
    model.init_weights()
    for k, v in teacher.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[k], v), k
    # a TSMF checkpoint works too (teacher.* keys)
    tsmf = tmp_path / 'tsmf.pth'
    torch.save(dict(state_dict=model.state_dict()), tsmf)
    build(teacher_checkpoint=str(tsmf)).init_weights()
    with pytest.raises(ValueError, match='stage-1 teacher'):
        build().init_weights()
    wrong = MODELS.build(teacher_cfg(num_classes=7))
    torch.save(dict(state_dict=wrong.state_dict()), path)
    with pytest.raises(ValueError, match='shape mismatch'):
        build(teacher_checkpoint=str(path)).init_weights()


# ------------------------------------------------------ eq. 6 and eq. 1
def test_uniform_weights_give_the_plain_student(monkeypatch):
    model = build().eval()
    plain = build(use_weights=False).eval()
    plain.load_state_dict(model.state_dict())
    inputs, samples = batch()
    monkeypatch.setattr(model.joint_weights, 'forward',
                        lambda feat: torch.ones(feat.shape[0], 5))
    with torch.no_grad():
        a = model(inputs, samples, mode='tensor')
        b = plain(inputs, samples, mode='tensor')
    torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize('space', ['normalized', 'raw'])
def test_each_row_is_scaled_by_its_joint(space):
    model = build(weight_space=space)
    inputs, samples = batch(m=2)
    assert samples[0].metainfo['roi_cells']['num_persons'] == 2
    p = torch.tensor([[0., 0.5, 1., 1.5, 2.]] * 2)
    out = model.weighted_mosaic(inputs['roi_imgs'], p, samples)
    x = inputs['roi_imgs']
    offset = (torch.tensor(MEAN) / torch.tensor(STD)).view(3, 1, 1)
    for r in range(5):  # 8-px rows; both persons' halves of every cell
        rows = slice(8 * r, 8 * r + 8)
        expect = x[..., rows, :] * p[0, r]
        if space == 'raw':  # (p X_raw - mean) / std
            expect = expect + (p[0, r] - 1) * offset
        torch.testing.assert_close(out[..., rows, :], expect)


def test_ensemble_scores_and_lambda_zero():
    model = build(ensemble_weight=0.).eval()
    inputs, samples = batch()
    with torch.no_grad():
        out = model(inputs, samples, mode='predict')
    for s in out:
        torch.testing.assert_close(s.ensemble_score, s.teacher_score)
        torch.testing.assert_close(s.pred_score, s.ensemble_score)
        assert {'teacher_score', 'student_score'} <= set(s.keys())
    student = build(test_cfg=dict(score='student')).eval()
    student.load_state_dict(model.state_dict())
    with torch.no_grad():
        out2 = student(inputs, batch()[1], mode='predict')
    torch.testing.assert_close(out2[0].pred_score, out[0].student_score)
    prob = build(fuse='prob').eval()
    prob.load_state_dict(model.state_dict())
    with torch.no_grad():
        s = prob(inputs, batch()[1], mode='predict')[0]
    expect = (s.teacher_score + s.student_score) / 2
    torch.testing.assert_close(s.ensemble_score, expect)


def test_bad_configuration_and_input():
    with pytest.raises(ValueError, match='must be >= 0'):
        build(ensemble_weight=-1)
    with pytest.raises(ValueError, match='5 classes and the student 4'):
        build(teacher_classes=5)
    with pytest.raises(ValueError, match='test_cfg.score'):
        build(test_cfg=dict(score='fused'))
    model = build().eval()
    inputs, samples = batch()
    with pytest.raises(KeyError, match='roi_imgs'):
        model(dict(skeleton=inputs['skeleton']), samples, mode='predict')
    bare = [ActionDataSample().set_gt_label(0) for _ in range(2)]
    with pytest.raises(KeyError, match='no roi_cells'):
        model(inputs, bare, mode='predict')
    cells = dict(samples[0].metainfo['roi_cells'])
    cells['joints'] = cells['joints'][:4]
    samples[0].set_metainfo(dict(roi_cells=cells))
    with pytest.raises(ValueError, match='sample0: the mosaic has 4 part'):
        model(inputs, samples, mode='predict')


def test_missing_modality_policy():
    """Skeleton alone: the teacher; RGB alone: the student with weights 1
    (the plain student's scores)."""
    model = build().eval()
    plain = build(use_weights=False).eval()
    plain.load_state_dict(model.state_dict())
    inputs, samples = batch()
    with torch.no_grad():
        full = model(inputs, samples, mode='predict')
        model.set_test_modalities(('skeleton', ))
        skel = model(dict(skeleton=inputs['skeleton']), batch()[1],
                     mode='predict')
        model.set_test_modalities(('rgb', ))
        rgb = model(dict(roi_imgs=inputs['roi_imgs']), batch()[1],
                    mode='predict')
        ref = plain(inputs, batch()[1], mode='predict')
    for f, s, r, p in zip(full, skel, rgb, ref):
        torch.testing.assert_close(s.pred_score, f.teacher_score)
        assert 'student_score' not in s
        torch.testing.assert_close(r.pred_score, p.student_score)
        assert 'teacher_score' not in r
    model.set_test_modalities(None)
    assert model.test_modalities == ('skeleton', 'rgb')
    with pytest.raises(ValueError, match='non-empty subset'):
        model.set_test_modalities(('depth', ))
    teacher_only = build(test_cfg=dict(score='teacher'))
    with pytest.raises(ValueError, match="score='teacher' needs"):
        teacher_only.set_test_modalities(('rgb', ))
    from mmar_ext.evaluation import missing_modality_policy
    assert missing_modality_policy(model).startswith('skeleton alone')
