"""3D deformable attention (seed 004, Kim et al. ICCV 2023, §3.2, eqs. 3-7).

The sampler is checked against mmcv's Deformable-DETR sampling (same
``grid_sample`` conventions, 2-D, so with ``T = 1``) and a rebuilt
``MultiScaleDeformableAttention``; the block against a hand-written eq. 6-7.
"""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.ops.multi_scale_deform_attn import (
    MultiScaleDeformableAttention, MultiScaleDeformableAttnFunction,
    multi_scale_deformable_attn_pytorch)

from mmar_ext.models.necks.deformable_attention_3d import (
    DeformableAttention3D, TokenSearch3D, sample_3d)

B, HEADS, D, H, W, NQ, P = 2, 2, 4, 5, 6, 7, 3


# ---------------------------------------------------------------- helpers
def deform_attn_via_sample_3d(value, hw_index, attn):
    """mmcv's single-level deformable attention written with ``sample_3d``.

    value [B, H*W, heads, d]; hw_index [B, Nq, heads, P, 2] as (h, w) token
    indices; attn [B, Nq, heads, P]. Returns [B, Nq, heads * d]."""
    bs, _, heads, d = value.shape
    _, nq, _, p, _ = hw_index.shape
    vol = value.view(bs, H, W, heads, d).permute(0, 3, 4, 1, 2)
    vol = vol.reshape(bs * heads, d, 1, H, W)
    loc = torch.cat([torch.zeros_like(hw_index[..., :1]), hw_index], -1)
    loc = loc.permute(0, 2, 1, 3, 4).reshape(bs * heads, nq * p, 3)
    sampled = sample_3d(vol, loc).view(bs, heads, nq, p, d)
    out = (sampled * attn.permute(0, 2, 1, 3)[..., None]).sum(3)
    return out.permute(0, 2, 1, 3).reshape(bs, nq, heads * d)


def to_mmcv_locations(hw_index):
    """(h, w) token indices -> mmcv's normalised (x, y) in [0, 1]."""
    h, w = hw_index.unbind(-1)
    return torch.stack([(w + 0.5) / W, (h + 0.5) / H], -1)[:, :, :, None]


def random_deform_inputs(dtype, device='cpu'):
    g = torch.Generator().manual_seed(0)
    value = torch.randn(B, H * W, HEADS, D, generator=g, dtype=dtype)
    # inside, straddling the border and entirely outside the 5 x 6 map
    h = torch.rand(B, NQ, HEADS, P, generator=g, dtype=dtype) * 8 - 1.5
    w = torch.rand(B, NQ, HEADS, P, generator=g, dtype=dtype) * 9 - 1.5
    h[0, 0, 0, 0], w[0, 0, 0, 0] = -4.3, 2.2
    w[1, 2, 1, 1] = W + 3.1
    hw_index = torch.stack([h, w], -1)
    attn = torch.randn(B, NQ, HEADS, P, generator=g, dtype=dtype).softmax(-1)
    return [t.to(device).requires_grad_() for t in (value, hw_index, attn)]


def compare_with_mmcv(mmcv_fn, dtype, device, atol):
    value, hw_index, attn = random_deform_inputs(dtype, device)
    grad_out = torch.randn(B, NQ, HEADS * D, dtype=dtype, device=device)
    ours = deform_attn_via_sample_3d(value, hw_index, attn)
    our_grads = torch.autograd.grad(ours, (value, hw_index, attn), grad_out)
    ref = mmcv_fn(value, to_mmcv_locations(hw_index), attn[:, :, :, None])
    ref_grads = torch.autograd.grad(ref, (value, hw_index, attn), grad_out)
    torch.testing.assert_close(ours, ref, atol=atol, rtol=0)
    for ours_g, ref_g in zip(our_grads, ref_grads):
        torch.testing.assert_close(ours_g, ref_g, atol=atol, rtol=0)
    # the out-of-range samples are really there and read (partial) zeros
    assert (hw_index[..., 0] < -1).any() and (hw_index[..., 1] > W).any()


def shifted_crop(z, k, shift):
    """Reference ``Z~`` for integer offsets: ``Z[p + shift]``, zeros
    outside, flattened to [B, T~ H~ W~, C]."""
    r, pad = (k - 1) // 2, max(abs(s) for s in shift) + 1
    zp = F.pad(z, (pad, ) * 6)
    t, h, w = (n - k + 1 for n in z.shape[2:])
    (st, sh, sw) = (r + s + pad for s in shift)
    crop = zp[:, :, st:st + t, sh:sh + h, sw:sw + w]
    return crop.flatten(2).transpose(1, 2)


