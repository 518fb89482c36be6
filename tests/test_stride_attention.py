"""Joint / temporal stride attention (paper 004, §3.2, Fig. 4)."""
import pytest
import torch

from mmaction.registry import MODELS
from mmar_ext.models.necks.stride_attention import (JointStrideAttention,
                                                     TemporalStrideAttention,
                                                     strided_window_attention,
                                                     window_starts)

C, HEADS = 16, 2


def _joint(**kwargs):
    torch.manual_seed(0)
    module = JointStrideAttention(embed_dims=C, num_heads=HEADS, **kwargs)
    module.init_weights()
    return module.eval()


def _temporal(**kwargs):
    torch.manual_seed(0)
    module = TemporalStrideAttention(embed_dims=C, num_heads=HEADS, **kwargs)
    module.init_weights()
    return module.eval()


@pytest.mark.parametrize('args,expected', [
    ((12, 4, 2), [0, 2, 4, 6, 8]),
    ((13, 4, 2), [0, 2, 4, 6, 8, 9]),
    ((3, 4, 2), [0]),
    ((50, 50, 25), [0]),
    ((4, 4, 1), [0]),
    ((7, 3, 3), [0, 3, 4]),
    ((5, 1, 1), [0, 1, 2, 3, 4]),
])
def test_window_starts_hand_cases(args, expected):
    assert window_starts(*args) == expected


@pytest.mark.parametrize('args', [(0, 4, 2), (8, 0, 2), (8, 4, 0),
                                  (8, 2, 3)])
def test_window_starts_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        window_starts(*args)


@pytest.mark.parametrize('cls,kwargs', [
    (JointStrideAttention, dict(window=0)),
    (JointStrideAttention, dict(window=4, stride=0)),
    (JointStrideAttention, dict(window=2, stride=3)),
    (TemporalStrideAttention, dict(window=0)),
    (TemporalStrideAttention, dict(window=2, stride=3)),
])
def test_constructor_validates_window_and_stride(cls, kwargs):
    with pytest.raises(ValueError, match='window|stride'):
        cls(embed_dims=C, num_heads=HEADS, **kwargs)


def _windowed_reference(encoder, seq, owner, starts, window, extra_mask=None):
    """Full attention of ``encoder`` over ``seq`` [B, N, C] once per window,
    keys outside the window masked; ``owner`` [N] gives each token's
    position on the window axis (-1: modal token in every window).  Returns
    the per-token mean over the windows containing it."""
    b, n, _ = seq.shape
    total = torch.zeros_like(seq)
    count = torch.zeros(n)
    for start in starts:
        inside = (owner < 0) | ((owner >= start) & (owner < start + window))
        mask = (~inside)[None].expand(b, n).clone()
        if extra_mask is not None:
            mask |= extra_mask
        out = encoder(seq, key_padding_mask=mask)
        total[:, inside] += out[:, inside]
        count[inside] += 1
    assert (count > 0).all()
    return total / count[None, :, None]


def _joint_inputs(b=2, t=3, r=7):
    torch.manual_seed(1)
    return (torch.randn(b, t, r, C), torch.randn(b, t, C),
            torch.randn(b, t, C))


@pytest.mark.parametrize('window,stride,starts', [
    (3, 2, [0, 2, 4]),      # regular windows reach the end
    (3, 3, [0, 3, 4]),      # extra window ending at R
    (4, 2, [0, 2, 3]),
    (2, 1, [0, 1, 2, 3, 4, 5]),
])
@pytest.mark.parametrize('with_mask', [False, True])
def test_joint_equals_masked_full_attention(window, stride, starts,
                                            with_mask):
    module = _joint(window=window, stride=stride)
    p, m_pose, m_cls = _joint_inputs()
    b, t, r, _ = p.shape
    mask = None
    if with_mask:
        mask = torch.zeros(b, t, r, dtype=torch.bool)
        mask[0, :, 5:] = True    # a missing "person" (incl. whole window)
        mask[1, 1, 0] = True
    with torch.no_grad():
        out_p, out_mp, out_mc = module(p, m_pose, m_cls, mask)
        seq = torch.cat([p.reshape(b, t * r, C), m_pose, m_cls], dim=1)
        owner = torch.cat([torch.arange(r).repeat(t),
                           torch.full((2 * t, ), -1)])
        extra = None
        if mask is not None:
            extra = torch.cat([mask.reshape(b, t * r),
                               torch.zeros(b, 2 * t, dtype=torch.bool)], 1)
        ref = _windowed_reference(module.encoder, seq, owner, starts, window,
                                  extra)
    assert torch.isfinite(out_p).all()
    torch.testing.assert_close(out_p, ref[:, :t * r].reshape(b, t, r, C),
                               atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out_mp, ref[:, t * r:t * r + t],
                               atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out_mc, ref[:, t * r + t:],
                               atol=1e-5, rtol=1e-5)


