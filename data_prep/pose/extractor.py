"""Batched top-down 2D pose extraction of one video.

:class:`PoseExtractor` runs, for one video:

1. **detection**: frames go through the MMDetection model ``batch_size`` at a
   time (the detector's own test pipeline per frame, then one
   ``model.test_step`` on the collated batch); boxes of class
   ``det_cat_id`` scoring above ``det_score_thr`` are kept;
2. **tracking**: :func:`tracking.track_persons` links them into at most
   ``max_persons`` identities;
3. **pose**: every kept person box of ``batch_size`` frames is cropped by
   the pose model's test pipeline (``TopdownAffine``) and all crops go
   through one ``model.test_step`` (``pose_batch_size`` crops at most).

This is what ``mmdet.apis.inference_detector`` and
``mmpose.apis.inference_topdown`` do for one frame, done for many frames at
once; :mod:`reference` runs those two functions frame by frame and gives the
same keypoints up to float rounding (``tests/test_pose_extraction.py``
checks it). By default the models are also prepared for inference
(:func:`models.optimize_for_inference`: BatchNorms folded into the
convolutions; on the CPU NHWC convolutions and a multi-threaded RoIAlign).

Videos are decoded twice (once per pass, ``batch_size`` frames at a time)
instead of being held in memory: a 1080p NTU clip of 300 frames would take
1.8 GB.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np

from .tracking import PersonTracks, track_persons
from .video import open_frames

NUM_KEYPOINTS = 17


@dataclass
class PoseResult:
    """Poses of one clip.

    Attributes:
        keypoint: float32 ``[M, T, 17, 2]``, pixel coordinates of the frames
            (zeros where person ``m`` was not detected in frame ``t``).
        keypoint_score: float32 ``[M, T, 17]`` (0 where not detected).
        bbox: float32 ``[M, T, 5]`` ``x1, y1, x2, y2, score`` of the person
            boxes (zeros where not detected).
        img_shape: ``(H, W)`` of the frames.
    """
    keypoint: np.ndarray
    keypoint_score: np.ndarray
    bbox: np.ndarray
    img_shape: Tuple[int, int]

    @property
    def num_frames(self) -> int:
        return self.keypoint.shape[1]

    def to_dict(self) -> dict:
        return dict(keypoint=self.keypoint,
                    keypoint_score=self.keypoint_score, bbox=self.bbox,
                    img_shape=tuple(self.img_shape),
                    num_frames=self.num_frames)


def person_boxes(pred_instances, det_score_thr: float,
                 det_cat_id: int = 0) -> np.ndarray:
    """``[K, 5]`` float32 ``x1, y1, x2, y2, score`` of the detections of
    class ``det_cat_id`` scoring above ``det_score_thr`` (MMAction2's
    ``detection_inference`` rule)."""
    instances = pred_instances.cpu().numpy()
    keep = np.logical_and(instances.labels == det_cat_id,
                          instances.scores > det_score_thr)
    return np.concatenate(
        [instances.bboxes[keep], instances.scores[keep, None]],
        axis=1).astype(np.float32).reshape(-1, 5)


def as_boxes(boxes) -> np.ndarray:
    """``[n, 4]`` float32 ``x1, y1, x2, y2`` of ``[n, >=4]`` boxes (or [])."""
    boxes = np.asarray(boxes, np.float32)
    if boxes.size == 0:
        return np.zeros((0, 4), np.float32)
    return boxes.reshape(-1, boxes.shape[-1])[:, :4]


def empty_result(tracks: PersonTracks, img_shape) -> PoseResult:
    """A :class:`PoseResult` of zeros for ``tracks``; at least one person
    (a clip without any detection has one person of score 0)."""
    num_persons = max(1, tracks.num_persons)
    num_frames = tracks.num_frames
    bbox = np.zeros((num_persons, num_frames, 5), np.float32)
    bbox[:tracks.num_persons, :, :4] = tracks.boxes
    bbox[:tracks.num_persons, :, 4] = tracks.scores
    return PoseResult(
        keypoint=np.zeros((num_persons, num_frames, NUM_KEYPOINTS, 2),
                          np.float32),
        keypoint_score=np.zeros((num_persons, num_frames, NUM_KEYPOINTS),
                                np.float32),
        bbox=bbox, img_shape=tuple(int(s) for s in img_shape))


class PoseExtractor:
    """Batched detection + tracking + top-down pose of whole clips.

    Args:
        det_model: an MMDetection model (``mmdet.apis.init_detector`` /
            :func:`models.build_detector`), in eval mode.
        pose_model: an MMPose top-down model (``mmpose.apis.init_model`` /
            :func:`models.build_pose_model`), in eval mode.
        det_score_thr: person boxes must score above this.
        det_cat_id: the person class of the detector (0 for COCO and for
            the one-class person detector).
        max_persons: persons kept per clip (2 for NTU RGB+D).
        batch_size: frames decoded at once, and per detector forward (on
            CUDA) and per pose batch.
        det_batch_size: frames per detector forward. Default: 1 on the
            CPU, ``batch_size`` on CUDA. On the CPU, Faster R-CNN at
            1333x750 is memory-bound: its activations (about 0.4 GB per
            frame) leave the caches, and a forward of 4 frames takes 1.5x
            longer per frame than 4 forwards of one (measured on 2 cores,
            ``tools/analysis/benchmark_pose_extraction.py --det-batch-size``).
            The person crops of the pose model are small and go in batches
            on either device.
        pose_batch_size: person crops per pose forward (default
            ``batch_size * max_persons``).
        iou_thr, max_gap, contain_thr: see :func:`tracking.track_persons`.
        optimize: prepare the models with
            :func:`models.optimize_for_inference`; False runs them as they
            are.
        precision: ``'fp32'`` (default), or ``'bf16'`` / ``'fp16'`` for the
            models' convolutional trunks (:func:`models.set_trunk_precision`;
            faster, results differ slightly).
        copy_models: apply ``optimize`` / ``precision`` to copies, leaving
            the given models untouched (default); False changes them in
            place (no second copy in memory).
    """

    def __init__(self, det_model, pose_model, det_score_thr: float = 0.5,
                 det_cat_id: int = 0, max_persons: int = 2,
                 batch_size: int = 16, det_batch_size: Optional[int] = None,
                 pose_batch_size: Optional[int] = None,
                 iou_thr: float = 0.3, max_gap: int = 10,
                 contain_thr: float = 0.8, optimize: bool = True,
                 precision: str = 'fp32', copy_models: bool = True):
        from mmcv.transforms import Compose
        from mmdet.utils import get_test_pipeline_cfg
        from mmengine.registry import DefaultScope

        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if max_persons < 1:
            raise ValueError(f'max_persons must be >= 1, got {max_persons}')
        from .models import optimize_for_inference, set_trunk_precision
        if copy_models and (optimize or precision != 'fp32'):
            det_model = copy.deepcopy(det_model)
            pose_model = copy.deepcopy(pose_model)
        if optimize:
            optimize_for_inference(det_model)
            optimize_for_inference(pose_model)
        set_trunk_precision(det_model, precision)
        set_trunk_precision(pose_model, precision)
        self.precision = precision
        self.det_model = det_model
        self.pose_model = pose_model
        self.det_score_thr = float(det_score_thr)
        self.det_cat_id = int(det_cat_id)
        self.max_persons = int(max_persons)
        self.batch_size = int(batch_size)
        if det_batch_size is None:
            det_batch_size = batch_size if self.device_type == 'cuda' else 1
        self.det_batch_size = int(det_batch_size)
        if self.det_batch_size < 1:
            raise ValueError(
                f'det_batch_size must be >= 1, got {det_batch_size}')
        self.pose_batch_size = int(pose_batch_size or
                                   batch_size * max_persons)
        self.iou_thr = float(iou_thr)
        self.max_gap = int(max_gap)
        self.contain_thr = float(contain_thr)

        # The test pipelines, as inference_detector / inference_topdown
        # build them, but once.
        det_pipeline = copy.deepcopy(get_test_pipeline_cfg(det_model.cfg))
        det_pipeline[0].type = 'mmdet.LoadImageFromNDArray'
        with DefaultScope.overwrite_default_scope(
                det_model.cfg.get('default_scope', 'mmdet')):
            self.det_pipeline = Compose(det_pipeline)
        with DefaultScope.overwrite_default_scope(
                pose_model.cfg.get('default_scope', 'mmpose')):
            self.pose_pipeline = Compose(
                copy.deepcopy(pose_model.cfg.test_dataloader.dataset.pipeline))

    # ----------------------------------------------------------- building
    @classmethod
    def from_configs(cls, det_config=None, det_checkpoint=None,
                     pose_config=None, pose_checkpoint=None,
                     device: str = 'auto',
                     det_cfg_options: Optional[dict] = None,
                     pose_cfg_options: Optional[dict] = None, **kwargs):
        """Builds both models (defaults: :mod:`models`) and the extractor,
        which prepares them in place; ``kwargs`` go to
        :class:`PoseExtractor`."""
        from . import models
        det = models.build_detector(
            det_config or models.DEFAULT_DET_CONFIG,
            models.DEFAULT_DET_CHECKPOINT if det_checkpoint is None
            else det_checkpoint, device, det_cfg_options)
        pose = models.build_pose_model(
            pose_config or models.DEFAULT_POSE_CONFIG,
            models.DEFAULT_POSE_CHECKPOINT if pose_checkpoint is None
            else pose_checkpoint, device, pose_cfg_options)
        return cls(det, pose, copy_models=False, **kwargs)

    @property
    def device_type(self) -> str:
        """``'cpu'`` or ``'cuda'``: where the models run."""
        return next(self.det_model.parameters()).device.type

    # ----------------------------------------------------------- stages
    def detect(self, frames: Sequence[np.ndarray]) -> List[np.ndarray]:
        """Person boxes ``[K_t, 5]`` of each BGR frame; one detector
        forward per ``det_batch_size`` frames."""
        import torch
        boxes = []
        for start in range(0, len(frames), self.det_batch_size):
            data = [self.det_pipeline(dict(img=frame, img_id=0))
                    for frame in frames[start:start + self.det_batch_size]]
            batch = dict(inputs=[d['inputs'] for d in data],
                         data_samples=[d['data_samples'] for d in data])
            with torch.no_grad():
                samples = self.det_model.test_step(batch)
            boxes += [person_boxes(s.pred_instances, self.det_score_thr,
                                   self.det_cat_id) for s in samples]
        return boxes

    def estimate(self, frames: Sequence[np.ndarray],
                 boxes: Sequence[np.ndarray]):
        """Keypoints of boxes: ``boxes[i]`` (``[n_i, >=4]``) are persons in
        ``frames[i]``. Returns one ``(keypoints [n_i, 17, 2], scores
        [n_i, 17])`` pair per frame; all crops of all frames go through the
        model ``pose_batch_size`` at a time."""
        import torch
        from mmengine.dataset import pseudo_collate
        meta = self.pose_model.dataset_meta
        items = []  # (frame index, data)
        for i, (frame, frame_boxes) in enumerate(zip(frames, boxes)):
            for box in as_boxes(frame_boxes):
                info = dict(img=frame, bbox=box[None],
                            bbox_score=np.ones(1, np.float32))
                info.update(meta)
                items.append((i, self.pose_pipeline(info)))
        keypoints = [[] for _ in frames]
        scores = [[] for _ in frames]
        for start in range(0, len(items), self.pose_batch_size):
            chunk = items[start:start + self.pose_batch_size]
            batch = pseudo_collate([data for _, data in chunk])
            with torch.no_grad():
                samples = self.pose_model.test_step(batch)
            for (i, _), sample in zip(chunk, samples):
                keypoints[i].append(sample.pred_instances.keypoints[0])
                scores[i].append(sample.pred_instances.keypoint_scores[0])
        return [(np.asarray(k, np.float32).reshape(-1, NUM_KEYPOINTS, 2),
                 np.asarray(s, np.float32).reshape(-1, NUM_KEYPOINTS))
                for k, s in zip(keypoints, scores)]

    def track(self, detections: Sequence[np.ndarray],
              max_persons: Optional[int] = None) -> PersonTracks:
        """Tracks of at most ``max_persons`` (default ``self.max_persons``)
        persons."""
        return track_persons(detections, max_persons or self.max_persons,
                             self.iou_thr, self.max_gap, self.contain_thr)

    def _pose_into(self, result: PoseResult, tracks: PersonTracks,
                   start: int, frames: Sequence[np.ndarray]) -> None:
        """Fills ``result`` for frames ``start ..`` from the tracks."""
        valid = tracks.valid[:, start:start + len(frames)]
        boxes = [tracks.boxes[valid[:, j], start + j]
                 for j in range(len(frames))]
        for j, (kpt, score) in enumerate(self.estimate(frames, boxes)):
            persons = np.flatnonzero(valid[:, j])
            result.keypoint[persons, start + j] = kpt
            result.keypoint_score[persons, start + j] = score

    # ----------------------------------------------------------- clips
    def extract_frames(self, frames: Sequence[np.ndarray]) -> PoseResult:
        """Poses of a clip given as a list of BGR frames (all of a size)."""
        if len(frames) == 0:
            raise ValueError('extract_frames needs at least one frame')
        return self.estimate_tracks(frames, self.track(self.detect(frames)))

    def estimate_tracks(self, frames: Sequence[np.ndarray],
                        tracks: PersonTracks) -> PoseResult:
        """Poses of the tracked persons of a clip (list of BGR frames)."""
        result = empty_result(tracks, frames[0].shape[:2])
        for start in range(0, len(frames), self.batch_size):
            self._pose_into(result, tracks, start,
                            frames[start:start + self.batch_size])
        return result

    def extract_video(self, path, progress: Optional[Callable[[int],
                                                              None]] = None,
                      decode_threads: int = 1,
                      max_persons: Optional[int] = None,
                      frame_offset: int = 0,
                      num_frames: Optional[int] = None,
                      frame_files: Optional[Sequence[str]] = None
                      ) -> PoseResult:
        """Poses of a video file, of a range of it, or of a frame folder.

        Args:
            path: the video (or, with ``frame_files``, the frame folder).
            progress: called with a number of *frame steps* after each batch;
                every frame makes two (detection, then pose).
            decode_threads: decord threads.
            max_persons: persons kept in this clip (default
                ``self.max_persons``).
            frame_offset: the clip's first frame in the video (or in
                ``frame_files``): a clip stored as a range of a longer
                recording.
            num_frames: the clip's length (None: to the end).
            frame_files: the frame file names of a folder, in frame order.

        Returns:
            :class:`PoseResult` of the clip's frames only (frame ``t`` is
            frame ``frame_offset + t`` of the video).

        Raises:
            video.BadVideoError: unreadable video or frame, no frame, or a
                clip past the end (the message names the file).
        """
        video = open_frames(path, decode_threads, frame_files, frame_offset,
                            num_frames)
        detections = []
        for _, frames in video.batches(self.batch_size):
            detections += self.detect(frames)
            if progress is not None:
                progress(len(frames))
        tracks = self.track(detections, max_persons)
        result = empty_result(tracks, video.shape)
        for start, frames in video.batches(self.batch_size):
            self._pose_into(result, tracks, start, frames)
            if progress is not None:
                progress(len(frames))
        return result
