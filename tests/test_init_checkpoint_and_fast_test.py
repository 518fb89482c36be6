"""tools/analysis/init_checkpoint.py (a config's initialised model as a
checkpoint) and ``XShiftNet(fast_inference=True)`` (tools/test.py with the
inference-only 2D rewrite): an untrained synthetic EPAM-Net tested both ways
gives the same scores."""
import pickle

import numpy as np
import torch

from e2e_helpers import PY, data_options, run

CONFIG = 'configs/epam_net_synth.py'


def _scores(path):
    with open(path, 'rb') as f:
        results = pickle.load(f)
    return np.stack([np.asarray(r['pred_score']) for r in results])


def test_init_checkpoint_then_fast_inference_test(e2e_data, tmp_path):
    ckpt = tmp_path / 'init.pth'
    # both streams from "stage-1" checkpoints: here the initialised model
    # itself, saved once and fed back through stream_checkpoints
    run([PY, 'tools/analysis/init_checkpoint.py', CONFIG, str(ckpt),
         '--seed', '3', '--cfg-options', 'model.neck=None',
         f'model.cls_head.num_classes={e2e_data["num_classes"]}',
         'model.stream_checkpoints=None'])
    state = torch.load(ckpt, map_location='cpu')
    assert state['meta']['note'].startswith('initialisation only')
    assert any(k.startswith('backbone.pose.') for k in state['state_dict'])
    opts = data_options(e2e_data) + [
        'model.neck=None',
        f'model.cls_head.num_classes={e2e_data["num_classes"]}']
    dumps = {}
    for name, extra in (('plain', []), ('fast', [
            'model.backbone.rgb.fast_inference=True',
            'model.backbone.pose.fast_inference=True'])):
        dumps[name] = tmp_path / f'{name}.pkl'
        run([PY, 'tools/test.py', CONFIG, str(ckpt), '--work-dir',
             str(tmp_path / name), '--dump', str(dumps[name]),
             '--cfg-options'] + opts + extra)
    plain, fast = _scores(dumps['plain']), _scores(dumps['fast'])
    assert plain.shape == (e2e_data['num_val'], e2e_data['num_classes'])
    np.testing.assert_allclose(fast, plain, rtol=1e-4, atol=1e-5)


def test_fast_inference_switch_follows_the_weights():
    """The 2D rewrite is used only in eval mode without gradients, and is
    rebuilt after train() or a new state dict."""
    from mmar_ext.models.backbones import XShiftNet
    torch.manual_seed(0)
    net = XShiftNet(base_channels=8, stage_blocks=(1, 1),
                    fast_inference=True)
    net.init_weights()
    x = torch.randn(2, 3, 4, 32, 32)
    net.eval()
    with torch.no_grad():
        ref = super(XShiftNet, net).forward(x)
        fast = net(x)
    assert '_inference_net_cache' in net.__dict__
    assert not any('inference' in k for k in net.state_dict())
    torch.testing.assert_close(fast, ref, rtol=1e-4, atol=1e-5)
    with torch.enable_grad():  # gradients: the network itself
        out = net(x.requires_grad_())
    out.sum().backward()
    assert net.conv1_s.conv.weight.grad is not None
    # new weights: the cached rewrite is dropped and rebuilt
    state = {k: v * 2 if v.is_floating_point() and 'running' not in k
             else v for k, v in net.state_dict().items()}
    net.load_state_dict(state)
    assert '_inference_net_cache' not in net.__dict__
    with torch.no_grad():
        torch.testing.assert_close(net(x.detach()),
                                   super(XShiftNet, net).forward(x.detach()),
                                   rtol=1e-3, atol=1e-4)  # doubled weights
    net.train()
    assert '_inference_net_cache' not in net.__dict__