def set_offset_bias(search, shift):
    with torch.no_grad():
        search.conv_offset.bias.copy_(torch.tensor(shift, dtype=torch.float))


# ---------------------------------------------------------------- sampler
def test_sample_3d_matches_mmcv_deformable_attn_pytorch():
    compare_with_mmcv(
        lambda v, loc, a: multi_scale_deformable_attn_pytorch(
            v, torch.tensor([[H, W]]), loc, a),
        torch.float64, 'cpu', 1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_sample_3d_matches_mmcv_cuda_kernel():
    shapes = torch.tensor([[H, W]], device='cuda')
    start = torch.tensor([0], device='cuda')
    compare_with_mmcv(
        lambda v, loc, a: MultiScaleDeformableAttnFunction.apply(
            v, shapes, start, loc, a, 64),
        torch.float32, 'cuda', 1e-5)


def test_rebuilt_multi_scale_deformable_attention_matches_mmcv():
    torch.manual_seed(0)
    c = HEADS * D
    msda = MultiScaleDeformableAttention(
        c, HEADS, num_levels=1, num_points=P, dropout=0.,
        batch_first=True).double()
    nn.init.normal_(msda.sampling_offsets.weight, std=0.5)
    nn.init.normal_(msda.attention_weights.weight, std=0.5)
    query = torch.randn(B, NQ, c, dtype=torch.float64)
    value = torch.randn(B, H * W, c, dtype=torch.float64)
    ref_points = torch.rand(B, NQ, 1, 2, dtype=torch.float64)  # (x, y)
    ref_points[0, 0, 0] = torch.tensor([0.02, 0.97])  # near the corner
    expected = msda(query, value=value, reference_points=ref_points,
                    spatial_shapes=torch.tensor([[H, W]]),
                    level_start_index=torch.tensor([0]))

    # rebuilt: offsets are in tokens (mmcv divides them by (W, H)),
    # normalised reference x -> token index x * W - 0.5
    offsets = msda.sampling_offsets(query).view(B, NQ, HEADS, P, 2)
    attn = msda.attention_weights(query).view(B, NQ, HEADS, P).softmax(-1)
    ref_w = ref_points[:, :, 0, 0, None, None] * W - 0.5
    ref_h = ref_points[:, :, 0, 1, None, None] * H - 0.5
    hw_index = torch.stack([ref_h + offsets[..., 1], ref_w + offsets[..., 0]],
                           -1)
    v = msda.value_proj(value).view(B, H * W, HEADS, D)
    ours = msda.output_proj(deform_attn_via_sample_3d(v, hw_index, attn))
    torch.testing.assert_close(ours + query, expected, atol=1e-5, rtol=0)
    assert ((hw_index < 0) | (hw_index[..., 1:] > W - 1)).any()


def test_sample_3d_trilinear_between_frames():
    value = torch.randn(1, 2, 3, 4, 4, dtype=torch.float64)
    loc = torch.tensor([[[0.25, 1., 2.5]]], dtype=torch.float64)
    expected = (0.75 * 0.5 * (value[0, :, 0, 1, 2] + value[0, :, 0, 1, 3]) +
                0.25 * 0.5 * (value[0, :, 1, 1, 2] + value[0, :, 1, 1, 3]))
    torch.testing.assert_close(sample_3d(value, loc)[0, 0], expected)


# ---------------------------------------------------------------- 3DTS
def test_zero_offsets_give_centre_crop():
    search = TokenSearch3D(3, kernel_size=3).double()
    z = torch.randn(2, 3, 4, 5, 6, dtype=torch.float64)
    z_tilde, locations = search(z)
    expected = z[:, :, 1:-1, 1:-1, 1:-1].flatten(2).transpose(1, 2)
    torch.testing.assert_close(z_tilde, expected, atol=1e-6, rtol=0)
    assert locations.shape == (2, 2 * 3 * 4, 3)
    torch.testing.assert_close(locations[0, 0],
                               torch.ones(3, dtype=torch.float64))


@pytest.mark.parametrize('shift', [(1, -2, 1), (0, 0, -2), (-1, 3, 2)])
def test_integer_offsets_shift_exactly(shift):
    search = TokenSearch3D(3, kernel_size=3).double()
    set_offset_bias(search, shift)
    z = torch.randn(2, 3, 4, 5, 6, dtype=torch.float64)
    z_tilde, _ = search(z)
    expected = shifted_crop(z, 3, shift)
    assert (expected == 0).any()  # part of the shifted window is outside
    torch.testing.assert_close(z_tilde, expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize('shift', [(9, 0, 0), (0, -8, 0), (0, 0, 7.5)])
def test_samples_outside_read_zeros(shift):
    search = TokenSearch3D(3, kernel_size=3)
    set_offset_bias(search, shift)
    z_tilde, _ = search(torch.randn(1, 3, 4, 5, 6))
    assert torch.count_nonzero(z_tilde) == 0


def test_offset_range_factor_bounds_offsets():
    search = TokenSearch3D(3, kernel_size=3, offset_range_factor=2.)
    set_offset_bias(search, (100., -100., 0.5))
    _, locations = search(torch.randn(1, 3, 4, 5, 6))
    ref = search.reference_points((4, 5, 6))
    offsets = locations[0] - ref
    torch.testing.assert_close(offsets[:, :2], torch.tensor([2., -2.]).expand(
        len(ref), 2))
    torch.testing.assert_close(offsets[:, 2], torch.full(
        (len(ref), ), 2 * math.tanh(0.5)))


def test_autocast_keeps_locations_in_float32():
    search = TokenSearch3D(4, kernel_size=3)
    z = torch.randn(1, 4, 3, 30, 30)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        z_tilde, locations = search(z)
    assert locations.dtype == torch.float32
    torch.testing.assert_close(locations[0], search.reference_points(
        (3, 30, 30)), atol=0, rtol=0)
    expected = z[:, :, 1:-1, 1:-1, 1:-1].flatten(2).transpose(1, 2)
    torch.testing.assert_close(z_tilde, expected, atol=1e-5, rtol=0)


def test_paper_sizes():
    search = TokenSearch3D(8, kernel_size=7)
    assert search.output_size((12, 28, 28)) == (6, 22, 22)
    z_tilde, locations = search(torch.randn(1, 8, 12, 28, 28))
    assert z_tilde.shape == (1, 6 * 22 * 22, 8)
    assert locations.shape == (1, 6 * 22 * 22, 3)
    block = DeformableAttention3D(8, num_heads=2)
    z, m_rgb, m_cls = block(torch.randn(1, 8, 12, 28, 28),
                            torch.randn(1, 12, 8), torch.randn(1, 12, 8))
    assert z.shape == (1, 8, 12, 28, 28)
    assert m_rgb.shape == m_cls.shape == (1, 12, 8)
    assert block.last_locations.shape == (1, 6 * 22 * 22, 3)


def test_too_small_input_raises():
    with pytest.raises(ValueError, match=r'kernel_size=7.*\(5, 28, 28\)'):
        TokenSearch3D(8, kernel_size=7)(torch.randn(1, 8, 5, 28, 28))
    block = DeformableAttention3D(8, num_heads=2, kernel_size=3)
    with pytest.raises(ValueError, match='m_cls'):
        block(torch.randn(1, 8, 3, 3, 3), torch.randn(1, 3, 8),
              torch.randn(1, 2, 8))


def test_parameter_counts_dense_vs_depthwise():
    c, k = 8, 3
    offset_head = 2 * c + 3 * c + 3  # LayerNorm + Conv3d(C, 3, 1)
    depthwise = TokenSearch3D(c, kernel_size=k)
    dense = TokenSearch3D(c, kernel_size=k, dense=True)
    n_params = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n_params(depthwise) == c * k**3 + c + offset_head == 267
    assert n_params(dense) == c * c * k**3 + c + offset_head == 1779
    attention = 4 * (c * c + c)  # W_q, W_k, W_v, output projection
    ffn = 2 * c + (c * 4 * c + 4 * c) + (4 * c * c + c)
    block = DeformableAttention3D(c, num_heads=2, kernel_size=k)
    assert n_params(block) == 267 + attention + ffn
    block = DeformableAttention3D(c, num_heads=2, kernel_size=k, dense=True,
                                  pre_norm=True)
    assert n_params(block) == 1779 + attention + ffn + 2 * c


# ---------------------------------------------------------------- block
def make_inputs(c=8, t=4, h=5, w=5, dtype=torch.float64, grad=False):
    g = torch.Generator().manual_seed(1)
    out = (torch.randn(2, c, t, h, w, generator=g, dtype=dtype),
           torch.randn(2, t, c, generator=g, dtype=dtype),
           torch.randn(2, t, c, generator=g, dtype=dtype))
    return [x.requires_grad_(grad) for x in out]


def reference_eq6_eq7(block, z, m_rgb, m_cls, z_tilde, pre_norm):
    """Eqs. (4)-(7) with plain torch ops and the block's weights."""
    b, c, t, h, w = z.shape
    heads, d = block.num_heads, c // block.num_heads
    x = torch.cat([z.flatten(2).transpose(1, 2), m_rgb, m_cls], 1)
    x_tilde = torch.cat([z_tilde, m_rgb, m_cls], 1)
    xq, xkv = x, x_tilde
    if pre_norm:
        norm = block.pre_norm
        xq = F.layer_norm(x, (c, ), norm.weight, norm.bias, norm.eps)
        xkv = F.layer_norm(x_tilde, (c, ), norm.weight, norm.bias, norm.eps)

    def linear(inp, layer):
        return inp @ layer.weight.T + layer.bias

    def split(inp):
        return inp.view(b, -1, heads, d).permute(0, 2, 1, 3)

    q = split(linear(xq, block.q_proj))
    k = split(linear(xkv, block.k_proj))
    v = split(linear(xkv, block.v_proj))
    weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), -1)
    attn = (weights @ v).permute(0, 2, 1, 3).reshape(b, -1, c)
    x = x + linear(attn, block.out_proj)  # (6)
    norm = block.ffn_norm
    y = F.layer_norm(x, (c, ), norm.weight, norm.bias, norm.eps)
    y = linear(F.gelu(linear(y, block.ffn[0])), block.ffn[3])
    x = x + y  # (7)
    n = t * h * w
    return x[:, :n].transpose(1, 2).reshape(z.shape), x[:, n:n + t], \
        x[:, n + t:]