def _temporal_inputs(b=2, t=7, nz=4, r=5):
    torch.manual_seed(2)
    return (torch.randn(b, t, nz, C), torch.randn(b, t, r, C),
            torch.randn(b, t, 3, C))


@pytest.mark.parametrize('window,stride,starts', [
    (4, 2, [0, 2, 3]),
    (3, 2, [0, 2, 4]),
    (2, 2, [0, 2, 4, 5]),
])
@pytest.mark.parametrize('with_mask', [False, True])
def test_temporal_equals_masked_full_attention(window, stride, starts,
                                               with_mask):
    module = _temporal(window=window, stride=stride)
    z, p, m = _temporal_inputs()
    b, t, nz, _ = z.shape
    r = p.shape[2]
    mask = None
    if with_mask:
        mask = torch.zeros(b, t, r, dtype=torch.bool)
        mask[0, :, 3:] = True
        mask[1, 2:5] = True      # every pose token of three frames
    with torch.no_grad():
        out = module(z, p, m, mask)
        seq = torch.cat([z.reshape(b, -1, C), p.reshape(b, -1, C),
                         m.reshape(b, -1, C)], dim=1)
        owner = torch.cat([torch.arange(t).repeat_interleave(n)
                           for n in (nz, r, 3)])
        extra = None
        if mask is not None:
            extra = torch.cat([torch.zeros(b, t * nz, dtype=torch.bool),
                               mask.reshape(b, t * r),
                               torch.zeros(b, t * 3, dtype=torch.bool)], 1)
        ref = _windowed_reference(module.encoder, seq, owner, starts, window,
                                  extra)
    ref = ref.split([t * nz, t * r, t * 3], dim=1)
    for got, want in zip(out, ref):
        assert torch.isfinite(got).all()
        torch.testing.assert_close(got, want.reshape(got.shape), atol=1e-5,
                                   rtol=1e-5)


def test_one_window_is_plain_full_attention():
    p, m_pose, m_cls = _joint_inputs()
    b, t, r, _ = p.shape
    for module in (_joint(), _joint(window=r + 3, stride=2)):
        with torch.no_grad():
            out_p, out_mp, out_mc = module(p, m_pose, m_cls)
            full = module.encoder(
                torch.cat([p.reshape(b, t * r, C), m_pose, m_cls], dim=1))
        torch.testing.assert_close(
            torch.cat([out_p.reshape(b, t * r, C), out_mp, out_mc], dim=1),
            full, atol=1e-5, rtol=1e-5)

    z, p, m = _temporal_inputs(t=4)
    # window > T, and window=None (all frames: Table 4's full attention)
    for module in (_temporal(window=6, stride=3),
                   _temporal(window=None, stride=None)):
        with torch.no_grad():
            out = module(z, p, m)
            full = module.encoder(
                torch.cat([z, p, m], dim=2).reshape(b, -1, C))
        torch.testing.assert_close(torch.cat(out, dim=2).reshape(b, -1, C),
                                   full, atol=1e-5, rtol=1e-5)


class _AddWindowIndex(torch.nn.Module):
    """Stub encoder: adds each window's index (row % number of windows)."""

    def __init__(self, batch):
        super().__init__()
        self.batch = batch

    def forward(self, x, key_padding_mask=None):
        num_windows = x.shape[0] // self.batch
        k = torch.arange(x.shape[0]) % num_windows
        return x + k[:, None, None].to(x.dtype)


def test_overlap_averaging_hand_case():
    # 13 positions, window 4, stride 2: starts [0, 2, 4, 6, 8, 9]
    expected = torch.tensor(
        [0, 0, .5, .5, 1.5, 1.5, 2.5, 2.5, 3.5, 4, 4.5, 4.5, 5])
    tokens = torch.zeros(2, 13, 3, C)
    shared = torch.zeros(2, 5, C)
    out, shared_out = strided_window_attention(
        _AddWindowIndex(2), tokens, 4, 2, shared=shared)
    torch.testing.assert_close(out,
                               expected[None, :, None, None].expand_as(out))
    torch.testing.assert_close(shared_out, torch.full_like(shared, 2.5))

    # the same through the joint module (joint axis = window axis)
    module = _joint(window=4, stride=2)
    module.encoder = _AddWindowIndex(2)
    p, m_pose, m_cls = (torch.zeros(2, 3, 13, C), torch.zeros(2, 3, C),
                        torch.zeros(2, 3, C))
    out_p, out_mp, out_mc = module(p, m_pose, m_cls)
    torch.testing.assert_close(
        out_p, expected[None, None, :, None].expand_as(out_p))
    torch.testing.assert_close(out_mp, torch.full_like(m_pose, 2.5))
    torch.testing.assert_close(out_mc, torch.full_like(m_cls, 2.5))

    # and through the temporal module (frame axis = window axis)
    module = _temporal(window=4, stride=2)
    module.encoder = _AddWindowIndex(2)
    z, p, m = (torch.zeros(2, 13, 4, C), torch.zeros(2, 13, 5, C),
               torch.zeros(2, 13, 3, C))
    for got in module(z, p, m):
        torch.testing.assert_close(
            got, expected[None, :, None, None].expand_as(got))


