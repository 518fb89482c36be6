"""ActionMAE (paper 001 §3, appendix B): the three faults of the public
implementation (seeds/README.md) cannot happen here, the drop sets, the
reconstruction loss and the gradients."""
import pytest
import torch

from mmar_ext.models.necks import ActionMAE

MODS = ('rgb', 'depth', 'ir')
C = 32


def make(**kwargs):
    kwargs.setdefault('encoder', dict(num_heads=4, feedforward_channels=64))
    kwargs.setdefault('decoder', dict(num_heads=4, feedforward_channels=64))
    torch.manual_seed(0)
    mae = ActionMAE(kwargs.pop('modalities', MODS), embed_dims=C, **kwargs)
    mae.init_weights()
    return mae


def tokens(b=4, seed=1):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(b, C, generator=g) for m in MODS}


def test_positional_encoding_changes_the_output():
    """Fault 1: the public code never adds its positional embeddings."""
    with_pe, without = make(), make(pos_embed=False)
    without.load_state_dict(with_pe.state_dict())  # same weights
    with_pe.eval(), without.eval()
    feats = {'depth': tokens()['depth']}
    a, _ = with_pe(feats)
    b, _ = without(feats)
    assert not torch.allclose(a['rgb'], b['rgb'], atol=1e-4)
    # and the slot it fills decides the reconstruction: rgb != ir
    assert not torch.allclose(a['rgb'], a['ir'], atol=1e-4)
    assert torch.allclose(b['rgb'], b['ir'], atol=1e-6)  # no PE: no slot


def test_missing_non_prefix_modality_in_its_own_slot():
    """Fault 2: with RGB missing and depth present, depth must stay in the
    depth slot and the RGB slot must hold RGB's reconstruction."""
    mae = make().eval()
    z = tokens()
    out, losses = mae({'depth': z['depth'], 'ir': z['ir']})
    assert losses == {}
    assert torch.equal(out['depth'], z['depth'])
    assert torch.equal(out['ir'], z['ir'])
    # the RGB slot is what reconstruct() gives for slot 0
    visible = torch.tensor([[False, True, True]]).expand(4, -1)
    full = torch.stack([torch.zeros(4, C), z['depth'], z['ir']], 1)
    torch.testing.assert_close(out['rgb'], mae.reconstruct(full, visible)[:, 0])
    # the same reconstruction whatever is put in the hidden slot
    garbage = full.clone()
    garbage[:, 0] = 100.
    torch.testing.assert_close(mae.reconstruct(garbage, visible)[:, 0],
                               out['rgb'], rtol=1e-5, atol=1e-5)
    # a per-sample mask: sample 0 lacks depth, sample 1 lacks rgb
    present = torch.tensor([[True, False, True], [False, True, True],
                            [True, True, True], [True, True, False]])
    out, _ = mae(z, present=present)
    assert torch.equal(out['rgb'][0], z['rgb'][0])
    assert torch.equal(out['depth'][1], z['depth'][1])
    assert torch.equal(out['ir'][2], z['ir'][2])
    assert not torch.equal(out['depth'][0], z['depth'][0])
    assert not torch.equal(out['rgb'][1], z['rgb'][1])
    assert not torch.equal(out['ir'][3], z['ir'][3])


def test_nothing_dropped_passes_the_modality_tokens_not_memory():
    """Fault 3: with K = 0 the fusion unit gets the modality tokens, never
    the memory token's output."""
    mae = make(drop_sampling='none').train()
    z = tokens()
    out, losses = mae(z)
    for m in MODS:
        assert torch.equal(out[m], z[m])
    assert float(losses['loss_rec']) == 0.  # L_rec = 0 when K = 0
    assert list(out) == list(MODS)


def test_drop_sets_and_per_sample_drawing():
    mae = make()
    # 2^3 - 1 allowed sets: K = 0, 1, 2 (never all three)
    assert mae.drop_sets.shape == (7, 3)
    assert not mae.drop_sets.all(1).any()
    assert mae.drop_sets.sum(1).tolist().count(0) == 1
    present = torch.ones(64, 3, dtype=torch.bool)
    torch.manual_seed(0)
    batch = mae.draw_drop(present)
    assert (batch == batch[0]).all()  # one set per iteration
    per_sample = make(drop_sampling='sample')
    torch.manual_seed(0)
    drop = per_sample.draw_drop(present)
    assert len({tuple(r.tolist()) for r in drop}) > 1
    # a sample already missing two modalities keeps its last one
    present[:, 1:] = False
    assert not per_sample.draw_drop(present).any()


def test_reconstruction_loss_gradients_and_a_training_step():
    mae = make(drop_sampling='sample').train()
    z = {m: v.requires_grad_() for m, v in tokens(b=16).items()}
    torch.manual_seed(3)
    out, losses = mae(z)
    loss = losses['loss_rec'] + sum(v.pow(2).mean() for v in out.values())
    loss.backward()
    for name, p in mae.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    # detached targets: L_rec alone sends no gradient to the dropped tokens'
    # encoders, only through the visible tokens it reconstructs from
    mae.zero_grad()
    z = {m: v.detach().requires_grad_() for m, v in tokens(b=1).items()}
    mae = make(drop_sampling='subset').train()
    torch.manual_seed(0)
    for _ in range(200):  # a draw that drops exactly rgb
        out, losses = mae(z)
        if 'loss_rec' in losses and not torch.equal(out['rgb'], z['rgb']) \
                and torch.equal(out['depth'], z['depth']) \
                and torch.equal(out['ir'], z['ir']):
            break
    else:
        raise AssertionError('no draw dropped rgb alone')
    losses['loss_rec'].backward()
    assert z['rgb'].grad is None or z['rgb'].grad.abs().sum() == 0
    assert z['depth'].grad.abs().sum() > 0

    # one optimiser step moves the memory and dummy tokens
    mae = make(drop_sampling='subset').train()
    before = (mae.memory_token.detach().clone(),
              mae.dummy_token.detach().clone())
    opt = torch.optim.SGD(mae.parameters(), lr=0.1)
    torch.manual_seed(1)
    for _ in range(4):  # K = 0 draws give no reconstruction gradient
        out, losses = mae(tokens(b=8))
        opt.zero_grad()
        losses['loss_rec'].backward()
        opt.step()
    assert not torch.equal(before[0], mae.memory_token)
    assert not torch.equal(before[1], mae.dummy_token)


def test_without_memory_token_and_errors():
    mae = make(memory_token=False).eval()
    assert mae.memory_token is None
    z = tokens()
    out, _ = mae({'rgb': z['rgb']})
    assert out['depth'].shape == (4, C)
    with pytest.raises(KeyError, match='slots are'):
        mae({'skeleton': z['rgb']})
    with pytest.raises(ValueError, match='at least two'):
        ActionMAE(('rgb', ), embed_dims=C)
    with pytest.raises(ValueError, match='drop_sampling'):
        ActionMAE(MODS, embed_dims=C, drop_sampling='always')
    with pytest.raises(ValueError, match='at least one visible'):
        mae.reconstruct(torch.zeros(2, 3, C), torch.zeros(2, 3,
                                                          dtype=torch.bool))


def test_paper_size():
    """2 + 2 pre-LN layers of 512-d, FFN 2048: 4 x 3,152,384 parameters,
    plus the memory and the dummy token."""
    mae = ActionMAE(MODS)
    layer = 4 * 512 * 512 + 4 * 512 + 2 * 512 * 2048 + 2048 + 512 + 4 * 512
    assert layer == 3152384
    assert sum(p.numel() for p in mae.parameters()) == 4 * layer + 2 * 512
