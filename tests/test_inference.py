"""``tools/inference.py`` (issue 14 §3) end to end on a generated video.

One synthetic NTU-format sample (``data_prep.synthetic_ntu.write_sample``:
RGB video, depth PNGs, IR video, ``.skeleton`` file; 12 frames, 160x90) and,
per architecture, a checkpoint the test saves from a freshly built
(untrained) model of its synthetic config: the plumbing is tested, not the
accuracy. The 2D pose extractor is replaced, as in
``test_pose_clip_ranges.py``, through ``ExtractionOptions.build_extractor``:
the fake one returns the skeleton file's colour-space joints on the video's
frames; one test runs the real MMDet + MMPose path with random-weight
checkpoints of the packaged configs (``test_pose_extraction.py``'s
fixture) through the ``--det-*`` / ``--pose-*`` options.

With ``--skeleton`` and ``--pose-source skeleton`` the tool's data info is
the annotation the NTU converter writes for the sample, so its scores must
equal those of the config's test dataset on that annotation.
"""
import os
import os.path as osp
import pickle
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

import mmar_ext  # noqa: F401  (compat fixes and registration first)
import test_pose_extraction
from data_prep.common import probe_video
from data_prep.ntu.build_annotations import skeleton_keypoints
from data_prep.ntu.skeleton import read_skeleton
from data_prep.pose import runner
from data_prep.pose.extractor import PoseResult
from data_prep.synthetic_ntu import CLASSES as ALL_CLASSES
from data_prep.synthetic_ntu import sample_paths, write_sample
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from mmaction.registry import DATASETS, MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(ROOT, 'tools'))
import inference  # noqa: E402

NAME = 'S001C001P001R001A007'
FRAMES = 12
NUM_CLASSES = 12
#: the synthetic configs' classes (the dataset's synthetic_classes.txt)
CLASSES = ALL_CLASSES[:NUM_CLASSES]
#: the random-weight detector / HRNet checkpoints (and their tiny settings)
pose_checkpoints = test_pose_extraction.checkpoints


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------
@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    """One generated sample (all four modalities) and the class list."""
    root = tmp_path_factory.mktemp('inference_sample')
    write_sample(root, NAME, frames=(FRAMES, FRAMES), rgb_size=(160, 90),
                 depth_size=(128, 106))
    (root / 'synthetic_classes.txt').write_text('\n'.join(CLASSES) + '\n')
    paths = {m: str(p) for m, p in sample_paths(root, NAME).items()}
    return dict(root=str(root), **paths)


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """``checkpoint(config)``: a checkpoint of the freshly built model of
    ``configs/<config>.py`` (saved once; removed after the module)."""
    folder = tmp_path_factory.mktemp('inference_checkpoints')
    made = {}

    def get(config):
        if config not in made:
            cfg = Config.fromfile(osp.join(ROOT, 'configs', config + '.py'))
            init_default_scope('mmaction')
            torch.manual_seed(0)
            model = MODELS.build(cfg.model)
            path = str(folder / f'{config}.pth')
            torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
            made[config] = path
        return made[config]

    yield get
    shutil.rmtree(folder, ignore_errors=True)


class SkeletonFileExtractor:
    """The fake pose extractor: the sample's Kinect colour joints (COCO-17,
    scaled to the video) on the video's frames."""

    def __init__(self, skeleton_file):
        self.skeleton_file = skeleton_file
        self.calls = 0

    def extract_video(self, path, max_persons=None, **kwargs):
        self.calls += 1
        num, shape = probe_video(path)
        seq = read_skeleton(self.skeleton_file)
        fields = skeleton_keypoints(seq, shape, max_bodies=max_persons or 2)
        inds = runner.clock_indices(num, seq.num_frames)
        kp = fields['keypoint'][:, inds]
        return PoseResult(kp, fields['keypoint_score'][:, inds],
                          np.zeros(kp.shape[:2] + (5, ), np.float32), shape)


@pytest.fixture
def fake_pose(sample, monkeypatch):
    extractor = SkeletonFileExtractor(sample['skeleton'])
    monkeypatch.setattr(runner.ExtractionOptions, 'build_extractor',
                        lambda self, device='auto': extractor)
    return extractor


