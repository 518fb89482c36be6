"""TSMF: teacher-student multimodal fusion (paper 003, Fig. 2, eq. 1-11).

* **Teacher** ``G_T`` (eq. 2-3, 8): a complete MMAction2 ``RecognizerGCN``
  (stock ``STGCN`` + ``GCNHead``) on the 3D joints, trained first (stage 1,
  its own config) and loaded from ``teacher_checkpoint`` in stage 2. Eq. 3
  normalises the adjacency as ``Lambda^-1/2 A Lambda^-1/2`` with
  ``alpha = 0.001``; the authors' code -- like MMAction2's ``Graph`` --
  uses ``normalize_digraph``: we keep MMAction2's graph.
* **Spatial weights** ``p_j`` (eq. 4): :class:`JointSpatialWeights` on the
  teacher's last ST-GCN map, one per mosaic row (body part), no gradient.
* **Student** ``G_S`` (eq. 5-6, 9): a 2D CNN (ResNet18) + head on the ROI
  mosaic of ``SkeletonROIMosaic``, whose rows are multiplied by the part
  weights: ``X'_j = p_j X^_j`` (eq. 6). ``weight_space='normalized'`` (the
  authors' code) scales the mean/std-normalised mosaic;
  ``'raw'`` scales the pixels before the normalisation (eq. 6 on the image:
  ``(p X - mean) / std``). Eq. 9's ``+ X'`` is ResNet's residual notation.
* **Ensemble** (eq. 1): ``y = s_T + lambda s_S`` on logits
  (``fuse='logit'``; ``'prob'`` adds softmax probabilities), ``lambda =
  ensemble_weight`` (1, the authors' code; the paper gives no value).
  ``test_cfg=dict(score='ensemble' | 'teacher' | 'student')`` says which
  score becomes ``pred_score``; every data sample also carries
  ``teacher_score``, ``student_score`` and ``ensemble_score``
  (probabilities), so one ``--dump`` holds all three.
* **Training** (eq. 7, 10-11), cross-entropy only:
  ``teacher_mode='eval'`` (Table 2 row 4, "○", the default): the teacher is
  fixed -- ``requires_grad=False`` and eval mode whatever ``train()`` is
  called with (BatchNorm statistics and dropout frozen) -- and the loss is
  ``L_X``; ``'train'`` (row 3, "✓"): the teacher trains too, the loss is
  ``L_P + lambda L_X`` and ``p`` is detached (two independent objectives);
  ``use_weights=False`` (row 2): the student sees the plain mosaic.

Missing modalities at test time (``test_cfg=dict(modalities=...)`` or
:meth:`TSMFRecognizer.set_test_modalities`, as the robustness report
drives it; :attr:`TSMFRecognizer.missing_modality_policy`): with the
skeleton alone the score is the teacher's, with RGB alone the student's on
the unweighted mosaic (joint weights 1, the teacher cannot run).

Inputs (``MultiModalDataPreprocessor`` keys): ``teacher_key`` (default
``'skeleton'``, where :class:`GCNSkeletonInput` stores MMAction2's GCN
input) ``[B, num_clips, M, T, V, C]``, and ``student_key`` (default
``'roi_imgs'``) ``[B, n, 3, H, W]``;
each data sample's metainfo ``roi_cells`` (from ``SkeletonROIMosaic``)
places the part rows.
"""
import warnings
from typing import Dict, Optional, Tuple

import torch
from mmengine.runner import CheckpointLoader

from mmaction.models.recognizers.base import BaseRecognizer
from mmaction.registry import MODELS
from mmaction.utils import OptSampleList, SampleList
from ...datasets.transforms.roi_mosaic import band_cells, roi_weight_map

SCORES = ('ensemble', 'teacher', 'student')
#: the recognizer's modalities: the teacher's and the student's
MODALITIES = ('skeleton', 'rgb')


def _pick(value, modality: str, default: int) -> int:
    """``value`` (an int) or ``value[modality]`` (a dict), else default."""
    if isinstance(value, dict):
        value = value.get(modality)
    return int(value or default)


