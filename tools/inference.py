"""Recognise the action in one video with a trained mmar_ext model.

    python tools/inference.py VIDEO CONFIG CHECKPOINT \\
        [--depth DIR] [--ir VIDEO] [--skeleton FILE.skeleton] \\
        [--pose-source hrnet|skeleton|none] \\
        [--det-config C] [--det-checkpoint F] [--pose-config C] \\
        [--pose-checkpoint F] [--device auto|cpu|cuda:0] \\
        [--class-names FILE] [--top-k 5] [--out-video OUT.mp4] \\
        [--cfg-options k=v ...]

Prints the ``--top-k`` (5) classes with their scores. What runs:

* **the model**: built from ``CONFIG`` in test mode (no ``init_weights``:
  no ImageNet or stage-1 weights are fetched) and filled from
  ``CHECKPOINT``; a checkpoint whose modality encoders differ from the
  config's (``backbone.<modality>.*``; TSMF: ``teacher.*`` = skeleton,
  ``backbone.*`` = RGB), or that misses or adds tensors, or has other
  shapes, is an error naming both.
* **the data**: one data info like an annotation of docs/data_format.md
  (``rgb_path``, ``total_frames``, ``num_frames``, ``img_shape``,
  ``modalities``, ``keypoint`` ...; ``frame_dir`` = the video's name) goes
  through the config's test pipeline (``test_dataloader.dataset.pipeline``)
  and the model's ``test_step``, as one test sample would. ``VIDEO`` is the
  RGB video; ``--depth`` a folder of depth PNGs (NTU's
  ``MDepth-%08d.png``, or any ``*.png`` in natural order); ``--ir`` an
  infrared video; ``--skeleton`` an NTU ``.skeleton`` file (Kinect v2: the
  3D joints of TSMF's teacher, ``keypoint_3d``). The shared clock
  (``total_frames``) is the skeleton's frames, else the depth frames, else
  the IR frames, else the video's (as the NTU converter chooses it); the
  others are mapped onto it proportionally (a warning when their counts
  differ by more than the converters' tolerance).
* **2D pose** (COCO-17 ``keypoint``), when the test data has the ``pose``
  modality or the pipeline places crops by the keypoints
  (``SkeletonBoxCrop``, ``SkeletonROIMosaic``, heatmaps, joint tokens):
  ``--pose-source hrnet`` (default) runs the top-down extraction of
  ``data_prep.pose`` on the video (MMDet Faster R-CNN person detector +
  MMPose HRNet-w32; ``--det-*`` / ``--pose-*`` / ``--max-persons`` as
  ``python -m data_prep.pose_extraction``; offline, give local
  checkpoints); ``skeleton`` takes the ``--skeleton`` file's colour-space
  joints (what the synthetic and NTU ``ntu_color`` annotations hold);
  ``none`` extracts nothing (only for models without the pose modality:
  their skeleton-box crop then falls back to the whole frame).

Missing modalities: a modality of the config's test data that was not
given (no ``--depth``, ``--ir``, ``--skeleton``) is dropped at the model
when its robustness policy allows it
(``MultiModalRecognizer.set_test_modalities`` / TSMF's, as
``tools/analysis/missing_modality_eval.py`` does): the prediction is made
with a warning that names the missing modality and the policy. When the
model cannot do without it (it has no other modality, it has no
missing-modality switch -- e.g. TSMF's stage-1 ST-GCN teacher --, or its
neck refuses the subset, ``ModalitySubsetNotApplicable``) it is an error
naming it; a 3D skeleton cannot be extracted from RGB, only given with
``--skeleton``.

Class names: ``--class-names FILE`` (one a line), else the annotation
file's ``meta['class_names']`` when the config's ``ann_file`` exists, else
``synthetic_classes.txt`` of its raw root (the synthetic dataset), else
``class_<i>``.

``--out-video PATH`` (``.mp4``: mp4v, ``.avi``: MJPG) writes the video
with the 2D skeleton (when one was extracted or given) and the predicted
label drawn on every frame, atomically (a temporary file, then a rename).

Output: the result alone on stdout (warnings, errors and the libraries'
log lines on stderr). Exit status: 0 done, 1 error (the message on
stderr).
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:  # data_prep lives next to mmar_ext
    sys.path.insert(0, ROOT)

#: pipeline steps that read the 2D keypoints (besides the pose modality)
KEYPOINT_TRANSFORMS = frozenset((
    'SkeletonBoxCrop', 'SkeletonROIMosaic', 'PoseHeatmapVolume',
    'JointHeatmaps', 'JointCoordinates', 'PoseCompact', 'MMCompact',
    'GeneratePoseTarget', 'PoseDecode'))
#: how the user gives each modality (for the messages)
HOW_TO_GIVE = dict(
    rgb='the VIDEO argument',
    depth='--depth DIR (a folder of depth PNGs)',
    ir='--ir VIDEO (an infrared video)',
    pose='--pose-source hrnet (2D pose extracted from the video) or '
    '--pose-source skeleton with --skeleton FILE',
    skeleton='--skeleton FILE (an NTU .skeleton file; a 3D skeleton '
    'cannot be extracted from RGB)')
#: joint score above which a joint is drawn
DRAW_SCORE_THR = 0.3


class InferenceError(RuntimeError):
    """Bad input or a model that cannot run on it; the message says why."""


class _Warnings:
    """Warnings printed to stderr as they come (``warning: ...``) and kept
    for the result."""

    def __init__(self, quiet: bool = False):
        self.messages: List[str] = []
        self.quiet = quiet

    def __call__(self, message: str) -> None:
        self.messages.append(message)
        if not self.quiet:
            print(f'warning: {message}', file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------
def parse_args(argv=None):
    import mmar_ext  # noqa: F401  (compatibility fixes before OpenMMLab)
    from mmengine.config import DictAction

    from data_prep.pose import models as pose_models
    parser = argparse.ArgumentParser(
        description='Top-k action classes of one video with a trained '
        'mmar_ext model (its config\'s test pipeline, 2D pose extraction '
        'when the model takes pose, depth / IR / skeleton when given).',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('video', help='the RGB video')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--depth', metavar='DIR',
                        help='folder of depth PNGs (MDepth-%%08d.png, or any '
                        '*.png in natural order)')
    parser.add_argument('--ir', metavar='VIDEO', help='infrared video')
    parser.add_argument('--skeleton', metavar='FILE',
                        help='NTU .skeleton file (Kinect v2 joints)')
    parser.add_argument(
        '--pose-source', choices=('hrnet', 'skeleton', 'none'),
        default='hrnet', help='2D pose of the video: HRNet extraction, the '
        '--skeleton file\'s colour-space joints, or none')
    pose_models.add_model_arguments(parser)
    parser.add_argument('--max-persons', type=int, default=2,
                        help='persons kept by the pose extraction')
    parser.add_argument('--pose-batch-size', type=int, default=16,
                        help='frames per batch of the pose extraction')
    parser.add_argument('--device', default='auto',
                        help="'auto' (CUDA if available), 'cpu', 'cuda:0'")
    parser.add_argument('--class-names', metavar='FILE',
                        help='class names, one a line')
    parser.add_argument('--top-k', type=int, default=5)
    parser.add_argument('--out-video', metavar='PATH',
                        help='write the video with the skeleton and the '
                        'predicted label (.mp4 or .avi)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as in tools/test.py')
    args = parser.parse_args(argv)
    if args.top_k < 1:
        parser.error('--top-k must be >= 1')
    if args.out_video and osp.splitext(args.out_video)[1].lower() not in \
            VIDEO_CODECS:
        parser.error(f'--out-video {args.out_video}: give a '
                     f'{" or ".join(VIDEO_CODECS)} file')
    return args


# --------------------------------------------------------------------------
# Model and checkpoint
# --------------------------------------------------------------------------
def _state_dict(checkpoint: str) -> Dict:
    from mmengine.runner import CheckpointLoader
    if not osp.isfile(checkpoint) and '://' not in checkpoint:
        raise InferenceError(f'checkpoint not found: {checkpoint}')
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu',
                                            logger='silent')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not state:
        raise InferenceError(f'{checkpoint} holds no state dict')
    return {(k[len('module.'):] if k.startswith('module.') else k): v
            for k, v in state.items()}


def encoder_modalities(model, state: Dict) -> Optional[tuple]:
    """The modalities whose encoder tensors ``state`` (a state dict, the
    checkpoint's or the model's own) holds, for a model with per-modality
    encoders: ``backbone.<modality>.*`` of a ``MultiModalRecognizer``;
    TSMF: ``teacher.*`` (skeleton) and ``backbone.*`` (RGB). None for other
    models."""
    from mmar_ext.datasets.multimodal_dataset import ALL_MODALITIES
    from mmar_ext.models.recognizers.tsmf import TSMFRecognizer
    if isinstance(model, TSMFRecognizer):
        # a stage-1 teacher checkpoint (RecognizerGCN) has its ST-GCN at
        # backbone.*: skeleton, not the RGB student
        gcn = ('teacher.', 'backbone.gcn.', 'backbone.data_bn.')
        found = []
        if any(k.startswith(gcn) for k in state):
            found.append('skeleton')
        if any(k.startswith('backbone.') and not k.startswith(gcn)
               for k in state):
            found.append('rgb')
        return tuple(found)
    if not getattr(model, 'modalities', None) or \
            not hasattr(model.backbone, 'modalities'):
        return None
    found = []
    for key in state:
        parts = key.split('.')
        if parts[0] == 'backbone' and len(parts) > 2 and \
                parts[1] in ALL_MODALITIES and parts[1] not in found:
            found.append(parts[1])
    return tuple(found)


def _first(keys: Sequence[str], num: int = 5) -> str:
    more = f' (+{len(keys) - num} more)' if len(keys) > num else ''
    return ', '.join(keys[:num]) + more


def load_weights(model, checkpoint: str, config: str) -> None:
    """Fills ``model`` from ``checkpoint``; an error names what differs:
    the modality encoders first, then missing / unexpected tensors and
    shapes."""
    state = _state_dict(checkpoint)
    own = model.state_dict()
    theirs = encoder_modalities(model, state)
    if theirs is not None:
        # a parameter-free encoder (PassThroughEncoder) has no tensors
        mine = encoder_modalities(model, own)
        if not theirs and mine:
            tops = sorted({'.'.join(k.split('.')[:2]) for k in state})
            raise InferenceError(
                f'checkpoint {checkpoint} has no modality encoder of the '
                f'kind config {config} builds ({", ".join(mine)}; its '
                f'modules: {_first(tops)}): it is a checkpoint of another '
                'model; use the config it was trained with')
        if set(theirs) != set(mine):
            extra = [m for m in theirs if m not in mine]
            lacking = [m for m in mine if m not in theirs]
            detail = '; '.join(
                part for part in (
                    f'the checkpoint has no {", ".join(lacking)} encoder'
                    if lacking else '',
                    f'the config has no {", ".join(extra)} encoder'
                    if extra else '') if part)
            raise InferenceError(
                f'checkpoint {checkpoint} was trained with the modalities '
                f'{", ".join(theirs) or "(none)"} but config {config} builds '
                f'encoders of {", ".join(mine)} ({detail}): use the config '
                'the checkpoint was trained with')
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f'{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}'
              for k in own if k in state and hasattr(state[k], 'shape')
              and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        problems = []
        if missing:
            problems.append(f'it lacks {len(missing)} of the model\'s '
                            f'{len(own)} tensors: {_first(missing)}')
        if unexpected:
            problems.append(f'it has {len(unexpected)} tensors the model '
                            f'does not: {_first(unexpected)}')
        if shapes:
            problems.append(f'{len(shapes)} shapes differ (checkpoint vs '
                            f'model): {_first(shapes)}')
        raise InferenceError(f'checkpoint {checkpoint} does not fit config '
                             f'{config}: ' + '; '.join(problems))
    model.load_state_dict(state, strict=True)


def build_model(cfg, checkpoint: str, config: str, device: str):
    """The config's model with the checkpoint's weights, in eval mode on
    ``device`` (``init_weights`` is not called: nothing is downloaded)."""
    from mmaction.registry import MODELS
    model = MODELS.build(cfg.model)
    load_weights(model, checkpoint, config)
    model.cfg = cfg
    model.to(device)
    model.eval()
    return model


# --------------------------------------------------------------------------
# Modalities
# --------------------------------------------------------------------------
def _keypoint_steps(steps, modalities: Sequence[str]) -> List[str]:
    """Steps of a pipeline config (nested ones included, not the private
    3D-skeleton transforms of ``GCNSkeletonInput``) that read the 2D
    keypoints; ``SkeletonBoxCrop`` counts only when it crops one of the
    data ``modalities`` (the synthetic IR-only model's pipeline keeps an
    RGB crop that has nothing to crop)."""
    found = []
    for step in steps or ():
        if not isinstance(step, dict):
            continue
        kind = step.get('type')
        if kind == 'GCNSkeletonInput':
            continue
        if kind in KEYPOINT_TRANSFORMS:
            if kind != 'SkeletonBoxCrop' or set(
                    step.get('modalities', ('rgb', ))) & set(modalities):
                found.append(kind)
        inner = step.get('transforms')
        if isinstance(inner, dict):
            for value in inner.values():
                found += _keypoint_steps(value, modalities)
        elif isinstance(inner, (list, tuple)):
            found += _keypoint_steps(inner, modalities)
    return found


def test_dataset_cfg(cfg) -> dict:
    for name in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(name)
        if isinstance(loader, dict) and isinstance(loader.get('dataset'),
                                                   dict):
            return loader['dataset']
    raise InferenceError('the config has no test_dataloader.dataset (its '
                         'test pipeline is what inference runs)')


def needs_keypoints(data_modalities: Sequence[str], pipeline) -> bool:
    """Whether the test data needs 2D keypoints: the pose modality, or a
    pipeline step placing crops / tokens by the keypoints."""
    return 'pose' in data_modalities or bool(
        _keypoint_steps(pipeline, data_modalities))


def choose_test_modalities(model, required: Sequence[str],
                           given: Sequence[str], warn) -> List[str]:
    """The data modalities to decode (``required`` ones that were
    ``given``). Missing ones are dropped at the model when its policy
    allows it (``set_test_modalities``, with a warning), else an
    :class:`InferenceError` names them."""
    from mmar_ext.evaluation.missing_modality import (
        ModalitySubsetNotApplicable, missing_modality_policy)
    missing = [m for m in required if m not in given]
    present = [m for m in required if m in given]
    if not missing:
        return present
    how = '; '.join(f'{m}: {HOW_TO_GIVE.get(m, m)}' for m in missing)
    names = ', '.join(missing)
    model_modalities = tuple(getattr(model, 'modalities', None) or ())
    if not model_modalities or not hasattr(model, 'set_test_modalities'):
        raise InferenceError(
            f'the model needs the {names} modality, which was not given '
            f'({how}); it has no missing-modality switch '
            f'({type(model).__name__} runs on {", ".join(required)} only)')
    keep = [m for m in model_modalities if m in given]
    if not keep:
        raise InferenceError(
            f'the model needs the {names} modality, which was not given '
            f'({how}): it has no other modality to run on (modalities '
            f'{", ".join(model_modalities)})')
    try:
        model.set_test_modalities(tuple(keep))
    except (ModalitySubsetNotApplicable, ValueError) as error:
        raise InferenceError(
            f'the model cannot do without the {names} modality, which was '
            f'not given ({how}): {error}') from None
    warn(f'no {names} given ({how}): the model runs on '
         f'{", ".join(keep)} alone -- its missing-modality policy: '
         f'{missing_modality_policy(model)}; expect lower accuracy than with '
         'all its modalities')
    return present


# --------------------------------------------------------------------------
# The data info
# --------------------------------------------------------------------------
def _check_clock(name: str, modality: str, path: str, count: int,
                 total: int, clock: str, warn) -> None:
    from data_prep.common import (FrameCountMismatchError,
                                  check_frame_count)
    try:
        check_frame_count(name, modality, path, count, total, clock)
    except FrameCountMismatchError as error:
        warn(f'{error}; its frames are mapped onto the {clock} clock '
             'proportionally')


def probe_depth(folder: str):
    """``(num_frames, (H, W), frame_files or None)`` of a depth folder:
    NTU's ``MDepth-%08d.png`` frames, else every ``*.png`` in natural
    order."""
    from data_prep.common import (ModalityFileError, natural_key,
                                  probe_frame_files)
    from data_prep.ntu.build_annotations import (DEPTH_FRAME,
                                                 probe_depth_folder)
    if not osp.isdir(folder):
        raise InferenceError(f'--depth {folder}: not a folder')
    names = os.listdir(folder)
    try:
        if any(DEPTH_FRAME.fullmatch(n) for n in names):
            num, shape = probe_depth_folder(folder)
            return num, shape, None
        files = sorted((n for n in names if n.lower().endswith('.png')),
                       key=natural_key)
        if not files:
            raise InferenceError(f'--depth {folder}: no PNG frames')
        num, shape = probe_frame_files(folder, files)
        return num, shape, files
    except ModalityFileError as error:
        raise InferenceError(f'--depth: {error}') from None


def _probe(option: str, path: str):
    from data_prep.common import ModalityFileError, probe_video
    if not osp.isfile(path):
        raise InferenceError(f'{option} {path}: no such file')
    try:
        return probe_video(path)
    except ModalityFileError as error:
        raise InferenceError(f'{option}: {error}') from None


def read_skeleton_file(path: str, image_shape) -> Dict:
    """``keypoint_3d`` (and the colour-space 2D joints) of an NTU
    ``.skeleton`` file, as the NTU converter reads them."""
    from data_prep.ntu.build_annotations import skeleton_keypoints
    from data_prep.ntu.skeleton import read_skeleton
    if not osp.isfile(path):
        raise InferenceError(f'--skeleton {path}: no such file')
    try:
        seq = read_skeleton(path)
    except (ValueError, OSError) as error:
        raise InferenceError(f'--skeleton: {error}') from None
    if not seq.bodies or not seq.num_frames:
        raise InferenceError(f'--skeleton {path}: the file has no body')
    fields = skeleton_keypoints(seq, image_shape)
    fields['num_frames'] = int(seq.num_frames)
    return fields


def build_pose_extractor(args):
    """The 2D pose extractor of ``data_prep.pose`` (``ExtractionOptions.
    build_extractor``, the hook the pose tests replace)."""
    from data_prep.pose.runner import ExtractionOptions
    options = ExtractionOptions(
        det_config=args.det_config, det_checkpoint=args.det_checkpoint,
        pose_config=args.pose_config, pose_checkpoint=args.pose_checkpoint,
        det_cfg_options=args.det_cfg_options,
        pose_cfg_options=args.pose_cfg_options,
        det_score_thr=args.det_score_thr, max_persons=args.max_persons,
        batch_size=args.pose_batch_size)
    try:
        return options.build_extractor(args.device)
    except Exception as error:
        raise InferenceError(
            f'cannot build the 2D pose models (detector {args.det_config} '
            f'from {args.det_checkpoint}, pose {args.pose_config} from '
            f'{args.pose_checkpoint}): {type(error).__name__}: {error} '
            '(offline, give local --det-checkpoint / --pose-checkpoint '
            'files; or --pose-source skeleton with --skeleton FILE)'
        ) from error


def extract_pose(args, num_video_frames: int, warn) -> Dict:
    """HRNet keypoints of every video frame: ``keypoint`` ``[M, T, 17,
    2]``, ``keypoint_score`` ``[M, T, 17]``."""
    from data_prep.pose.video import BadVideoError
    extractor = build_pose_extractor(args)
    try:
        result = extractor.extract_video(args.video,
                                         max_persons=args.max_persons)
    except BadVideoError as error:
        raise InferenceError(f'pose extraction: {error}') from None
    keypoint = np.asarray(result.keypoint, np.float32)
    score = np.asarray(result.keypoint_score, np.float32)
    if keypoint.shape[1] != num_video_frames:
        warn(f'the pose extraction decoded {keypoint.shape[1]} frames of '
             f'{args.video}, the probe {num_video_frames}')
    if not (score > 0).any():
        warn(f'no person detected in {args.video} (detector score > '
             f'{args.det_score_thr}): the keypoints are empty and the '
             'skeleton-box crops fall back to the whole frame')
    return dict(keypoint=keypoint, keypoint_score=score)


def clock_indices(total: int, num: int) -> np.ndarray:
    """Frame of a ``num``-frame stream at each of ``total`` clock frames."""
    from data_prep.pose.runner import clock_indices as indices
    return indices(total, num)


def make_data_info(args, pose_needed: bool,
                   warn) -> Dict:
    """The annotation-like data info of docs/data_format.md for the
    inputs, with every modality given (``modalities`` is set later);
    ``video_keypoint`` / ``video_keypoint_score`` hold the 2D pose on the
    video's own frames (for drawing)."""
    num_rgb, rgb_shape = _probe('VIDEO', args.video)
    name = osp.splitext(osp.basename(args.video))[0]
    info = dict(frame_dir=name, rgb_path=osp.abspath(args.video),
                img_shape=tuple(rgb_shape), original_shape=tuple(rgb_shape),
                modality='RGB', start_index=0)
    counts = dict(rgb=num_rgb)
    shapes = dict(rgb=tuple(rgb_shape))
    paths = dict(rgb=args.video)
    if args.depth:
        counts['depth'], shapes['depth'], files = probe_depth(args.depth)
        info['depth_path'] = osp.abspath(args.depth)
        paths['depth'] = args.depth
        if files is not None:
            info['depth_frames'] = files
    if args.ir:
        counts['ir'], shapes['ir'] = _probe('--ir', args.ir)
        info['ir_path'] = osp.abspath(args.ir)
        paths['ir'] = args.ir
    skeleton = None
    if args.skeleton:
        skeleton = read_skeleton_file(args.skeleton, rgb_shape)
        total, clock = skeleton.pop('num_frames'), 'skeleton'
    else:
        clock = next(m for m in ('depth', 'ir', 'rgb') if m in counts)
        total = counts[clock]
    for m, count in counts.items():
        if m != clock:
            _check_clock(name, m, paths[m], count, total, clock, warn)
    info.update(total_frames=int(total), num_frames=dict(counts),
                modality_shapes=shapes)
    if skeleton is not None:
        info['keypoint_3d'] = skeleton['keypoint_3d']

    if pose_needed and args.pose_source != 'none':
        if args.pose_source == 'skeleton':
            if skeleton is None:
                raise InferenceError('--pose-source skeleton needs '
                                     '--skeleton FILE')
            kp, score = skeleton['keypoint'], skeleton['keypoint_score']
            back = clock_indices(num_rgb, total)
            info['video_keypoint'] = kp[:, back]
            info['video_keypoint_score'] = score[:, back]
        else:
            pose = extract_pose(args, num_rgb, warn)
            video_frames = pose['keypoint'].shape[1]
            inds = clock_indices(total, video_frames)
            kp, score = pose['keypoint'][:, inds], \
                pose['keypoint_score'][:, inds]
            info['video_keypoint'] = pose['keypoint']
            info['video_keypoint_score'] = pose['keypoint_score']
        info['keypoint'] = np.ascontiguousarray(kp, np.float32)
        info['keypoint_score'] = np.ascontiguousarray(score, np.float32)
        info['num_frames']['pose'] = int(total)
    elif pose_needed:
        warn('--pose-source none: no 2D keypoints; the pipeline\'s '
             'skeleton-box crop uses the whole frame (the model was trained '
             'on skeleton-box crops)')
    if 'video_keypoint' not in info and skeleton is not None:
        # nothing extracted: --out-video draws the skeleton file's joints
        back = clock_indices(num_rgb, total)
        info['video_keypoint'] = skeleton['keypoint'][:, back]
        info['video_keypoint_score'] = skeleton['keypoint_score'][:, back]
    return info