@pytest.mark.parametrize('pre_norm', [False, True])
@pytest.mark.parametrize('shift', [(0, 0, 0), (1, -1, 2)])
def test_block_matches_handwritten_eq6_eq7(shift, pre_norm):
    torch.manual_seed(0)
    block = DeformableAttention3D(8, num_heads=2, kernel_size=3,
                                  pre_norm=pre_norm).double()
    set_offset_bias(block.token_search, shift)
    for norm in (block.ffn_norm, block.pre_norm):
        if norm is not None:
            nn.init.normal_(norm.weight)
            nn.init.normal_(norm.bias)
    z, m_rgb, m_cls = make_inputs()
    outputs = block(z, m_rgb, m_cls)
    expected = reference_eq6_eq7(block, z, m_rgb, m_cls,
                                 shifted_crop(z, 3, shift), pre_norm)
    for out, exp in zip(outputs, expected):
        torch.testing.assert_close(out, exp, atol=1e-6, rtol=0)


def test_pre_norm_changes_output():
    torch.manual_seed(0)
    post = DeformableAttention3D(8, num_heads=2, kernel_size=3).double()
    pre = DeformableAttention3D(8, num_heads=2, kernel_size=3,
                                pre_norm=True).double()
    missing = pre.load_state_dict(post.state_dict(), strict=False)
    assert sorted(missing.missing_keys) == ['pre_norm.bias', 'pre_norm.weight']
    inputs = make_inputs()
    for a, b in zip(post(*inputs), pre(*inputs)):
        assert not torch.allclose(a, b, atol=1e-3)