def argv(sample, config, ckpt, *extra, data_root=None):
    """Arguments of the tool: the sample's video, ``configs/<config>.py``,
    the checkpoint; the config's data paths pointed at the sample's folder
    (class names from its ``synthetic_classes.txt``, never from the
    repository's data/)."""
    root = data_root or sample['root']
    return [sample['rgb'], osp.join(ROOT, 'configs', config + '.py'), ckpt,
            '--device', 'cpu', *extra, '--cfg-options',
            f'test_dataloader.dataset.data_root={root}',
            f'test_dataloader.dataset.ann_file={root}/no_annotations.pkl']


def infer(sample, config, ckpt, *extra, **kwargs):
    args = inference.parse_args(argv(sample, config, ckpt, *extra, **kwargs))
    return inference.run_inference(args)


def check_result(result, modalities, missing=()):
    scores = result['scores']
    assert scores.shape == (NUM_CLASSES, ) and np.isfinite(scores).all()
    assert scores.sum() == pytest.approx(1, abs=1e-4)  # probabilities
    top = result['top']
    assert len(top) == 5
    assert [s for _, _, s in top] == sorted((s for _, _, s in top),
                                            reverse=True)
    assert top[0][2] == pytest.approx(float(scores.max()))
    assert all(name == CLASSES[label] for label, name, _ in top)
    assert result['modalities'] == list(modalities)
    assert result['missing'] == list(missing)


# --------------------------------------------------------------------------
# One case per architecture
# --------------------------------------------------------------------------
def given(sample, *modalities):
    extra = []
    if 'depth' in modalities:
        extra += ['--depth', sample['depth']]
    if 'ir' in modalities:
        extra += ['--ir', sample['ir']]
    if 'skeleton' in modalities:
        extra += ['--skeleton', sample['skeleton']]
    return extra


@pytest.mark.parametrize('config, inputs, modalities', [
    ('stfusion_synth_rgb-depth_sum', ('depth', ), ('rgb', 'depth')),
    ('stfusion_synth_ir', ('ir', ), ('ir', )),
    ('actionmae_synth_rgb-depth', ('depth', ), ('rgb', 'depth')),
    ('m_mixer_synth_rgb-depth', ('depth', ), ('rgb', 'depth')),
    ('epam_net_synth', (), ('rgb', 'pose')),
    ('tsmf_synth', ('skeleton', ), ('rgb', 'pose', 'skeleton')),
    ('deformable_transformer_synth', (), ('rgb', 'pose')),
])
def test_every_architecture(sample, checkpoint, fake_pose, config, inputs,
                            modalities):
    result = infer(sample, config, checkpoint(config),
                   *given(sample, *inputs))
    check_result(result, modalities)
    assert result['warnings'] == []
    # 2D pose: extracted for the pose modality and for the skeleton-box
    # crop of the synthetic pipelines (not for the IR-only model's)
    assert fake_pose.calls == (0 if config == 'stfusion_synth_ir' else 1)
    if fake_pose.calls:
        assert result['keypoint'].shape == (1, FRAMES, 17, 2)


