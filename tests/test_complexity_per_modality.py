"""tools/analysis/complexity.py: clip length and size per modality
(``{modality: value}`` dicts, as EPAM-Net's configs give them)."""
import contextlib
import io
import sys

import pytest
import torch

import mmar_ext  # noqa: F401

sys.path.insert(0, 'tools/analysis')
import complexity  # noqa: E402

MODEL = 'configs/_base_/models/epam_net.py'
PAPER = dict(rgb=(3, 16, 224, 224), pose=(17, 48, 56, 56))


@pytest.fixture(scope='module')
def epam():
    return complexity.build_model(MODEL)


def test_dicts_per_modality(epam):
    assert complexity.input_shapes(
        epam, dict(rgb=8, pose=24), dict(rgb=112, pose=28)) == dict(
            rgb=(3, 8, 112, 112), pose=(17, 24, 28, 28))
    # an int is every modality's, as before
    assert complexity.input_shapes(epam, 8, 64) == dict(
        rgb=(3, 8, 64, 64), pose=(17, 8, 64, 64))
    # mixed: an int length, per-modality sizes; extra entries are ignored
    assert complexity.input_shapes(
        epam, 4, dict(rgb=64, pose=16, depth=99)) == dict(
            rgb=(3, 4, 64, 64), pose=(17, 4, 16, 16))
    # a modality with neither: the paper's input; with one: 16 / 224
    assert complexity.input_shapes(epam, dict(rgb=8), None) == dict(
        rgb=(3, 8, 224, 224), pose=PAPER['pose'])
    assert complexity.input_shapes(epam) == PAPER
    # --input-shape still wins
    assert complexity.input_shapes(
        epam, dict(rgb=8, pose=24), dict(rgb=112, pose=28),
        dict(pose=(17, 6, 16, 16)))['pose'] == (17, 6, 16, 16)


def test_count_flops_takes_dicts(epam):
    tiny = dict(rgb=(3, 6, 64, 64), pose=(17, 18, 16, 16))
    flops = complexity.count_flops(epam, shapes=tiny)
    assert complexity.count_flops(epam, dict(rgb=6, pose=18),
                                  dict(rgb=64, pose=16)) == flops > 0
    inputs = complexity.dummy_inputs(epam, 1, dict(rgb=6, pose=18),
                                     dict(rgb=64, pose=16), 'cpu')
    assert tuple(inputs['rgb_imgs'].shape) == (1, 1, 3, 6, 64, 64)
    assert tuple(inputs['pose_imgs'].shape) == (1, 1, 3, 18, 16, 16)


def test_cli_uses_the_config_dicts():
    """``complexity.py configs/epam_net_synth.py``: the config's synthetic
    clips (not the paper's); ``--clip-len`` / ``--size`` set every
    modality."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        r = complexity.main(['configs/epam_net_synth.py', '--iters', '1',
                             '--device', 'cpu'])
    assert 'rgb 3x8x112x112, pose 17x24x28x28' in out.getvalue()
    model = complexity.build_model('configs/epam_net_synth.py')
    assert r['flops'] == complexity.count_flops(
        model, shapes=dict(rgb=(3, 8, 112, 112), pose=(17, 24, 28, 28)))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        complexity.main(['configs/epam_net_synth.py', '--iters', '1',
                         '--device', 'cpu', '--clip-len', '6', '--size', '64',
                         '--input-shape', 'pose=17,18,16,16'])
    assert 'rgb 3x6x64x64, pose 17x18x16x16' in out.getvalue()


def test_m_mixer_flops_are_counted():
    """The M-Mixer neck runs under MMEngine's FLOP counter, which traces
    the model (its shapes are tensors there)."""
    model = complexity.build_model('configs/m_mixer_synth_rgb-depth.py')
    shapes = dict(rgb=(3, 8, 64, 64), depth=(3, 8, 64, 64))
    assert complexity.count_flops(model, shapes=shapes) > 0


def test_attention_flops_are_counted():
    """MMEngine's counter knows neither ``scaled_dot_product_attention`` nor
    ``nn.MultiheadAttention``'s inference fast path (it counts 0); ours
    counts their products, hand-computed here."""
    import torch.nn.functional as F
    from mmengine.analysis import FlopAnalyzer

    from mmar_ext.models.common.transformer import PreNormTransformerEncoder

    class SDPA(torch.nn.Module):

        def forward(self, q, k, v):
            return F.scaled_dot_product_attention(q, k, v)

    q, k, v = torch.randn(2, 4, 5, 8), torch.randn(2, 4, 7, 8), \
        torch.randn(2, 4, 7, 6)
    a = FlopAnalyzer(SDPA(), (q, k, v))
    a.set_op_handle(**complexity.ATTENTION_FLOP_HANDLES)
    assert a.total() == 2 * 4 * 5 * 7 * (8 + 6)

    enc = PreNormTransformerEncoder(64, 1, 4, 256).eval()
    x = torch.randn(1, 10, 64)
    with torch.no_grad():
        stock = FlopAnalyzer(enc, (x, )).total()
        ours = FlopAnalyzer(enc, (x, ))
        ours.set_op_handle(**complexity.ATTENTION_FLOP_HANDLES)
        ours = ours.total()
    # q, k, v and output projections 4 x 10 x 64², q k^T and attn v
    # 2 x 10 x 10 x 64
    assert ours - stock == 4 * 10 * 64 * 64 + 2 * 10 * 10 * 64