def given_modalities(args, pose_needed: bool) -> List[str]:
    given = ['rgb']
    if args.depth:
        given.append('depth')
    if args.ir:
        given.append('ir')
    if args.skeleton:
        given.append('skeleton')
    if args.pose_source != 'none' and (args.pose_source == 'hrnet'
                                       or args.skeleton):
        given.append('pose')
    return given


def adapt_pipeline(pipeline: List[dict], info: Dict) -> List[dict]:
    """The test pipeline without the steps of an absent 3D skeleton:
    a ``GCNSkeletonInput`` whose input (``keypoint_3d``) the data lacks is
    left out, and its output key from ``PackActionInputs.collect_keys``
    (TSMF without ``--skeleton``: the student alone, which never reads
    it)."""
    import copy
    pipeline = copy.deepcopy(list(pipeline))
    dropped = []
    kept = []
    for step in pipeline:
        if isinstance(step, dict) and step.get('type') == \
                'GCNSkeletonInput' and \
                step.get('in_key', 'keypoint_3d') not in info:
            dropped.append(step.get('out_key', 'skeleton'))
            continue
        kept.append(step)
    for step in kept:
        keys = step.get('collect_keys') if isinstance(step, dict) else None
        if keys and dropped:
            step['collect_keys'] = tuple(k for k in keys if k not in dropped)
    return kept


