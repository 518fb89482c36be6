"""Space-time encoder + sum/concat/transformer fusion (paper 001, §2)."""
import mmar_ext  # noqa: F401  (compat fixes + registration, must come first)

import copy

import pytest
import torch
import torch.nn.functional as F
import torchvision
from mmengine.optim import OptimWrapper

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmar_ext.models import (ConcatFusionHead, PreNormTransformerEncoder,
                             SpaceTimeEncoder, SumFusionHead, TokenTransformer,
                             TransformerFusionHead,
                             sinusoidal_position_embedding)

C = 512
NUM_CLASSES = 5
FUSIONS = ('SumFusionHead', 'ConcatFusionHead', 'TransformerFusionHead')


def n_params(module, trainable_only=False):
    return sum(p.numel() for p in module.parameters()
               if p.requires_grad or not trainable_only)


def encoder_cfg(depth=18, pretrained=None, **kwargs):
    return dict(
        type='SpaceTimeEncoder',
        space_encoder=dict(type='ResNet', depth=depth, pretrained=pretrained),
        **kwargs)


def recognizer_cfg(fusion='SumFusionHead',
                   modalities=('rgb', 'depth'),
                   head_kwargs=None,
                   **kwargs):
    return dict(
        type='MultiModalRecognizer',
        backbone={m: encoder_cfg()
                  for m in modalities},
        cls_head=dict(
            type=fusion, num_classes=NUM_CLASSES, **(head_kwargs or {})),
        **kwargs)


def build(cfg):
    model = MODELS.build(copy.deepcopy(cfg))
    model.init_weights()
    return model


def clips(batch=2, num_clips=1, t=2, size=32, modalities=('rgb', 'depth')):
    return {
        f'{m}_imgs': torch.randn(batch, num_clips, 3, t, size, size)
        for m in modalities
    }


def samples(batch=2):
    return [
        ActionDataSample().set_gt_label(i % NUM_CLASSES) for i in range(batch)
    ]


def tokens(batch=3, modalities=('rgb', 'depth', 'ir')):
    return {m: torch.randn(batch, C) for m in modalities}


# ---------------------------------------------------------------- transformer
def test_time_encoder_parameter_count():
    """2 layers x 3,152,384 = 6,304,768 = M-Mixer's 'Transformer 6,304.78K'."""
    layers = PreNormTransformerEncoder(embed_dims=512, num_layers=2)
    assert n_params(layers) == 6_304_768
    time_encoder = TokenTransformer(embed_dims=512, num_layers=2)
    assert n_params(time_encoder) == 6_304_768 + 512  # + class token
    # the fixed embedding (eq. (2)) is a buffer: not trained, not saved
    assert 'pos_embed' in dict(time_encoder.named_buffers())
    assert not any('pos_embed' in k for k in time_encoder.state_dict())
    learnable = TokenTransformer(
        embed_dims=64, num_heads=4, pos_embed='learnable', max_positions=17)
    assert learnable.pos_embed.requires_grad


def test_pre_ln_layer_matches_eqs_3_4():
    enc = PreNormTransformerEncoder(embed_dims=64, num_layers=1, num_heads=4,
                                    feedforward_channels=128)
    enc.init_weights()
    enc.eval()
    layer = enc.layers[0]
    x = torch.randn(2, 5, 64)
    h = layer.norm1(x)
    y = layer.self_attn(h, h, h, need_weights=False)[0] + x  # eq. (3)
    ffn = layer.linear2(F.gelu(layer.linear1(layer.norm2(y))))
    expected = ffn + y  # eq. (4)
    torch.testing.assert_close(enc(x), expected, atol=1e-5, rtol=1e-4)
    assert isinstance(enc.norm, torch.nn.Identity)
    with_norm = PreNormTransformerEncoder(embed_dims=64, num_heads=4,
                                          final_norm=True)
    assert isinstance(with_norm.norm, torch.nn.LayerNorm)


def test_sinusoidal_position_embedding():
    pe = sinusoidal_position_embedding(20, 8)
    assert pe.shape == (20, 8)
    torch.testing.assert_close(pe[0], torch.tensor([0., 1.] * 4))
    p = torch.arange(20.)
    torch.testing.assert_close(pe[:, 0], torch.sin(p))
    torch.testing.assert_close(pe[:, 1], torch.cos(p))
    torch.testing.assert_close(pe[:, 7], torch.cos(p / 10000**(6 / 8)))


def test_token_transformer_padding_mask_equals_dropping():
    enc = TokenTransformer(embed_dims=64, num_heads=4, pos_embed=None)
    enc.init_weights()
    enc.eval()
    x = torch.randn(2, 3, 64)
    mask = torch.tensor([[False, True, False]] * 2)
    masked = enc(x, key_padding_mask=mask)[:, 0]
    dropped = enc(x[:, [0, 2]])[:, 0]
    torch.testing.assert_close(masked, dropped, atol=1e-5, rtol=1e-4)