def gcn_input_shape(recognizer, clip_len=None) -> Tuple[int, ...]:
    """``(num_clips=1, M, T, V, C)`` of one test sample of a
    ``RecognizerGCN`` with an ``STGCN`` backbone: ``M`` its persons, ``V``
    its graph's joints, ``C`` its input channels, ``T`` = ``clip_len`` (an
    int or ``{'skeleton': T}``; default 100)."""
    gcn = recognizer.backbone
    return (1, int(getattr(gcn, 'num_person', 2)),
            _pick(clip_len, 'skeleton', 100), int(gcn.graph.A.shape[-1]),
            int(gcn.in_channels))


@MODELS.register_module()
class TSMFRecognizer(BaseRecognizer):
    """Teacher (ST-GCN on skeletons) + student (CNN on weighted ROI mosaics).

    Args:
        teacher (dict): The stage-1 skeleton model, a ``RecognizerGCN``
            config (its ``data_preprocessor`` is not used).
        backbone (dict): Student backbone (2D), e.g. MMAction2's
            ``ResNet(depth=18)``.
        cls_head (dict): Student head, e.g. ``TSNHead`` without dropout.
        joint_weights (dict, optional): :class:`JointSpatialWeights` config.
        teacher_checkpoint (str, optional): Stage-1 checkpoint (path or
            URL): its ``backbone.*`` / ``cls_head.*`` tensors (or
            ``teacher.*`` of a TSMF checkpoint) fill the teacher in
            :meth:`init_weights`; every teacher tensor must be there.
            Training needs it (:meth:`init_weights` raises without).
        teacher_mode (str): ``'eval'`` (fixed teacher) or ``'train'``.
        use_weights (bool): Weight the mosaic rows by ``p``. Defaults to
            True.
        weight_space (str): ``'normalized'`` or ``'raw'``.
        ensemble_weight (float): ``lambda`` of eq. 1 (and 7). Defaults to 1.
        fuse (str): ``'logit'`` or ``'prob'``.
        teacher_key, student_key (str): Input keys.
        train_cfg (dict, optional): Unused.
        test_cfg (dict, optional): ``score``: which score is ``pred_score``;
            ``modalities``: the modalities used at test time (default both).
        data_preprocessor (dict, optional): ``MultiModalDataPreprocessor``.
    """

    #: What a missing modality means (the robustness report names it).
    missing_modality_policy = (
        'skeleton alone: the teacher; RGB alone: the student on the '
        'unweighted mosaic (joint weights 1)')

    def __init__(self,
                 teacher: dict,
                 backbone: dict,
                 cls_head: dict,
                 joint_weights: Optional[dict] = None,
                 teacher_checkpoint: Optional[str] = None,
                 teacher_mode: str = 'eval',
                 use_weights: bool = True,
                 weight_space: str = 'normalized',
                 ensemble_weight: float = 1.,
                 fuse: str = 'logit',
                 teacher_key: str = 'skeleton',
                 student_key: str = 'roi_imgs',
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None) -> None:
        for name, value, choices in (
                ('teacher_mode', teacher_mode, ('eval', 'train')),
                ('weight_space', weight_space, ('normalized', 'raw')),
                ('fuse', fuse, ('logit', 'prob')),
                ('test_cfg.score', (test_cfg or {}).get('score', 'ensemble'),
                 SCORES)):
            if value not in choices:
                raise ValueError(f'{name} must be one of {choices}, got '
                                 f'{value!r}')
        if not ensemble_weight >= 0:
            raise ValueError(f'ensemble_weight (lambda of eq. 1) must be >= '
                             f'0, got {ensemble_weight}')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            backbone=backbone,
            cls_head=cls_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor)
        self.teacher = MODELS.build(teacher)
        t_classes = getattr(self.teacher.cls_head, 'num_classes', None)
        if t_classes != self.cls_head.num_classes:
            raise ValueError(
                f'the teacher has {t_classes} classes and the student '
                f'{self.cls_head.num_classes}: they must classify the same '
                'actions (eq. 1 adds their scores)')
        self.joint_weights = MODELS.build(
            joint_weights or dict(type='JointSpatialWeights'))
        self.teacher_checkpoint = teacher_checkpoint
        self.teacher_mode = teacher_mode
        self.use_weights = use_weights
        self.weight_space = weight_space
        self.ensemble_weight = float(ensemble_weight)
        self.fuse = fuse
        self.teacher_key = teacher_key
        self.student_key = student_key
        self.score = (test_cfg or {}).get('score', 'ensemble')
        self.modalities = MODALITIES
        self.set_test_modalities((test_cfg or {}).get('modalities'))
        if teacher_mode == 'eval':
            for p in self.teacher.parameters():
                p.requires_grad_(False)
            self.teacher.eval()

    # ------------------------------------------------------------------
    @property
    def test_modalities(self) -> Tuple[str, ...]:
        return self._test_modalities

    def set_test_modalities(self, modalities=None) -> None:
        """Use only ``modalities`` (``'skeleton'``, ``'rgb'``) at test time;
        None = both."""
        if modalities is None:
            self._test_modalities = self.modalities
            return
        modalities = (modalities, ) if isinstance(modalities, str) else \
            tuple(modalities)
        unknown = set(modalities) - set(self.modalities)
        if unknown or not modalities:
            raise ValueError(f'TSMF test modalities are a non-empty subset '
                             f'of {self.modalities}, got {modalities}')
        if self.score != 'ensemble' and {'teacher': 'skeleton', 'student':
                                         'rgb'}[self.score] not in modalities:
            raise ValueError(f"test_cfg.score='{self.score}' needs the "
                             f'modality that {modalities} leaves out')
        self._test_modalities = tuple(m for m in self.modalities
                                      if m in modalities)

    def train(self, mode: bool = True):
        """``nn.Module.train``; a fixed teacher stays in eval mode."""
        super().train(mode)
        if getattr(self, 'teacher_mode', 'eval') == 'eval':
            self.teacher.eval()
        return self

    def init_weights(self) -> None:
        """The student's own initialisation, then the stage-1 teacher."""
        super().init_weights()
        if not self.teacher_checkpoint:
            raise ValueError(
                'TSMF stage 2 starts from the stage-1 teacher: set '
                'model.teacher_checkpoint to the checkpoint of its '
                'skeleton config (configs/tsmf_*_teacher.py)')
        self.load_teacher(self.teacher_checkpoint)

    def load_teacher(self, checkpoint: str) -> None:
        """Copy the teacher's tensors from a stage-1 (``RecognizerGCN``) or
        TSMF checkpoint; a missing tensor or a shape mismatch raises."""
        ckpt = CheckpointLoader.load_checkpoint(checkpoint,
                                                map_location='cpu')
        state = ckpt.get('state_dict', ckpt)
        if any(k.startswith('teacher.') for k in state):
            state = {k[len('teacher.'):]: v for k, v in state.items()
                     if k.startswith('teacher.')}
        own = self.teacher.state_dict()
        missing = [k for k in own if k not in state]
        wrong = [k for k in own if k in state
                 and tuple(state[k].shape) != tuple(own[k].shape)]
        if missing or wrong:
            raise ValueError(
                f'teacher checkpoint {checkpoint} does not fit the teacher: '
                f'missing {missing[:5]}{" ..." if len(missing) > 5 else ""}'
                f', shape mismatch {wrong[:5]} (is it the stage-1 '
                'skeleton model of the same dataset?)')
        self.teacher.load_state_dict({k: state[k] for k in own})

    def example_input_shapes(self, clip_len=None, size=None
                             ) -> Dict[str, Tuple[int, ...]]:
        """Input shapes of one test sample without the batch dimension,
        for ``tools/analysis/complexity.py``: ``{teacher_key: (1, M, T, V,
        C), student_key: (1, 3, S, S)}`` (one clip, one mosaic). ``T``:
        ``clip_len`` (an int or ``{'skeleton': T}``), else 100 (the NTU
        configs' teacher input); ``S``: ``size`` (``{'rgb': S}``), else 225
        (the paper's mosaic); ``M``, ``V``, ``C`` from the teacher's
        ``STGCN``."""
        side = _pick(size, 'rgb', 225)
        return {self.teacher_key: gcn_input_shape(self.teacher, clip_len),
                self.student_key: (1, 3, side, side)}

    # ------------------------------------------------------------------
    def _input(self, inputs: Dict[str, torch.Tensor],
               key: str) -> torch.Tensor:
        if not isinstance(inputs, dict) or key not in inputs:
            got = list(inputs) if isinstance(inputs, dict) else \
                type(inputs).__name__
            raise KeyError(f'TSMF takes {{{self.teacher_key!r}: skeletons, '
                           f'{self.student_key!r}: ROI mosaics}}, got {got}')
        return inputs[key]

    def teacher_features(self, skeleton: torch.Tensor) -> torch.Tensor:
        """``[B, nc, M, T, V, C]`` -> ST-GCN map ``[B * nc, M, C', T', V]``."""
        if skeleton.dim() != 6:
            raise ValueError(f'TSMF skeletons must be [B, num_clips, M, T, '
                             f'V, C], got {tuple(skeleton.shape)}')
        x = skeleton.flatten(0, 1)
        if self.teacher_mode == 'eval':
            with torch.no_grad():
                return self.teacher.backbone(x)
        return self.teacher.backbone(x)

    def part_weights(self, feat: torch.Tensor, batch: int,
                     data_samples: OptSampleList = None) -> torch.Tensor:
        """``p`` [B, P]: eq. 4 per clip, averaged over a sample's clips."""
        p = self.joint_weights(feat.detach())
        constant = self.joint_weights.constant
        if bool(constant.any()):
            clips = feat.shape[0] // batch
            rows = sorted({int(i) // clips for i in constant.nonzero()})
            names = [self._name(data_samples, r) for r in rows]
            warnings.warn(f'TSMF: the teacher map of {names} is constant '
                          '(no skeleton signal?); their ROI weights are 1')
        return p.view(batch, -1, p.shape[-1]).mean(1)

    @staticmethod
    def _name(data_samples: OptSampleList, index: int) -> str:
        if data_samples and index < len(data_samples):
            meta = data_samples[index].metainfo
            for key in ('frame_dir', 'filename'):
                if key in meta:
                    return str(meta[key])
        return f'#{index}'

    def weighted_mosaic(self, mosaic: torch.Tensor, p: torch.Tensor,
                        data_samples: OptSampleList) -> torch.Tensor:
        """``X'`` (eq. 6): each row (part) of the ``[B, n, 3, H, W]``
        mosaics times its weight. The rows are those of each sample's
        ``roi_cells``; without data samples (tensor mode: FLOP counting,
        export) ``P`` equal horizontal bands (:func:`band_cells`)."""
        if not self.use_weights:
            return mosaic
        if data_samples is None:
            # tensor mode without samples (FLOP counting, export): the
            # layout SkeletonROIMosaic makes, equal part rows
            data_samples = [None] * mosaic.shape[0]
            bands = band_cells(p.shape[1], mosaic.shape[-2:])
        elif len(data_samples) != mosaic.shape[0]:
            raise ValueError('TSMF needs one data sample per mosaic, with '
                             'the roi_cells of SkeletonROIMosaic')
        maps = []
        for i, sample in enumerate(data_samples):
            cells = bands if sample is None else \
                sample.metainfo.get('roi_cells')
            if cells is None:
                raise KeyError(
                    f'sample {self._name(data_samples, i)}: no roi_cells '
                    'in its metainfo (pack them with PackActionInputs('
                    "meta_keys=(..., 'roi_cells'))")
            if len(cells['joints']) != p.shape[1]:
                raise ValueError(
                    f'sample {self._name(data_samples, i)}: the mosaic has '
                    f'{len(cells["joints"])} part rows, the teacher weights '
                    f'{p.shape[1]} joints {self.joint_weights.joints}')
            if tuple(cells['mosaic_shape']) != tuple(mosaic.shape[-2:]):
                raise ValueError(
                    f'sample {self._name(data_samples, i)}: roi_cells '
                    f'describe a {tuple(cells["mosaic_shape"])} mosaic, the '
                    f'input is {tuple(mosaic.shape[-2:])} (no resize or crop '
                    'may follow SkeletonROIMosaic)')
            maps.append(torch.from_numpy(
                roi_weight_map(cells, p[i].cpu().numpy())))
        weight = torch.stack(maps).to(mosaic)[:, None, None]  # [B,1,1,H,W]
        if self.weight_space == 'normalized':
            return mosaic * weight
        pre = self.data_preprocessor.preprocessors[self.student_key]
        offset = (pre.mean / pre.std).to(mosaic).view(3, 1, 1)
        return mosaic * weight + (weight - 1) * offset

    def student_scores(self, mosaic: torch.Tensor) -> torch.Tensor:
        """``[B, n, 3, H, W]`` -> logits ``[B, K]`` (averaged over n)."""
        n = mosaic.shape[1]
        return self.cls_head(self.backbone(mosaic.flatten(0, 1)), num_segs=n)

    def extract_feat(self, inputs: Dict[str, torch.Tensor],
                     stage: str = 'head',
                     data_samples: OptSampleList = None,
                     test_mode: bool = False):
        """Logits ``({'teacher': [B, K], 'student': [B, K]}, {})`` -- in
        training the teacher's only with ``teacher_mode='train'``, at test
        time those of the :attr:`test_modalities`."""
        mods = self.test_modalities if test_mode else self.modalities
        scores = dict()
        p = None
        # training without weights and a fixed teacher needs no teacher
        need_teacher = test_mode or self.use_weights or \
            self.teacher_mode == 'train'
        if 'skeleton' in mods and need_teacher:
            skeleton = self._input(inputs, self.teacher_key)
            feat = self.teacher_features(skeleton)
            batch = skeleton.shape[0]
            if test_mode or self.teacher_mode == 'train':
                with torch.set_grad_enabled(self.teacher_mode == 'train'
                                            and not test_mode):
                    logits = self.teacher.cls_head(feat)
                scores['teacher'] = logits.view(batch, -1,
                                                logits.shape[-1]).mean(1)
            if self.use_weights:
                p = self.part_weights(feat, batch, data_samples)
        if 'rgb' in mods:
            mosaic = self._input(inputs, self.student_key)
            if p is not None:
                mosaic = self.weighted_mosaic(mosaic, p, data_samples)
            scores['student'] = self.student_scores(mosaic)
        return scores, dict()

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: SampleList, **kwargs) -> Dict:
        """``L_X`` (fixed teacher) or ``L_P + lambda L_X`` (eq. 7)."""
        scores, _ = self.extract_feat(inputs, data_samples=data_samples)
        losses = self.cls_head.loss_by_feat(scores['student'], data_samples)
        if self.teacher_mode == 'train':
            losses = {k: v * self.ensemble_weight if k == 'loss_cls' else v
                      for k, v in losses.items()}
            teacher = self.teacher.cls_head.loss_by_feat(
                scores['teacher'], data_samples)
            losses.update({f'teacher_{k}': v for k, v in teacher.items()})
        return losses

    def fused_scores(self, scores: Dict[str, torch.Tensor]
                     ) -> Dict[str, torch.Tensor]:
        """Probabilities of the available streams and of their ensemble
        (eq. 1; a single stream is its own ensemble)."""
        probs = {k: v.softmax(-1) for k, v in scores.items()}
        if len(scores) == 1:
            probs['ensemble'] = next(iter(probs.values()))
        elif self.fuse == 'logit':
            probs['ensemble'] = (scores['teacher'] + self.ensemble_weight *
                                 scores['student']).softmax(-1)
        else:
            prob = probs['teacher'] + self.ensemble_weight * probs['student']
            probs['ensemble'] = prob / prob.sum(-1, keepdim=True)
        return probs

    def predict(self, inputs: Dict[str, torch.Tensor],
                data_samples: SampleList, **kwargs) -> SampleList:
        """Teacher, student and ensemble probabilities on every sample;
        ``pred_score`` = the ``test_cfg.score`` one."""
        scores, _ = self.extract_feat(inputs, data_samples=data_samples,
                                      test_mode=True)
        probs = self.fused_scores(scores)
        for i, sample in enumerate(data_samples):
            for name, prob in probs.items():
                sample.set_field(prob[i], f'{name}_score')
            sample.set_pred_score(probs[self.score][i])
            sample.set_pred_label(probs[self.score][i].argmax(-1, True))
        return data_samples

    def _forward(self, inputs: Dict[str, torch.Tensor],
                 stage: str = 'head', data_samples: OptSampleList = None,
                 **kwargs):
        """Tensor mode: the ``test_cfg.score`` logits (ensemble: the fused
        logits of eq. 1)."""
        scores, _ = self.extract_feat(inputs, data_samples=data_samples,
                                      test_mode=True)
        if self.score != 'ensemble':
            return scores[self.score]
        if len(scores) == 1:
            return next(iter(scores.values()))
        return scores['teacher'] + self.ensemble_weight * scores['student']

    def forward(self, inputs, data_samples: OptSampleList = None,
                mode: str = 'tensor', **kwargs):
        if mode == 'tensor':
            return self._forward(inputs, data_samples=data_samples, **kwargs)
        return super().forward(inputs, data_samples, mode=mode, **kwargs)