def test_depth_folder_of_any_png_names(sample, checkpoint, fake_pose,
                                       tmp_path):
    """A depth folder without NTU's names: its PNGs in natural order."""
    folder = tmp_path / 'depth'
    folder.mkdir()
    files = sorted(os.listdir(sample['depth']))
    for i, name in enumerate(files):
        shutil.copy(osp.join(sample['depth'], name), folder / f'd{i}.png')
    config = 'stfusion_synth_rgb-depth_sum'
    ckpt = checkpoint(config)
    renamed = infer(sample, config, ckpt, '--depth', str(folder))
    ntu = infer(sample, config, ckpt, '--depth', sample['depth'])
    np.testing.assert_allclose(renamed['scores'], ntu['scores'], rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize('config', ['stfusion_synth_rgb-depth_sum',
                                    'tsmf_synth'])
def test_same_scores_as_the_test_dataset(sample, checkpoint, config,
                                         tmp_path):
    """With the skeleton file's joints as the 2D pose, the tool's data info
    is the NTU converter's annotation of the sample: the scores equal those
    of the config's test dataset on it."""
    from data_prep.ntu.build_annotations import build_annotations
    ann_file = tmp_path / 'ann.pkl'
    build_annotations(sample['root'], ann_file, dataset='ntu60',
                      num_workers=1)
    ckpt = checkpoint(config)
    result = infer(sample, config, ckpt, '--pose-source', 'skeleton',
                   *given(sample, 'depth', 'ir', 'skeleton'))

    cfg = Config.fromfile(osp.join(ROOT, 'configs', config + '.py'))
    init_default_scope('mmaction')
    dataset = DATASETS.build(dict(
        cfg.test_dataloader.dataset, ann_file=str(ann_file),
        data_root=sample['root'], split=None))
    model = MODELS.build(cfg.model)
    model.load_state_dict(torch.load(ckpt)['state_dict'])
    model.eval()
    with torch.no_grad():
        expected = model.test_step(pseudo_collate([dataset[0]]))[0]
    np.testing.assert_allclose(result['scores'],
                               expected.pred_score.numpy(), rtol=1e-5,
                               atol=1e-6)


def test_real_pose_models_and_out_video(sample, checkpoint, pose_checkpoints,
                                        tmp_path):
    """The MMDet + HRNet path of ``data_prep.pose`` (random weights, tiny
    test resize, as ``test_pose_extraction.py``) through the command-line
    options, and ``--out-video``."""
    det, pose = pose_checkpoints
    out = tmp_path / 'out' / 'drawn.avi'
    options = ['--det-checkpoint', det, '--pose-checkpoint', pose,
               '--det-cfg-options'] + [
                   f'{k}={v}' for k, v in
                   test_pose_extraction.DET_CFG_OPTIONS.items()] + [
                   '--pose-cfg-options'] + [
                   f'{k}={v}' for k, v in
                   test_pose_extraction.POSE_CFG_OPTIONS.items()] + [
                   '--max-persons', '1', '--out-video', str(out)]
    config = 'deformable_transformer_synth'
    result = infer(sample, config, checkpoint(config), *options)
    check_result(result, ('rgb', 'pose'))
    assert result['keypoint'].shape == (1, FRAMES, 17, 2)
    num, shape = probe_video(str(out))
    assert (num, shape) == probe_video(sample['rgb'])
    assert os.listdir(out.parent) == ['drawn.avi']  # no temporary left


def test_command_line(sample, checkpoint, tmp_path):
    """``python tools/inference.py`` as a user runs it: the top-5 printed,
    the video written with the skeleton and the label drawn."""
    out = tmp_path / 'drawn.mp4'
    config = 'epam_net_synth'
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'inference.py')] + argv(
        sample, config, checkpoint(config), '--skeleton', sample['skeleton'],
        '--pose-source', 'skeleton', '--out-video', str(out))
    proc = subprocess.run(cmd, cwd=str(tmp_path), capture_output=True,
                          text=True, env=dict(os.environ,
                                              OMP_NUM_THREADS='1'))
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert 'top-5 of 12 classes' in lines[0] and 'rgb, pose' in lines[0]
    ranked = [line for line in lines if line[:3].strip().rstrip('.')
              .isdigit()]
    assert len(ranked) == 5
    assert all(any(c in line for c in CLASSES) for line in ranked)
    assert lines[-1] == f'wrote {out}'
    num, shape = probe_video(str(out))
    assert (num, shape) == probe_video(sample['rgb'])
    # the skeleton is drawn where the joints are, the label top left
    source, drawn = cv2.VideoCapture(sample['rgb']), \
        cv2.VideoCapture(str(out))
    changed = []
    for _ in range(num):
        a, b = source.read()[1], drawn.read()[1]
        changed.append(np.abs(a.astype(int) - b.astype(int)).max(-1) > 60)
    changed = np.mean(changed, axis=0)
    kp = skeleton_keypoints(read_skeleton(sample['skeleton']),
                            shape)['keypoint'][0, 0]
    x, y = np.round(kp[0]).astype(int)  # the nose in frame 0
    assert changed[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2].max() > 0
    assert changed[:8, :40].mean() > 0.3