# ---------------------------------------------------------------- encoder
def test_space_time_encoder_shapes():
    enc = MODELS.build(encoder_cfg())
    enc.init_weights()
    x = torch.randn(3, 3, 2, 32, 32)
    assert enc(x).shape == (3, C)
    enc.return_tokens = True
    cls, frame_tokens = enc(x)
    assert cls.shape == (3, C) and frame_tokens.shape == (3, 2, C)
    frames = MODELS.build(encoder_cfg(time_encoder=None))
    assert frames(x).shape == (3, 2, C)


def test_resnet34_parameter_count():
    enc = SpaceTimeEncoder(
        space_encoder=dict(type='ResNet', depth=34, pretrained=None))
    tv = torchvision.models.resnet34()
    tv_no_fc = n_params(tv) - n_params(tv.fc)
    assert tv_no_fc == 21_284_672
    assert n_params(enc.space_encoder) == tv_no_fc
    assert n_params(enc.time_encoder) == 6_304_768 + 512


def test_imagenet_style_initialisation_from_local_checkpoint(tmp_path):
    torch.manual_seed(0)
    tv = torchvision.models.resnet18()
    # make BN statistics non-trivial so that buffers are checked too
    for m in tv.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    path = tmp_path / 'resnet18_tv.pth'
    state = tv.state_dict()
    torch.save(state, path)

    model = build(
        dict(
            type='MultiModalRecognizer',
            backbone=dict(rgb=encoder_cfg(pretrained=str(path))),
            cls_head=dict(type='SumFusionHead', num_classes=NUM_CLASSES)))
    resnet = model.backbone['rgb'].space_encoder
    pairs = {
        'conv1.conv.weight': 'conv1.weight',
        'conv1.bn.weight': 'bn1.weight',
        'conv1.bn.running_mean': 'bn1.running_mean',
        'layer1.0.conv1.conv.weight': 'layer1.0.conv1.weight',
        'layer2.0.downsample.conv.weight': 'layer2.0.downsample.0.weight',
        'layer2.0.downsample.bn.running_var':
        'layer2.0.downsample.1.running_var',
        'layer4.1.conv2.conv.weight': 'layer4.1.conv2.weight',
        'layer4.1.conv2.bn.bias': 'layer4.1.bn2.bias',
    }
    ours = resnet.state_dict()
    for mine, theirs in pairs.items():
        torch.testing.assert_close(ours[mine], state[theirs])
    loaded = sum(v.numel() for k, v in state.items()
                 if not k.startswith('fc.') and 'num_batches' not in k)
    same = sum(v.numel() for k, v in ours.items() if 'num_batches' not in k)
    assert loaded == same  # everything but the ImageNet classifier


def test_norm_eval_and_frozen_stages_pass_through():
    enc = SpaceTimeEncoder(
        space_encoder=dict(
            type='ResNet', depth=18, pretrained=None, norm_eval=True,
            frozen_stages=1))
    enc.train()
    resnet = enc.space_encoder
    assert not resnet.conv1.bn.training
    assert not resnet.layer4[0].conv1.bn.training
    assert not any(p.requires_grad for p in resnet.layer1.parameters())
    assert all(p.requires_grad for p in resnet.layer2.parameters())


# ---------------------------------------------------------------- recognizer
@pytest.mark.parametrize('fusion', FUSIONS)
@pytest.mark.parametrize('modalities', [('rgb', 'depth'),
                                        ('rgb', 'depth', 'ir')])
def test_loss_reaches_every_parameter(fusion, modalities):
    torch.manual_seed(0)
    model = build(recognizer_cfg(fusion, modalities))
    model.train()
    losses = model(clips(modalities=modalities), samples(), mode='loss')
    assert {'loss_cls', 'top1_acc', 'top5_acc'} <= set(losses)
    losses['loss_cls'].backward()
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None, name
            assert p.grad.abs().sum() > 0, name


