"""M-Mixer core modules (paper 000, §III): MCU (eq. 11-18), multi-modal
feature bank (eq. 4-8), CFEM (eq. 19-20) and the MMixer neck. Tiny widths."""
import math

import pytest
import torch

from mmaction.registry import MODELS
from mmar_ext.models.heads.fusion_heads import SumFusionHead
from mmar_ext.models.necks.cross_modality_encoding import \
    CrossModalityFeatureEncoding
from mmar_ext.models.necks.m_mixer import MMixer
from mmar_ext.models.necks.modality_context_unit import ModalityContextUnit
from mmar_ext.models.necks.multimodal_feature_bank import \
    MultiModalFeatureBank

D = 12  # divisible by 2 and 3 (the bank) and by the 2 heads
T, HW = 10, (2, 2)


def maps(mods, b=2, t=T, c=D, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(b, c, t, *HW, generator=g) for m in mods}


def force(module, value):
    """Forward hook: the module's output becomes ``value`` everywhere (a
    pre-sigmoid logit of +-200 forces a gate to exactly 1 / 0 in float32)."""
    return module.register_forward_hook(
        lambda mod, inp, out: torch.full_like(out, value))


# --------------------------------------------------------------------- MCU
def mcu_reference(unit, f, g):
    """eq. 11-18 written out with the unit's weights (f_bar in eq. 13-14)."""
    f_bar = torch.tanh(unit.norm_f(f @ unit.proj_f.weight.T))
    g_bar = torch.tanh(unit.norm_g(g @ unit.proj_g.weight.T))
    h = torch.zeros(f.shape[0], unit.embed_dims)
    out = []
    for t in range(f.shape[1]):
        ft = f_bar[:, t]
        s = torch.sigmoid(unit.norm_s(torch.cat([ft, g_bar], -1)
                                      @ unit.mix.weight.T))
        ft = s * ft + (1 - s) * g_bar
        r = torch.sigmoid(unit.norm_r((ft + h) @ unit.gate_r.weight.T))
        z = torch.sigmoid(unit.norm_z((ft + h) @ unit.gate_z.weight.T))
        cand = torch.tanh(unit.norm_h((r * h + ft) @ unit.cand.weight.T))
        h = z * cand + (1 - z) * h
        out.append(h)
    return torch.stack(out, 1)


def test_mcu_matches_equations_and_has_no_biases():
    torch.manual_seed(0)
    unit = ModalityContextUnit(D, content_channels=2 * D)
    f, g = torch.randn(3, 4, D), torch.randn(3, 2 * D)
    out = unit(f, g)
    assert out.shape == (3, 4, D)
    torch.testing.assert_close(out, mcu_reference(unit, f, g))
    for name, mod in unit.named_modules():
        if isinstance(mod, torch.nn.Linear):
            assert mod.bias is None, name
    # r and z have their own matrices (eq. 15-16)
    assert unit.gate_r.weight is not unit.gate_z.weight
    shared = ModalityContextUnit(D, share_gate_weights=True)
    assert shared.gate_z is None


def identity_unit(d=2):
    """No LN, all matrices identity, so eq. 11-18 can be done by hand."""
    unit = ModalityContextUnit(d, norm=False)
    with torch.no_grad():
        for lin in (unit.proj_f, unit.proj_g, unit.gate_r, unit.gate_z,
                    unit.cand):
            lin.weight.copy_(torch.eye(d))
    return unit


F_SEQ = [[0.5, -1.0], [0.2, 0.3], [-0.4, 0.1]]


def test_mcu_s_one_update_open_is_hand_computed():
    """s=1 (only f), r=1, z=1: h_t = tanh(h_{t-1} + tanh(f_t))."""
    unit = identity_unit()
    hooks = [force(unit.norm_s, 200.), force(unit.norm_r, 200.),
             force(unit.norm_z, 200.)]
    f = torch.tensor([F_SEQ])
    out = unit(f, torch.tensor([[3.0, -2.0]]))
    h, expect = [0., 0.], []
    for ft in F_SEQ:
        h = [math.tanh(h[k] + math.tanh(ft[k])) for k in range(2)]
        expect.append(h)
    torch.testing.assert_close(out, torch.tensor([expect]))
    # s = 1: the content g is ignored
    torch.testing.assert_close(unit(f, torch.tensor([[-7.0, 1.0]])), out)
    for hk in hooks:
        hk.remove()