# --------------------------------------------------------------------------
# Missing modalities
# --------------------------------------------------------------------------
def test_optional_missing_modality_warns(sample, checkpoint, fake_pose):
    """Depth not given to an R+D model: the RGB stream alone, a warning
    naming depth and the model's policy."""
    config = 'stfusion_synth_rgb-depth_sum'
    result = infer(sample, config, checkpoint(config))
    check_result(result, ('rgb', ), missing=('depth', ))
    assert len(result['warnings']) == 1
    message = result['warnings'][0]
    assert 'no depth given' in message and '--depth' in message
    assert 'absent modalities left out of the sum' in message


def test_tsmf_without_skeleton_runs_the_student(sample, checkpoint,
                                                fake_pose, capsys):
    """TSMF without --skeleton: the 3D skeleton cannot be extracted from
    the video; the policy lets the student run on the RGB mosaic alone."""
    config = 'tsmf_synth'
    code = inference.main(argv(sample, config, checkpoint(config)))
    out, err = capsys.readouterr()
    assert code == 0
    assert 'warning: no skeleton given' in err and '--skeleton' in err
    assert 'RGB alone: the student' in err
    assert 'modalities: rgb, pose (without skeleton)' in out


@pytest.mark.parametrize('config, modality, hint', [
    ('stfusion_synth_ir', 'ir', '--ir VIDEO'),
    ('tsmf_synth_teacher', 'skeleton', 'cannot be extracted from RGB'),
])
def test_required_missing_modality_is_an_error(sample, checkpoint, capsys,
                                               config, modality, hint):
    code = inference.main(argv(sample, config, checkpoint(config)))
    err = capsys.readouterr().err
    assert code == 1
    assert f'needs the {modality} modality' in err and hint in err


def test_no_pose_for_a_pose_model_is_an_error(sample, checkpoint, capsys):
    config = 'epam_net_synth'
    code = inference.main(argv(sample, config, checkpoint(config),
                               '--pose-source', 'none'))
    assert code == 1
    assert 'takes the pose modality' in capsys.readouterr().err


# --------------------------------------------------------------------------
# Checkpoints and class names
# --------------------------------------------------------------------------
@pytest.mark.parametrize('config, trained, expected', [
    # R+D weights, an R+D+I config: no IR encoder in the checkpoint
    ('stfusion_synth_rgb-depth-ir_sum', 'stfusion_synth_rgb-depth_sum',
     'modalities rgb, depth but config'),
    # the stage-1 ST-GCN teacher's weights for the TSMF ensemble
    ('tsmf_synth', 'tsmf_synth_teacher', 'the checkpoint has no rgb'),
    # same modalities, another architecture
    ('stfusion_synth_rgb-depth_sum', 'm_mixer_synth_rgb-depth',
     'does not fit config'),
])
def test_checkpoint_of_another_model_is_an_error(sample, checkpoint, capsys,
                                                 config, trained, expected):
    code = inference.main(argv(sample, config, checkpoint(trained),
                               *given(sample, 'depth', 'ir', 'skeleton')))
    err = capsys.readouterr().err
    assert code == 1 and expected in err, err


def test_class_names(sample, checkpoint, fake_pose, tmp_path):
    config = 'epam_net_synth'
    ckpt = checkpoint(config)
    names = tmp_path / 'names.txt'
    names.write_text(''.join(f'action {i}\n' for i in range(NUM_CLASSES)))
    result = infer(sample, config, ckpt, '--class-names', str(names))
    assert all(name == f'action {label}'
               for label, name, _ in result['top'])
    # no names anywhere: class_<i>
    empty = tmp_path / 'empty'
    empty.mkdir()
    result = infer(sample, config, ckpt, data_root=str(empty))
    assert all(name == f'class_{label}' for label, name, _ in result['top'])
    # the annotation meta's names come first (NW-UCLA-style meta)
    ann = empty / 'no_annotations.pkl'
    with open(ann, 'wb') as f:
        pickle.dump(dict(annotations=[], meta=dict(
            class_names=[f'meta {i}' for i in range(NUM_CLASSES)])), f)
    result = infer(sample, config, ckpt, '--top-k', '3',
                   data_root=str(empty))
    assert [name for _, name, _ in result['top']] == [
        f'meta {label}' for label, _, _ in result['top']]
    assert len(result['top']) == 3
    # a list of the wrong length given explicitly
    names.write_text('a\nb\n')
    with pytest.raises(inference.InferenceError, match='lists 2 names'):
        infer(sample, config, ckpt, '--class-names', str(names))