def test_init_cfg_pretrained_loads_the_whole_model(tmp_path):
    source = build(recognizer_cfg())
    path = tmp_path / 'source.pth'
    torch.save(dict(state_dict=source.state_dict()), path)
    # another head (non-strict: its missing keys keep their own init)
    model = build(recognizer_cfg(
        'ConcatFusionHead',
        init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    for k, v in source.backbone.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[k], v), k


def test_frozen_modules_get_no_gradient_and_stay_in_eval_mode():
    model = build(recognizer_cfg(frozen_modules=('backbone.rgb', )))
    model.train()
    assert not model.backbone['rgb'].training
    assert model.backbone['depth'].training and model.cls_head.training
    bn = model.backbone['rgb'].space_encoder.conv1.bn
    before = bn.running_mean.clone()
    losses = model(clips(), samples(), mode='loss')
    losses['loss_cls'].backward()
    torch.testing.assert_close(bn.running_mean, before)  # stats kept
    for name, p in model.named_parameters():
        frozen = name.startswith('backbone.rgb.')
        assert p.requires_grad is not frozen, name
        assert (p.grad is None) is frozen, name
    with pytest.raises(ValueError, match="no submodule 'nek'"):
        build(recognizer_cfg(frozen_modules=('nek', )))


@pytest.mark.parametrize('fusion', FUSIONS)
def test_predict_and_tensor_modes(fusion):
    model = build(recognizer_cfg(fusion))
    model.eval()
    with torch.no_grad():
        results = model(clips(batch=3), samples(3), mode='predict')
        feats = model(clips(batch=3), mode='tensor', stage='backbone')
        scores = model(clips(batch=3), mode='tensor', stage='head')
    assert len(results) == 3
    assert results[0].pred_score.shape == (NUM_CLASSES, )
    assert set(feats) == {'rgb', 'depth'}
    assert feats['rgb'].shape == (3, C)
    assert scores.shape == (3, NUM_CLASSES)


def test_multi_clip_predict_averages_probabilities():
    model = build(recognizer_cfg('TransformerFusionHead'))
    model.eval()
    inputs = clips(batch=2, num_clips=3)
    with torch.no_grad():
        results = model(inputs, samples(2), mode='predict')
        logits = model(inputs, mode='tensor', stage='head')  # [2 * 3, K]
    expected = logits.softmax(-1).view(2, 3, NUM_CLASSES).mean(1)
    got = torch.stack([r.pred_score for r in results])
    torch.testing.assert_close(got, expected)


def test_label_smoothing_equals_torch():
    head = SumFusionHead(NUM_CLASSES, ('rgb', ), label_smooth_eps=0.1)
    x = {'rgb': torch.randn(4, C)}
    data_samples = samples(4)
    loss = head.loss(x, data_samples)['loss_cls']
    labels = torch.tensor([s.gt_label.item() for s in data_samples])
    expected = F.cross_entropy(head(x), labels, label_smoothing=0.1)
    torch.testing.assert_close(loss, expected)


def test_unimodal_recognizer():
    model = build(recognizer_cfg('SumFusionHead', modalities=('depth', )))
    assert model.cls_head.modalities == ('depth', )
    losses = model(clips(modalities=('depth', )), samples(), mode='loss')
    assert losses['loss_cls'].ndim == 0
    # a plain tensor input is accepted for one modality
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 1, 3, 2, 32, 32), samples(), mode='predict')
    assert len(out) == 2


def test_modalities_argument_selects_encoders():
    cfg = recognizer_cfg('ConcatFusionHead', ('rgb', 'depth', 'ir'))
    model = MODELS.build(dict(cfg, modalities=('ir', 'rgb')))
    assert model.modalities == ('ir', 'rgb')
    assert set(model.backbone.keys()) == {'ir', 'rgb'}
    assert model.cls_head.modalities == ('ir', 'rgb')
    with pytest.raises(ValueError):
        MODELS.build(dict(recognizer_cfg(), modalities=('skeleton', )))


# ------------------------------------------------------- missing modalities
def test_sum_missing_modality_is_that_modality_fc():
    head = SumFusionHead(NUM_CLASSES, ('rgb', 'depth', 'ir'))
    head.init_weights()
    x = tokens()
    torch.testing.assert_close(head({'rgb': x['rgb']}),
                               head.fc_cls['rgb'](x['rgb']))
    torch.testing.assert_close(
        head({'depth': x['depth'], 'ir': x['ir']}),
        head.fc_cls['depth'](x['depth']) + head.fc_cls['ir'](x['ir']))


def test_concat_missing_modality_splits_weight_and_bias():
    head = ConcatFusionHead(NUM_CLASSES, ('rgb', 'depth', 'ir'))
    head.init_weights()
    torch.nn.init.normal_(head.fc_cls.bias)
    x = tokens()
    w, b = head.fc_cls.weight, head.fc_cls.bias
    w_rgb, w_depth, w_ir = w[:, :C], w[:, C:2 * C], w[:, 2 * C:]
    full = head(x)
    torch.testing.assert_close(
        full, x['rgb'] @ w_rgb.t() + x['depth'] @ w_depth.t() +
        x['ir'] @ w_ir.t() + b)
    # footnote 3: uni-modal prediction = W_m x_m + b / M
    torch.testing.assert_close(head({'depth': x['depth']}),
                               x['depth'] @ w_depth.t() + b / 3)
    torch.testing.assert_close(
        head({'rgb': x['rgb'], 'ir': x['ir']}),
        x['rgb'] @ w_rgb.t() + x['ir'] @ w_ir.t() + b * 2 / 3)
    head.missing_bias = 'full'  # == zero-filling the absent tokens
    zeros = torch.zeros_like(x['rgb'])
    torch.testing.assert_close(
        head({'rgb': x['rgb']}), head.fc_cls(
            torch.cat([x['rgb'], zeros, zeros], 1)))