def test_mcu_update_gate_closed_and_half():
    unit = identity_unit()
    force(unit.norm_s, 200.)
    force(unit.norm_r, 200.)
    f, g = torch.tensor([F_SEQ]), torch.tensor([[3.0, -2.0]])
    hz = force(unit.norm_z, -200.)  # z = 0: h_t = h_{t-1} = h_0 = 0
    assert unit(f, g).abs().max() == 0
    hz.remove()
    force(unit.norm_z, 0.)  # z = 1/2: h_t = (h~_t + h_{t-1}) / 2
    h, expect = [0., 0.], []
    for ft in F_SEQ:
        h = [0.5 * math.tanh(h[k] + math.tanh(ft[k])) + 0.5 * h[k]
             for k in range(2)]
        expect.append(h)
    torch.testing.assert_close(unit(f, g), torch.tensor([expect]))


def test_mcu_s_zero_uses_only_content():
    unit = identity_unit()
    force(unit.norm_s, -200.)
    g = torch.tensor([[0.7, -0.2]])
    a = unit(torch.tensor([F_SEQ]), g)
    b = unit(torch.randn(1, 3, 2), g)
    torch.testing.assert_close(a, b)


# -------------------------------------------------------------------- bank
def test_bank_shapes_and_param_count():
    bank = MultiModalFeatureBank(512, 2)
    assert bank.num_bank_params() == 4104  # Table VI: 4.10K
    full = sum(p.numel() for p in bank.parameters())
    assert full == 4104 + 2 * 512 * 256 + 512 * 512
    assert MultiModalFeatureBank(588, 3).num_bank_params() == 8 * 588 + 8
    with pytest.raises(ValueError, match='divisible'):
        MultiModalFeatureBank(512, 3)
    small = MultiModalFeatureBank(D, 3, num_slots=4)
    out = small([torch.randn(2, 5, D) for _ in range(3)])
    assert out.shape == (2, D)


def test_bank_matches_equations():
    torch.manual_seed(0)
    bank = MultiModalFeatureBank(D, 2, num_slots=3)
    hs = [torch.randn(2, 4, D) for _ in range(2)]
    m = bank.memory[None].expand(2, -1, -1)
    for t in range(4):
        c = torch.cat([bank.reduce[i].weight @ hs[i][:, t].T
                       for i in range(2)], 0).T  # [B, d]
        alpha = torch.sigmoid((m @ c[..., None]))  # [B, K, 1]
        m = (alpha * m + (1 - alpha) * c[:, None]) @ bank.update.weight.T
    expect = (bank.read[None, :, None] * m).sum(1)
    torch.testing.assert_close(bank(hs), expect)


def test_bank_alpha_one_keeps_initial_memory(monkeypatch):
    bank = MultiModalFeatureBank(D, 2, num_slots=4)
    with torch.no_grad():
        bank.update.weight.copy_(torch.eye(D))
        bank.read.copy_(torch.tensor([0.5, -1., 2., 0.25]))
    monkeypatch.setattr(bank, 'update_score',
                        lambda mem, c: mem.new_ones(mem.shape[:2]))
    hs = [torch.randn(3, 5, D) for _ in range(2)]
    out, mem = bank(hs, return_memory=True)
    torch.testing.assert_close(mem, bank.memory[None].expand(3, -1, -1))
    torch.testing.assert_close(out, (bank.read @ bank.memory).expand(3, -1))
    # alpha = 0: every slot becomes the last concatenation c_T
    monkeypatch.setattr(bank, 'update_score',
                        lambda mem, c: mem.new_zeros(mem.shape[:2]))
    c_last = torch.cat([bank.reduce[i](hs[i][:, -1]) for i in range(2)], -1)
    torch.testing.assert_close(bank(hs), bank.read.sum() * c_last)


# -------------------------------------------------------------------- CFEM
def cfem(**kw):
    kw.setdefault('num_heads', 2)
    kw.setdefault('num_tokens', HW[0] * HW[1])
    torch.manual_seed(0)
    return CrossModalityFeatureEncoding(D, kw.pop('n', 2), **kw)


@pytest.mark.parametrize('n', [2, 3])
def test_cfem_shapes(n):
    module = cfem(n=n)
    feats = maps([f'm{i}' for i in range(n)])
    g = module(feats)
    assert len(g) == n and all(x.shape == (2, D) for x in g)
    assert module.pos_embed.shape == (n, (n - 1) * 4, D)
    # list input gives the same as the dict
    for a, b in zip(g, module(list(feats.values()))):
        torch.testing.assert_close(a, b)


def test_cfem_needs_ten_frames():
    module = cfem()
    assert module.min_frames == 10
    with pytest.raises(ValueError, match='at least 10 frames'):
        module(maps('ab', t=9))
    module(maps('ab', t=10))
    assert cfem(kernel_size=(2, 1, 1)).min_frames == 4  # Table V caption
    assert cfem(padding=(1, 0, 0)).min_frames == 4
    assert cfem(conv=False).min_frames == 1
    for kw in (dict(kernel_size=(2, 1, 1)), dict(padding=(1, 0, 0)),
               dict(kernel_size=(3, 1, 1), stride=(1, 1, 1))):
        module = cfem(**kw)
        t = module.min_frames
        module(maps('ab', t=t))  # the smallest clip runs ...
        with pytest.raises(ValueError, match=f'at least {t} frames'):
            module(maps('ab', t=t - 1))  # ... and one frame less is refused
        with pytest.raises(RuntimeError):  # (the convs would fail too)
            module.encoders[0](torch.randn(1, D, t - 1, 1, 1))