def test_gradients_reach_offsets_projections_ffn_and_modal_tokens():
    torch.manual_seed(0)
    block = DeformableAttention3D(8, num_heads=2, kernel_size=3)
    z, m_rgb, m_cls = make_inputs(dtype=torch.float32, grad=True)
    target = [torch.randn_like(x) for x in (z, m_rgb, m_cls)]

    def backward():
        block.zero_grad()
        outs = block(z, m_rgb, m_cls)
        sum((o * t).sum() for o, t in zip(outs, target)).backward()

    def nonzero_finite(grad):
        return grad is not None and torch.isfinite(grad).all() and \
            grad.abs().sum() > 0

    backward()
    search = block.token_search
    # at init the zero-initialised offset conv learns through the sampling
    # derivative; the first conv only acts through its zero weights
    assert nonzero_finite(search.conv_offset.weight.grad)
    assert nonzero_finite(search.conv_offset.bias.grad)
    assert torch.count_nonzero(search.conv.weight.grad) == 0
    for layer in (block.q_proj, block.k_proj, block.v_proj, block.out_proj,
                  block.ffn[0], block.ffn[3]):
        assert nonzero_finite(layer.weight.grad)
    for x in (z, m_rgb, m_cls):
        assert nonzero_finite(x.grad)

    with torch.no_grad():  # once the offset conv has moved off zero
        search.conv_offset.weight.normal_(std=0.1)
    backward()
    assert nonzero_finite(search.conv.weight.grad)
    assert nonzero_finite(search.conv.bias.grad)
    assert nonzero_finite(search.conv_offset.weight.grad)


def test_init_weights_keeps_zero_offsets():
    block = DeformableAttention3D(
        8, num_heads=2, kernel_size=3,
        init_cfg=dict(type='Kaiming', layer=['Conv3d', 'Linear']))
    block.init_weights()
    assert torch.count_nonzero(block.token_search.conv_offset.weight) == 0
    assert torch.count_nonzero(block.token_search.conv.weight) > 0