@pytest.mark.parametrize('modality_embed', [False, True])
def test_transformer_missing_modality_drops_tokens(modality_embed):
    head = TransformerFusionHead(
        NUM_CLASSES, ('rgb', 'depth', 'ir'), modality_embed=modality_embed)
    head.init_weights()
    head.eval()
    x = tokens()
    assert head(x).shape == (3, NUM_CLASSES)
    assert head({'depth': x['depth']}).shape == (3, NUM_CLASSES)
    # dropping the IR token == masking it out of the full sequence
    seq = torch.stack([x['rgb'], x['depth'], x['ir']], 1)
    if modality_embed:
        seq = seq + head.modality_embed
    mask = torch.tensor([[False, False, True]] * 3)
    expected = head.fc_cls(head.fusion(seq, key_padding_mask=mask)[:, 0])
    torch.testing.assert_close(
        head({'rgb': x['rgb'], 'depth': x['depth']}), expected,
        atol=1e-5, rtol=1e-4)
    with pytest.raises(KeyError):
        head({'skeleton': x['rgb']})


@pytest.mark.parametrize('fusion', FUSIONS)
def test_recognizer_skips_absent_encoders(fusion):
    model = build(
        recognizer_cfg(
            fusion, ('rgb', 'depth', 'ir'),
            test_cfg=dict(modalities=('depth', 'rgb'))))
    assert model.test_modalities == ('rgb', 'depth')
    calls = {m: 0 for m in model.modalities}

    def counter(m):
        def hook(*_):
            calls[m] += 1
        return hook

    for m in model.modalities:
        model.backbone[m].register_forward_hook(counter(m))
    model.eval()
    inputs = clips(modalities=('rgb', 'depth', 'ir'))
    with torch.no_grad():
        two = model(inputs, samples(), mode='predict')
        assert calls == {'rgb': 1, 'depth': 1, 'ir': 0}
        model.set_test_modalities(('rgb', ))
        logits = model(inputs, mode='tensor', stage='head')
        assert calls == {'rgb': 2, 'depth': 1, 'ir': 0}
        token = model.backbone['rgb'](inputs['rgb_imgs'][:, 0])
        expected = model.cls_head({'rgb': token})
        torch.testing.assert_close(logits, expected)
        # an absent input key is a missing modality at test time
        model.set_test_modalities(None)
        del inputs['ir_imgs']
        model(inputs, samples(), mode='predict')
        assert calls['ir'] == 0
    assert len(two) == 2
    with pytest.raises(ValueError):
        model.set_test_modalities(('skeleton', ))
    # training uses every modality, whatever the test setting
    model.set_test_modalities(('rgb', ))
    model.train()
    with pytest.raises(KeyError):
        model(inputs, samples(), mode='loss')


# ---------------------------------------------------------------- config
def test_build_from_config_with_multimodal_preprocessor():
    preprocessor = dict(
        type='MultiModalDataPreprocessor',
        preprocessors=dict(
            rgb_imgs=dict(
                type='ActionDataPreprocessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                format_shape='NCTHW'),
            depth_imgs=dict(
                type='ActionDataPreprocessor',
                mean=[127.5, 127.5, 127.5],
                std=[127.5, 127.5, 127.5],
                format_shape='NCTHW')))
    cfg = recognizer_cfg(
        'TransformerFusionHead',
        head_kwargs=dict(label_smooth_eps=0.1),
        data_preprocessor=preprocessor)
    model = build(cfg)
    # what PackActionInputs(collect_keys=('rgb_imgs', 'depth_imgs')) yields
    data = dict(
        inputs=dict(
            rgb_imgs=[torch.randint(0, 255, (1, 3, 2, 32, 32)).float()
                      for _ in range(2)],
            depth_imgs=[torch.randint(0, 255, (1, 3, 2, 32, 32)).float()
                        for _ in range(2)]),
        data_samples=samples(2))
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-4))
    log_vars = model.train_step(copy.deepcopy(data), optim)
    assert 'loss' in log_vars and torch.isfinite(log_vars['loss'])
    results = model.val_step(copy.deepcopy(data))
    assert len(results) == 2 and results[0].pred_score.shape == (NUM_CLASSES, )

    # default preprocessor for the modalities when none is given
    default = build(recognizer_cfg('SumFusionHead'))
    assert set(default.data_preprocessor.preprocessors) == {
        'rgb_imgs', 'depth_imgs'}
