"""Frame-by-frame pose extraction, the way MMAction2 does it.

MMAction2's ``tools/data/skeleton/ntu_pose_extraction.py`` detects persons
with ``mmdet.apis.inference_detector`` one frame at a time
(``mmaction.apis.detection_inference``), post-processes the boxes into
person tracks, then estimates poses with ``mmpose.apis.inference_topdown``
one frame at a time (``mmaction.apis.pose_inference``).
:func:`extract_frame_by_frame` does the same with the person tracking of
:mod:`tracking` (so that its result can be compared with
:class:`extractor.PoseExtractor`'s), and skips ``inference_topdown`` on
frames without a person instead of letting it pose a whole-image box.

It is the reference of the equality test and of the speed benchmark
(``tools/analysis/benchmark_pose_extraction.py``); use
:class:`extractor.PoseExtractor` for real work.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .extractor import PoseResult, empty_result, person_boxes
from .tracking import PersonTracks, track_persons


def detect_frame_by_frame(det_model, frames: Sequence[np.ndarray],
                          det_score_thr: float = 0.5,
                          det_cat_id: int = 0) -> list:
    """``inference_detector`` on each frame; person boxes ``[K_t, 5]``."""
    from mmdet.apis import inference_detector
    from mmengine.registry import DefaultScope
    boxes = []
    with DefaultScope.overwrite_default_scope(
            det_model.cfg.get('default_scope', 'mmdet')):
        for frame in frames:
            sample = inference_detector(det_model, frame)
            boxes.append(person_boxes(sample.pred_instances, det_score_thr,
                                      det_cat_id))
    return boxes


def pose_frame_by_frame(pose_model, frames: Sequence[np.ndarray],
                        tracks: PersonTracks) -> PoseResult:
    """``inference_topdown`` on each frame with its tracked person boxes."""
    from mmengine.registry import DefaultScope
    from mmpose.apis import inference_topdown
    result = empty_result(tracks, frames[0].shape[:2])
    with DefaultScope.overwrite_default_scope(
            pose_model.cfg.get('default_scope', 'mmpose')):
        for t, frame in enumerate(frames):
            persons = np.flatnonzero(tracks.valid[:, t])
            if len(persons) == 0:
                continue  # no person: a missing pose, no whole-image box
            samples = inference_topdown(pose_model, frame,
                                        tracks.boxes[persons, t],
                                        bbox_format='xyxy')
            for m, sample in zip(persons, samples):
                result.keypoint[m, t] = sample.pred_instances.keypoints[0]
                result.keypoint_score[m, t] = \
                    sample.pred_instances.keypoint_scores[0]
    return result


def extract_frame_by_frame(det_model, pose_model,
                           frames: Sequence[np.ndarray],
                           det_score_thr: float = 0.5, det_cat_id: int = 0,
                           max_persons: int = 2, iou_thr: float = 0.3,
                           max_gap: int = 10,
                           contain_thr: float = 0.8) -> PoseResult:
    """Poses of a clip (list of BGR frames), one frame per model call."""
    detections = detect_frame_by_frame(det_model, frames, det_score_thr,
                                       det_cat_id)
    tracks = track_persons(detections, max_persons, iou_thr, max_gap,
                           contain_thr)
    return pose_frame_by_frame(pose_model, frames, tracks)
