"""M-Mixer's ablation switches (paper 000, Tables I, II, IV, VI; eq. 22)
and its missing-modality policy. Tiny widths, except for parameter counts
taken at the paper's width without running anything."""
import pytest
import torch

from mmar_ext.models.necks.cross_modality_encoding import \
    CrossModalityFeatureEncoding
from mmar_ext.models.necks.m_mixer import MMixer
from mmar_ext.models.necks.m_mixer_substitutes import (
    GRUFusion, RecurrentSequenceEncoder, TransformerFusion,
    TransformerSequenceEncoder)
from mmar_ext.models.necks.modality_context_unit import ModalityContextUnit
from mmar_ext.models.necks.multimodal_feature_bank import \
    MultiModalFeatureBank

D = 12
T, HW = 10, (2, 2)
MODS3 = ('rgb', 'depth', 'ir')


def maps(mods, b=3, t=T, c=D, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(b, c, t, *HW, generator=g) for m in mods}


def neck(mods=MODS3, **kw):
    torch.manual_seed(0)
    kw.setdefault('cfem', dict(num_heads=2, num_tokens=4))
    module = MMixer(mods, embed_dims=D, num_slots=4, **kw)
    module.init_weights()
    return module.eval()


def n_params(module):
    return sum(p.numel() for p in module.parameters())


# ------------------------------------------------------------ Tables I, VI
def test_table_vi_transformer_has_the_papers_parameter_count():
    fusion = TransformerFusion(512, 2)
    assert fusion.num_layer_params() == 6_304_768  # "6,304.78K"
    assert n_params(fusion) == 6_304_768 + 512  # + the class token
    # "1,539 times more parameters" than the bank: 6,304,768 / 4,096, i.e.
    # M^(0) alone; with W_r (the "4.10K" = 4,104) the ratio is 1,536
    bank = MultiModalFeatureBank(512, 2)
    assert round(6_304_768 / bank.memory.numel()) == 1539
    assert round(6_304_768 / bank.num_bank_params()) == 1536


def test_table_i_transformer_is_about_2_4_times_the_mcu():
    """§IV-C1: "2.4 times more parameters than MCU" -- with the FFN width
    2 d_h we chose: 2.3x without CM, 2.6x with CM (2048 would give 3.4x)."""
    mcu = n_params(ModalityContextUnit(512))
    plain = n_params(TransformerSequenceEncoder(512)) / mcu
    cm = n_params(TransformerSequenceEncoder(512, cross_modal=True)) / mcu
    assert 2.2 < plain < 2.4 < cm < 2.7
    wide = n_params(TransformerSequenceEncoder(
        512, feedforward_channels=2048)) / mcu
    assert wide > 3.3


@pytest.mark.parametrize('cell', ['lstm', 'gru'])
def test_recurrent_substitutes_take_content_with_cm(cell):
    torch.manual_seed(0)
    f, g = torch.randn(2, 5, D), torch.randn(2, 2 * D)
    plain = RecurrentSequenceEncoder(D, cell=cell)
    assert plain(f, g).shape == (2, 5, D)
    assert plain.rnn.input_size == D
    cm = RecurrentSequenceEncoder(D, content_channels=2 * D, cell=cell,
                                  cross_modal=True)
    assert cm.rnn.input_size == 3 * D
    out = cm(f, g)
    # the content enters every step: another g changes every h_t
    other = cm(f, g + 1)
    assert not torch.isclose(out, other).all(-1).any()


def test_transformer_substitute_puts_the_class_token_last():
    torch.manual_seed(0)
    enc = TransformerSequenceEncoder(D, num_heads=2).eval()
    f = torch.randn(2, 5, D)
    out = enc(f, f.new_zeros(2, 0))
    assert out.shape == (2, 6, D)
    full = enc.transformer(f)
    torch.testing.assert_close(out[:, -1], full[:, 0])
    torch.testing.assert_close(out[:, :-1], full[:, 1:])


def test_gru_fusion_reads_the_concatenation():
    torch.manual_seed(0)
    fusion = GRUFusion(D, 2)
    hs = [torch.randn(2, 5, D) for _ in range(2)]
    _, h_n = fusion.gru(torch.cat(hs, -1))
    torch.testing.assert_close(fusion(hs), h_n[0])
    # an absent modality is a zero block
    present = torch.tensor([[True, False], [True, True]])
    out = fusion(hs, present)
    zeroed = fusion([hs[0], hs[1] * torch.tensor([0., 1.])[:, None, None]])
    torch.testing.assert_close(out, zeroed)


def test_mcu_concat_mix_is_the_projected_concatenation():
    """Table II Exp. II: f~_t = W_s [f_bar_t || g_bar] (no gate)."""
    torch.manual_seed(0)
    unit = ModalityContextUnit(D, mix='concat', norm=False)
    assert unit.norm_s is None
    f, g = torch.randn(2, 4, D), torch.randn(2, D)
    f_bar, g_bar = unit.project(f, g)
    expect = torch.cat([f_bar, g_bar[:, None].expand_as(f_bar)], -1) \
        @ unit.mix.weight.T
    torch.testing.assert_close(unit.cross_modality_mix(f_bar, g_bar), expect)
    assert n_params(unit) == n_params(ModalityContextUnit(D, norm=False))