def test_cfem_variants_run():
    feats = maps('ab')
    for kw in (dict(conv=False), dict(encoder_pool='spatial', num_tokens=1),
               dict(decoder='pool'), dict(pos_embed='sinusoidal'),
               dict(pos_embed=None), dict(act=None)):
        assert all(g.shape == (2, D) for g in cfem(**kw)(feats)), kw


def test_cfem_position_goes_to_keys_only():
    module = cfem().eval()
    feats = maps('ab')
    with torch.no_grad():
        module.pos_embed.zero_()
        base = module(feats)
        # the same vector at every position shifts every key's logit by the
        # same amount: keys-only -> no change; in the values it would move
        # the output by W_v p
        module.pos_embed.copy_(torch.randn(1, 1, D).expand_as(
            module.pos_embed))
        const = module(feats)
        for a, b in zip(base, const):
            torch.testing.assert_close(a, b)
        # what a values-shifted MHA would give instead
        i = 0
        content = module.encode(1, feats['b'])
        pos = module.pos_embed[i]
        q = module.queries[i].expand(2, 1, -1)
        shifted = module.norms[i](module.attns[i](
            q, content + pos, content + pos)[0] + q)[:, 0]
        assert not torch.allclose(shifted, const[i], atol=1e-4)
        # a varying positional embedding changes the output
        module.pos_embed.normal_()
        varied = module(feats)
        assert not torch.allclose(varied[0], base[0], atol=1e-4)


# ------------------------------------------------------------------ MMixer
@pytest.mark.parametrize('mods', [('rgb', 'depth'), ('rgb', 'depth', 'ir')])
@pytest.mark.parametrize('content,fusion', [('cfem', 'bank'),
                                            ('pool', 'concat'),
                                            ('self', 'bank')])
def test_mmixer_shapes(mods, content, fusion):
    torch.manual_seed(0)
    neck = MODELS.build(dict(
        type='MMixer', modalities=mods, embed_dims=D, in_channels=5,
        content=content, fusion=fusion, num_slots=4,
        cfem=dict(num_heads=2, num_tokens=4)))
    feats, aux = neck(maps(mods, c=5), data_samples=None)
    assert aux == {}
    if fusion == 'bank':
        assert list(feats) == ['mixed'] and feats['mixed'].shape == (2, D)
        head = SumFusionHead(7, modalities=('mixed', ), in_channels=D)
    else:
        assert list(feats) == list(mods)
        assert all(v.shape == (2, D) for v in feats.values())
        head = SumFusionHead(7, modalities=mods, in_channels=D)
        width = D * (len(mods) - 1) if content == 'pool' else D
        assert neck.mcus['rgb'].proj_g.in_features == width
    assert head(feats).shape == (2, 7)


@pytest.mark.parametrize('n', [2, 3])
def test_mmixer_gradients_reach_every_parameter(n):
    mods = ('rgb', 'depth', 'ir')[:n]
    torch.manual_seed(0)
    neck = MMixer(mods, embed_dims=D, in_channels=dict(rgb=5, depth=4, ir=3),
                  num_slots=4, cfem=dict(num_heads=2, num_tokens=4))
    neck.init_weights()
    g = torch.Generator().manual_seed(1)
    feats = {m: torch.randn(2, c, T, *HW, generator=g)
             for m, c in zip(mods, (5, 4, 3))}
    out, _ = neck(feats)
    out['mixed'].pow(2).sum().backward()
    for name, p in neck.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_mmixer_rejects_bad_input():
    neck = MMixer(('rgb', 'depth'), embed_dims=D,
                  cfem=dict(num_heads=2, num_tokens=4))
    with pytest.raises(KeyError, match='ir'):
        neck({'rgb': torch.randn(1, D, T, *HW),
              'ir': torch.randn(1, D, T, *HW)})
    with pytest.raises(ValueError, match='maps'):
        neck({'rgb': torch.randn(1, D, T, 4)})
    with pytest.raises(ValueError, match='temporal must be one of'):
        MMixer(('rgb', 'depth'), temporal='rnn')
    with pytest.raises(ValueError, match='stream_outputs'):
        MMixer(('rgb', 'depth'), stream_outputs=('ir', ))
    with pytest.raises(ValueError, match='at least 10 frames'):
        neck(maps(('rgb', 'depth'), t=8))