# --------------------------------------------------------------------------
# Class names
# --------------------------------------------------------------------------
def _read_names(path: str) -> List[str]:
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def class_names(args, dataset: dict, num_classes: int, warn) -> List[str]:
    """``--class-names``, else the annotation meta's ``class_names``, else
    the raw root's ``synthetic_classes.txt``, else ``class_<i>``."""
    if args.class_names:
        if not osp.isfile(args.class_names):
            raise InferenceError(f'--class-names {args.class_names}: no '
                                 'such file')
        names = _read_names(args.class_names)
        if len(names) != num_classes:
            raise InferenceError(
                f'--class-names {args.class_names} lists {len(names)} '
                f'names; the model has {num_classes} classes')
        return names
    candidates = []
    ann_file = dataset.get('ann_file')
    data_root = dataset.get('data_root')
    meta = {}
    if ann_file and not osp.isfile(ann_file) and data_root:
        ann_file = osp.join(data_root, ann_file)
    if ann_file and osp.isfile(ann_file):
        import mmengine
        try:
            data = mmengine.load(ann_file)
            meta = (data.get('meta') or {}) if isinstance(data, dict) else {}
        except Exception as error:  # an unreadable pkl: names only
            warn(f'cannot read class names from {ann_file}: {error}')
        if meta.get('class_names'):
            candidates.append((f'{ann_file} meta', list(meta['class_names'])))
    for root in (data_root, meta.get('raw_root')):
        path = osp.join(root, 'synthetic_classes.txt') if root else None
        if path and osp.isfile(path):
            candidates.append((path, _read_names(path)))
    for source, names in candidates:
        if len(names) == num_classes:
            return [str(n) for n in names]
        warn(f'{source} lists {len(names)} class names; the model has '
             f'{num_classes} classes: not used')
    return [f'class_{i}' for i in range(num_classes)]