VARIANTS = [
    dict(temporal='lstm'),
    dict(temporal='gru', temporal_cfg=dict(cross_modal=True),
         content='pool', fusion='concat'),
    dict(temporal='transformer', temporal_cfg=dict(cross_modal=True,
                                                   num_heads=2)),
    dict(fusion='gru'),
    dict(fusion='transformer', fusion_cfg=dict(num_heads=2,
                                               feedforward_channels=24)),
    dict(content='self', temporal_cfg=dict(norm=False)),  # Table II I
    dict(content='pool', temporal_cfg=dict(mix='concat', norm=False)),
]


@pytest.mark.parametrize('kw', VARIANTS)
def test_variants_train_every_parameter(kw):
    module = neck(('rgb', 'depth'), in_channels=5, **kw).train()
    if kw.get('temporal', 'mcu') != 'mcu' and not kw.get(
            'temporal_cfg', {}).get('cross_modal'):
        assert module.cfem is None and module.content is None
    out, _ = module(maps(('rgb', 'depth'), c=5))
    sum(v.pow(2).sum() for v in out.values()).backward()
    for name, p in module.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, (kw, name)


def test_stream_outputs_give_each_streams_last_hidden_state():
    full = neck(('rgb', 'depth'))
    streams = neck(('rgb', 'depth'), stream_outputs=('rgb', 'depth'))
    streams.load_state_dict(full.state_dict())
    x = maps(('rgb', 'depth'))
    out, _ = streams(x)
    assert set(out) == {'rgb', 'depth'}
    g = full.contents(full._project(x))
    h = full.mcus['rgb'](x['rgb'].mean((3, 4)).transpose(1, 2), g['rgb'])
    torch.testing.assert_close(out['rgb'], h[:, -1])
    streams.stream_outputs = ('depth', )
    assert list(streams(x)[0]) == ['depth']


# ------------------------------------------------------ missing modalities
def test_cfem_attends_to_the_present_modalities_only():
    torch.manual_seed(0)
    cfem = CrossModalityFeatureEncoding(D, 3, num_heads=2, num_tokens=4)
    cfem.eval()
    x = list(maps(MODS3).values())
    present = torch.tensor([[True, True, True], [True, False, True],
                            [True, False, False]])
    g = cfem(x, present)
    full = cfem(x)
    for i in range(3):  # sample 0 has everything
        torch.testing.assert_close(g[i][0], full[i][0])
    # sample 1, modality 0 (rgb): keys = ir's tokens with ir's positions
    tokens = cfem.encode(2, x[2][1:2])
    q = cfem.queries[0].view(1, 1, D)
    pos = cfem.pos_embed[0][4:]  # blocks of rgb's decoder: depth, ir
    attn = cfem.attns[0](q, tokens + pos, tokens, need_weights=False)[0]
    torch.testing.assert_close(g[0][1], cfem.norms[0](attn + q)[0, 0])
    # sample 2: rgb alone -> zero content
    assert torch.count_nonzero(g[0][2]) == 0
    assert torch.isfinite(torch.stack(g)).all()


@pytest.mark.parametrize('kw', [
    dict(), dict(content='pool', fusion='concat'),
    dict(fusion='transformer', fusion_cfg=dict(num_heads=2)),
    dict(fusion='gru')])
def test_missing_modality_per_sample_equals_alone(kw):
    """A mixed batch gives every sample what it gets with its present
    modalities alone (absent key), and the absent inputs are never read."""
    module = neck(**kw)
    x = maps(MODS3)
    present = torch.tensor([[True, True, True], [True, False, True],
                            [False, True, False]])
    garbage = {m: v.clone() for m, v in x.items()}
    for i, m in enumerate(MODS3):
        garbage[m][~present[:, i]] = 1e3
    with torch.no_grad():
        mixed, _ = module(garbage, present=present)
        for b in range(3):
            alone = {m: x[m][b:b + 1] for i, m in enumerate(MODS3)
                     if present[b, i]}
            out, _ = module(alone)
            for k in mixed:
                torch.testing.assert_close(mixed[k][b:b + 1], out[k])
    assert 'fusion' in module.missing_modality_policy


def test_missing_modality_changes_the_prediction_and_bank_zero_block():
    module = neck()
    x = maps(MODS3)
    with torch.no_grad():
        full = module(x)[0]['mixed']
        no_ir = module({m: x[m] for m in ('rgb', 'depth')})[0]['mixed']
    assert not torch.allclose(full, no_ir)
    bank = MultiModalFeatureBank(D, 3, num_slots=4)
    hs = [torch.randn(2, 5, D) for _ in range(3)]
    present = torch.tensor([[True, True, False], [True, True, True]])
    zero = [hs[0], hs[1], hs[2] * torch.tensor([0., 1.])[:, None, None]]
    torch.testing.assert_close(bank(hs, present), bank(zero))
    assert module.missing_modality_policy.startswith('CFEM attends')


def test_bank_update_init_switch():
    """W_u at the identity keeps the memory's scale over T updates; the
    default init contracts it (spectral radius about 1/sqrt(3))."""
    torch.manual_seed(0)
    ident = MultiModalFeatureBank(512, 2, update_init='identity')
    ident.init_weights()
    assert torch.equal(ident.update.weight, torch.eye(512))
    default = MultiModalFeatureBank(512, 2)
    radius = torch.linalg.eigvals(default.update.weight).abs().max()
    assert 0.5 < radius < 0.65
    with pytest.raises(ValueError, match='update_init'):
        MultiModalFeatureBank(512, 2, update_init='zeros')