def test_masked_tokens_do_not_affect_others():
    p, m_pose, m_cls = _joint_inputs(r=8)
    mask = torch.zeros(2, 3, 8, dtype=torch.bool)
    mask[:, :, 4:] = True      # second "person" missing
    mask[0, 0, 1] = True
    module = _joint(window=4, stride=2)
    p2 = p.clone()
    p2[mask] = 1e3 * torch.randn(int(mask.sum()), C)
    with torch.no_grad():
        a = module(p, m_pose, m_cls, mask)
        b = module(p2, m_pose, m_cls, mask)
    for x in a:
        assert torch.isfinite(x).all()
    torch.testing.assert_close(a[0][~mask], b[0][~mask])
    torch.testing.assert_close(a[1], b[1])
    torch.testing.assert_close(a[2], b[2])

    z, p, m = _temporal_inputs()
    mask = torch.zeros(2, 7, 5, dtype=torch.bool)
    mask[:, :, 3:] = True
    module = _temporal()
    p2 = p.clone()
    p2[mask] = 1e3 * torch.randn(int(mask.sum()), C)
    with torch.no_grad():
        a = module(z, p, m, mask)
        b = module(z, p2, m, mask)
    for x in a:
        assert torch.isfinite(x).all()
    torch.testing.assert_close(a[0], b[0])
    torch.testing.assert_close(a[1][~mask], b[1][~mask])
    torch.testing.assert_close(a[2], b[2])


def _check_grads(module, inputs):
    outputs = module(*inputs)
    sum(o.square().sum() for o in outputs).backward()
    for name, param in module.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    for x in inputs:
        assert x.grad is not None and x.grad.abs().sum() > 0


def test_gradients_reach_parameters_and_modal_tokens():
    module = _joint(window=3, stride=2).train()
    _check_grads(module, [x.requires_grad_() for x in _joint_inputs()])
    module = _temporal().train()
    _check_grads(module, [x.requires_grad_() for x in _temporal_inputs()])


@pytest.mark.parametrize('window,stride', [(None, None), (10, 5), (25, 13)])
def test_joint_shapes_ntu(window, stride):
    module = MODELS.build(dict(type='JointStrideAttention', embed_dims=C,
                               num_heads=HEADS, window=window,
                               stride=stride))
    p = torch.randn(2, 4, 50, C)
    m_pose, m_cls = torch.randn(2, 4, C), torch.randn(2, 4, C)
    out = module(p, m_pose, m_cls)
    assert [tuple(o.shape) for o in out] == [(2, 4, 50, C), (2, 4, C),
                                             (2, 4, C)]


def test_temporal_shapes_ntu():
    module = MODELS.build(dict(type='TemporalStrideAttention', embed_dims=C,
                               num_heads=HEADS))
    assert (module.window, module.stride) == (4, 2)
    z, p, m = (torch.randn(2, 4, 9, C), torch.randn(2, 4, 50, C),
               torch.randn(2, 4, 3, C))
    mask = torch.zeros(2, 4, 50, dtype=torch.bool)
    mask[1, :, 25:] = True
    out = module(z, p, m, mask)
    assert [tuple(o.shape) for o in out] == [(2, 4, 9, C), (2, 4, 50, C),
                                             (2, 4, 3, C)]
    assert all(torch.isfinite(o).all() for o in out)


def test_windows_under_autocast_keep_the_encoder_dtype():
    """Under autocast the tokens can be half precision while the encoder
    returns float32 (LayerNorm / residual): the overlap average must not
    mix them (index_add of float32 into a bfloat16 buffer used to fail,
    i.e. ``tools/train.py --amp``)."""
    tokens = torch.randn(2, 6, 3, 8).bfloat16()

    def encoder(x, key_padding_mask=None):
        return x.float() * 2

    out, _ = strided_window_attention(encoder, tokens, window=4, stride=2)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, tokens.float() * 2)