# --------------------------------------------------------------------------
# The output video
# --------------------------------------------------------------------------
VIDEO_CODECS = {'.mp4': 'mp4v', '.avi': 'MJPG'}


def draw_frame(frame: np.ndarray, keypoint: Optional[np.ndarray],
               score: Optional[np.ndarray], label: str, limbs) -> None:
    """Draws the persons' COCO-17 skeletons (``[M, 17, 2]``) and the label
    on a BGR frame, in place."""
    import cv2
    h, w = frame.shape[:2]
    thickness = max(1, round(min(h, w) / 240))
    colors = ((0, 255, 0), (255, 128, 0), (0, 200, 255), (255, 0, 255))
    if keypoint is not None:
        for m, (kp, sc) in enumerate(zip(keypoint, score)):
            color = colors[m % len(colors)]
            ok = sc > DRAW_SCORE_THR
            pts = np.round(kp).astype(int)
            for a, b in limbs:
                if ok[a] and ok[b]:
                    cv2.line(frame, tuple(pts[a]), tuple(pts[b]), color,
                             thickness, cv2.LINE_AA)
            for j in np.flatnonzero(ok):
                cv2.circle(frame, tuple(pts[j]), thickness + 1, (0, 0, 255),
                           -1, cv2.LINE_AA)
    scale = max(0.35, min(h, w) / 500)
    (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale,
                                     thickness)
    cv2.rectangle(frame, (0, 0), (min(w, tw + 8), th + base + 8), (0, 0, 0),
                  -1)
    cv2.putText(frame, label, (4, th + 4), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), thickness, cv2.LINE_AA)


