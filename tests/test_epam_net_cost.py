"""EPAM-Net's cost tools (issue 8 §4, §2): FLOPs both ways
(``tools/analysis/complexity.py``), the inference-only X-ShiftNet
(``mmar_ext.models.utils.fast_inference``) and the benchmark tool
(``tools/analysis/benchmark_epam_net.py``) at toy size. No timing is
asserted."""
import sys

import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, Swish

import mmar_ext  # noqa: F401

sys.path.insert(0, 'tools/analysis')
import benchmark_epam_net  # noqa: E402
import complexity  # noqa: E402

MODEL = 'configs/_base_/models/epam_net.py'
# RGB 64x64 -> 2x2 (stride 32), pose 16x16 -> 2x2 (stride 8); 18 = 3 x 6
TINY = dict(rgb=(3, 6, 64, 64), pose=(17, 18, 16, 16))


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """Toy-size models run hundreds of tiny ops: with 2 threads on a
    loaded 2-core machine each op waits for the busy core (~10 ms)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def mmengine_flops(module, *inputs):
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(module, inputs)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer.total()


def test_conventions_differ_by_the_activation_elements_of_a_conv_module():
    # 3 -> 8 channels, 1x3x3 kernel on 2 frames of 8x8: 8*2*8*8 = 1024
    # outputs, each 3*9 = 27 multiply-adds; eval BatchNorm 2 per element
    # (MMEngine); ReLU 1 per element (the paper's extra convention)
    block = ConvModule(3, 8, (1, 3, 3), padding=(0, 1, 1), bias=False,
                       conv_cfg=dict(type='Conv3d'),
                       norm_cfg=dict(type='BN3d'),
                       act_cfg=dict(type='ReLU', inplace=True)).eval()
    x = torch.randn(1, 3, 2, 8, 8)
    with torch.no_grad():
        assert mmengine_flops(block, x) == 1024 * 27 + 2 * 1024
        with complexity.ActivationCounter(block) as counter:
            block(x)
    assert counter.total == 1024
    assert counter.counts == {'activate': 1024}


def test_activations_are_counted_once_modules_and_functional():

    class Net(nn.Module):

        def __init__(self):
            super().__init__()
            self.swish = Swish()  # x * torch.sigmoid(x): one activation
            self.relu = nn.ReLU()  # calls F.relu: one activation

        def forward(self, x):
            y = self.relu(self.swish(x))
            return torch.sigmoid(y[:, :2]) * 2 + x.sigmoid().sum()

    net = Net()
    with torch.no_grad(), complexity.ActivationCounter(net) as counter:
        net(torch.randn(3, 5))
    assert dict(counter.counts) == {'swish': 15, 'relu': 15, '': 6 + 15}
    assert sorted(c[1] for c in counter.calls) == [
        'ReLU', 'Swish', 'sigmoid', 'sigmoid']


@pytest.fixture(scope='module')
def cli_report():
    """``complexity.py --with-activations`` on EPAM-Net (60 classes) at
    toy size: the returned dict and the printed text."""
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        r = complexity.main([
            MODEL, '--with-activations', '--iters', '1', '--device', 'cpu',
            '--input-shape', 'rgb=3,6,64,64', 'pose=17,18,16,16',
            '--cfg-options', 'model.cls_head.num_classes=60'
        ])
    return r, out.getvalue()


def test_complexity_prints_both_conventions_next_to_the_paper(cli_report):
    r, text = cli_report
    rows = r['report']['rows']
    assert list(rows) == ['rgb', 'pose', 'shared', 'whole']
    # Tables 5 / 6 / 7 of the paper, as printed
    assert '| rgb | 2.01M | 2.00M |' in text and '| 4.5 |' in text
    assert '| pose | 532.6k | 514.7k |' in text and '| 3.6 |' in text
    assert '| shared | 107 |' in text  # the attention block
    assert '| whole | 2.54M | 2.50M |' in text and '| 8.1 |' in text
    assert "differ from the paper's" in text  # toy inputs flagged
    whole = rows['whole']
    assert whole['params'] == 2_538_717 == r['params']
    assert whole['flops'] == r['flops']  # the one-line figure: MMEngine's
    for key in ('params', 'flops', 'activations'):
        assert whole[key] == sum(rows[p][key] for p in rows if p != 'whole')
    for row in rows.values():
        assert row['flops_with_activations'] == row['flops'] + row[
            'activations']


def test_activation_elements_of_tiny_epam_net_by_hand(cli_report):
    """The difference of the two conventions is exactly the activation
    output elements: every ReLU / Swish / Sigmoid module's output, counted
    here with plain forward hooks, plus the two functional sigmoids of the
    attention block, A_S [1, 1, 6, 2, 2] and A_T [1, 1, 6] (eqs. (2), (4))."""
    r, _ = cli_report
    model = complexity.build_model(MODEL,
                                   {'model.cls_head.num_classes': 60})
    seen = []
    for module in model.modules():
        if isinstance(module, (nn.ReLU, nn.Sigmoid, Swish)):
            module.register_forward_hook(
                lambda m, i, o: seen.append(o.numel()))
    inputs = complexity.dummy_inputs(model, 1, None, None, 'cpu', TINY)
    with torch.no_grad():
        model(inputs, mode='tensor', stage='head')
    neck = [c for c in r['report']['calls'] if c[0] == 'neck.attention']
    assert neck == [('neck.attention', 'sigmoid', 24),
                    ('neck.attention', 'sigmoid', 6)]
    whole = r['report']['rows']['whole']
    assert whole['activations'] == sum(seen) + 24 + 6
    assert whole['flops_with_activations'] - whole['flops'] == sum(seen) + 30
    assert r['report']['rows']['shared']['activations'] == 30


def test_paper_inputs_are_the_default_for_epam_net():
    model = complexity.build_model(MODEL)
    assert complexity.paper_model(model) == 'EPAM-Net'
    assert complexity.input_shapes(model) == dict(
        rgb=(3, 16, 224, 224), pose=(17, 48, 56, 56))
    # explicit clip length / size: C from each encoder's in_channels
    assert complexity.input_shapes(model, 8, 64) == dict(
        rgb=(3, 8, 64, 64), pose=(17, 8, 64, 64))
    stf = complexity.build_model('configs/stfusion_synth_rgb.py')
    assert complexity.paper_model(stf) is None
    assert complexity.input_shapes(stf, 8, 64) == dict(rgb=(3, 8, 64, 64))


def randomised_epam():
    model = complexity.build_model(MODEL,
                                   {'model.cls_head.num_classes': 60})
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():  # non-trivial BatchNorms (zero-init residuals)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm3d):
                n = m.num_features
                m.weight.copy_(0.5 + torch.rand(n, generator=gen))
                m.bias.copy_(0.2 * torch.randn(n, generator=gen))
                m.running_mean.copy_(0.2 * torch.randn(n, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(n, generator=gen))
    return model.eval()


@pytest.mark.parametrize('fold_bn,channels_last,max_bytes', [
    (True, True, 1 << 14),  # every expansion in chunks of 1-2 frames
    (False, False, None)
])
def test_fast_inference_equals_the_trained_model(fold_bn, channels_last,
                                                 max_bytes):
    from mmar_ext.models.utils.fast_inference import (XShiftNet2d,
                                                      convert_x_shiftnet)
    model = randomised_epam()
    fast = convert_x_shiftnet(model, fold_bn=fold_bn,
                              channels_last=channels_last,
                              max_expansion_bytes=max_bytes)
    assert isinstance(fast.backbone.rgb, XShiftNet2d)
    assert isinstance(fast.backbone.pose, XShiftNet2d)
    assert type(model.backbone.rgb).__name__ == 'XShiftNet'  # a copy
    inputs = complexity.dummy_inputs(model, 2, None, None, 'cpu', TINY)
    with torch.no_grad():
        for stage in ('backbone', 'head'):
            ref = model(dict(inputs), mode='tensor', stage=stage)
            out = fast(dict(inputs), mode='tensor', stage=stage)
            if stage == 'backbone':
                for m in ('rgb', 'pose'):
                    assert out[m].shape == ref[m].shape
                    torch.testing.assert_close(out[m], ref[m], rtol=1e-4,
                                               atol=1e-4)
            else:
                torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match='inference-only'):
        fast.backbone.rgb.train()


def test_benchmark_tool_runs_at_toy_size(tmp_path):
    out = tmp_path / 'bench.md'
    text = benchmark_epam_net.main([
        'all', '--iters', '1', '--warmup', '0', '--threads', '1',
        '--epam-shape', 'rgb=3,6,64,64', 'pose=17,18,16,16',
        '--rgbpose-shape', 'imgs=3,4,64,64', 'heatmap_imgs=17,16,16,16',
        '--variants', 'eager', '2d+bn_fold+channels_last+chunks',
        '--baseline-variants', 'eager',
        '--num-clips', '2', '--rgb-size', '160x90', '--frames', '16,20',
        '--builtin', '--out', str(out)
    ])
    table = out.read_text()
    assert table == text
    assert 'CPUs (os.cpu_count)' in table
    assert 'with 1 intra-op threads' in table
    # model rows: params and MMEngine FLOPs of both, speed ratio column
    assert '| RGBPoseConv3D | eager | RGB 3x4x64x64, pose 17x16x16x16 | ' \
        '36.15M |' in table
    assert '| EPAM-Net | eager | RGB 3x6x64x64, pose 17x18x16x16 | ' \
        '2.54M |' in table
    assert '| EPAM-Net | 2d+bn_fold+channels_last+chunks |' in table
    assert 'RGBPoseConv3D / EPAM-Net: params 14.2x' in table
    # pipeline rows: the stock pipeline, EPAM-Net's and its decode variants
    assert '| RGBPoseConv3D (stock) | imgs 1x3x8x224x224, heatmap_imgs ' \
        '1x17x32x56x56 |' in table
    epam = 'EPAM-Net (decoding pyav, reduced size while the box keeps 224 px)'
    assert f'| {epam} | rgb_imgs 1x3x16x224x224, pose_imgs ' \
        '1x17x48x56x56 |' in table
    assert '| EPAM-Net, decoding PyAV, full size |' in table
    assert '| EPAM-Net, decoding decord, full size |' in table
    # a 160x90 video has no box of 448 px: full size, the same pixels
    assert f'{epam} against decord at full size, same random draws: mean ' \
        '|difference| of the RGB clip 0.00 (max over clips 0.00)' in table
    assert 'RGB decoded at (clips) 1/1: 2.' in table
    assert '| RGBPoseConv3D (stock) | GeneratePoseTarget |' in table
    assert f'| {epam} | PoseHeatmapVolume |' in table