def write_video(path: str, video: str, label: str,
                keypoint: Optional[np.ndarray],
                score: Optional[np.ndarray]) -> int:
    """Writes ``video`` with the skeletons and ``label`` to ``path``
    (temporary file, then rename); returns the number of frames."""
    import cv2

    from data_prep.common import probe_video_fps
    from mmar_ext.datasets.skeleton_layouts import get_layout
    limbs = get_layout('coco17').limbs
    ext = osp.splitext(path)[1].lower()
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.tmp{ext}')
    capture = cv2.VideoCapture(video)
    writer = None
    frames = 0
    try:
        if not capture.isOpened():
            raise InferenceError(f'cannot open {video} to draw on it')
        fps = probe_video_fps(video) or 30.0
        while True:
            ok, frame = capture.read()
            if not ok or frame is None:
                break
            if writer is None:
                writer = cv2.VideoWriter(
                    tmp, cv2.VideoWriter_fourcc(*VIDEO_CODECS[ext]), fps,
                    (frame.shape[1], frame.shape[0]))
                if not writer.isOpened():
                    raise InferenceError(f'OpenCV cannot write {tmp} '
                                         f'({VIDEO_CODECS[ext]})')
            t = min(frames, keypoint.shape[1] - 1) \
                if keypoint is not None and keypoint.shape[1] else None
            draw_frame(frame, None if t is None else keypoint[:, t],
                       None if t is None else score[:, t], label, limbs)
            writer.write(frame)
            frames += 1
        if writer is None:
            raise InferenceError(f'{video}: no frame to draw on')
        writer.release()
        writer = None
        os.replace(tmp, path)
    finally:
        capture.release()
        if writer is not None:
            writer.release()
        if osp.exists(tmp):
            os.remove(tmp)
    return frames


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
def run_inference(args, quiet: bool = False) -> Dict:
    """Everything but the printing. Returns a dict: ``scores`` (``[K]``
    numpy), ``top`` (``[(label, name, score)]``, best first),
    ``modalities`` (the data modalities decoded), ``missing`` (those the
    model ran without), ``warnings``, ``keypoint`` (``[M, T, 17, 2]`` on
    the video's frames, or None) and ``out_video``."""
    import torch
    from mmengine.config import Config
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import init_default_scope

    import mmar_ext  # noqa: F401
    from data_prep.pose.models import resolve_device

    warn = _Warnings(quiet)
    if not osp.isfile(args.video):
        raise InferenceError(f'VIDEO {args.video}: no such file')
    if not osp.isfile(args.config):
        raise InferenceError(f'config not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    args.device = resolve_device(args.device)
    dataset = test_dataset_cfg(cfg)
    pipeline_cfg = dataset.get('pipeline')
    if not pipeline_cfg:
        raise InferenceError('the config\'s test dataset has no pipeline')
    required = tuple(dataset.get('modalities') or ('rgb', 'depth'))
    pose_needed = needs_keypoints(required, pipeline_cfg)
    if 'pose' in required and args.pose_source == 'none':
        raise InferenceError(
            'the model takes the pose modality (2D keypoints): use '
            '--pose-source hrnet, or skeleton with --skeleton FILE')
    if args.pose_source == 'skeleton' and not args.skeleton:
        raise InferenceError('--pose-source skeleton needs --skeleton FILE')

    model = build_model(cfg, args.checkpoint, args.config, args.device)
    given = given_modalities(args, pose_needed)
    # before any decoding or pose extraction: fail early
    present = choose_test_modalities(model, required, given, warn)
    missing = [m for m in required if m not in present]
    for m, option in (('depth', '--depth'), ('ir', '--ir'),
                      ('skeleton', '--skeleton')):
        if m in given and m not in required and not (
                m == 'skeleton' and args.pose_source == 'skeleton'
                and pose_needed):
            warn(f'{option} given, but the model does not take {m}: '
                 + ('only its frame count is used (the clock of the other '
                    'modalities, as in the NTU annotations)'
                    if m == 'skeleton' else 'not used'))
    info = make_data_info(args, pose_needed, warn)
    info['modalities'] = list(present)
    video_kp = info.pop('video_keypoint', None)
    video_score = info.pop('video_keypoint_score', None)

    pipeline = Compose(adapt_pipeline(pipeline_cfg, info))
    try:
        data = pipeline(dict(info))
    except (OSError, KeyError, ValueError, IndexError) as error:
        raise InferenceError(f'the test pipeline failed on the inputs: '
                             f'{type(error).__name__}: {error}') from error
    with torch.no_grad():
        sample = model.test_step(pseudo_collate([data]))[0]
    scores = sample.pred_score.detach().float().cpu().numpy().reshape(-1)
    names = class_names(args, dataset, len(scores), warn)
    order = np.argsort(-scores, kind='stable')[:args.top_k]
    top = [(int(i), names[i], float(scores[i])) for i in order]
    out = None
    if args.out_video:
        label = f'{top[0][1]} ({top[0][2]:.2f})'
        write_video(args.out_video, args.video, label, video_kp,
                    video_score)
        out = args.out_video
    return dict(scores=scores, top=top, modalities=list(present),
                missing=missing, warnings=warn.messages, keypoint=video_kp,
                class_names=names, out_video=out)


def format_result(args, result: Dict) -> str:
    used = ', '.join(result['modalities'])
    if result['missing']:
        used += f' (without {", ".join(result["missing"])})'
    lines = [f'{args.video}: top-{len(result["top"])} of '
             f'{len(result["scores"])} classes ({osp.basename(args.config)};'
             f' modalities: {used})']
    width = max(len(name) for _, name, _ in result['top'])
    for rank, (label, name, score) in enumerate(result['top'], 1):
        lines.append(f'{rank:2d}. {name:<{width}}  {score:.4f}  '
                     f'(label {label})')
    if result['out_video']:
        lines.append(f'wrote {result["out_video"]}')
    return '\n'.join(lines)


def main(argv=None) -> int:
    import contextlib
    args = parse_args(argv)
    try:
        # the libraries' log lines (checkpoint loading, ...) go to stderr:
        # stdout holds the result alone
        with contextlib.redirect_stdout(sys.stderr):
            result = run_inference(args)
    except InferenceError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(format_result(args, result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
