"""Person tracks from per-frame person boxes.

A top-down pose estimator needs one box per person and frame, and a skeleton
action recogniser needs each person to keep the same index ``m`` of
``keypoint[m, t]`` over the whole clip. :func:`track_persons` links the boxes
of consecutive frames by IoU (Hungarian matching, a track may skip up to
``max_gap`` frames), then keeps the ``max_persons`` tracks with the highest
total detection score. Slots are ordered by that total score, so person 0 is
the most confidently (and usually longest) detected one.

Boxes lying mostly inside a higher-scoring box of the same frame (a part of
a person) are dropped first. A frame in which a kept person has no box stays
empty (``valid`` False): its pose is written as zeros with score 0, never
guessed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Sequence

import numpy as np

try:  # scipy comes with mmpose; fall back to greedy matching without it
    from scipy.optimize import linear_sum_assignment
except ImportError:  # pragma: no cover
    linear_sum_assignment = None


def _intersections(boxes_a: np.ndarray, boxes_b: np.ndarray):
    """``(inter [len(a), len(b)], area_a [len(a)], area_b [len(b)])`` of
    ``x1, y1, x2, y2`` boxes, in float64."""
    a = np.asarray(boxes_a, np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=-1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=-1)
    return inter, area_a, area_b


def box_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """IoU matrix ``[len(a), len(b)]`` of ``x1, y1, x2, y2`` boxes."""
    inter, area_a, area_b = _intersections(boxes_a, boxes_b)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def box_containment(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """``[len(a), len(b)]``: fraction of each box of ``a`` inside each of
    ``b``."""
    inter, area_a, _ = _intersections(boxes_a, boxes_b)
    return np.where(area_a[:, None] > 0,
                    inter / np.maximum(area_a[:, None], 1e-12), 1.0)


def suppress_contained(dets: np.ndarray, contain_thr: float) -> np.ndarray:
    """Drops boxes lying mostly (``> contain_thr`` of their area) inside a
    higher-scoring kept box: a detector's box of part of a person, which
    NMS keeps when its IoU with the whole person is low (MMAction2's
    ``ntu_pose_extraction.py`` removes them too, at 0.8). Rows of the
    result are sorted by decreasing score."""
    dets = np.asarray(dets, np.float32).reshape(-1, 5)
    dets = dets[np.argsort(-dets[:, 4], kind='stable')]
    if len(dets) < 2 or contain_thr >= 1:
        return dets
    inside = box_containment(dets[:, :4], dets[:, :4])
    keep = []
    for i in range(len(dets)):
        if not keep or inside[i, keep].max() <= contain_thr:
            keep.append(i)
    return dets[keep]


def _match(iou: np.ndarray, iou_thr: float) -> List[tuple]:
    """(row, col) pairs maximising total IoU, each pair with IoU >= thr."""
    if iou.size == 0:
        return []
    if linear_sum_assignment is not None:
        rows, cols = linear_sum_assignment(-iou)
        pairs = zip(rows.tolist(), cols.tolist())
    else:  # greedy: best remaining pair first
        order = np.dstack(np.unravel_index(np.argsort(-iou, axis=None),
                                           iou.shape))[0]
        used_r, used_c, pairs = set(), set(), []
        for r, c in order.tolist():
            if r not in used_r and c not in used_c:
                used_r.add(r)
                used_c.add(c)
                pairs.append((r, c))
    return [(r, c) for r, c in pairs if iou[r, c] >= iou_thr]


@dataclass
class _Track:
    frames: List[int] = field(default_factory=list)
    boxes: List[np.ndarray] = field(default_factory=list)
    scores: List[float] = field(default_factory=list)

    def add(self, t: int, det: np.ndarray) -> None:
        self.frames.append(t)
        self.boxes.append(det[:4])
        self.scores.append(float(det[4]))

    @property
    def total_score(self) -> float:
        return float(sum(self.scores))


@dataclass
class PersonTracks:
    """The kept persons of a clip.

    Attributes:
        boxes: float32 ``[M, T, 4]`` ``x1, y1, x2, y2`` (zeros where absent).
        scores: float32 ``[M, T]`` detection score (0 where absent).
        valid: bool ``[M, T]``, True where the person has a box.
    """
    boxes: np.ndarray
    scores: np.ndarray
    valid: np.ndarray

    @property
    def num_persons(self) -> int:
        return self.boxes.shape[0]

    @property
    def num_frames(self) -> int:
        return self.boxes.shape[1]


def track_persons(detections: Sequence[np.ndarray], max_persons: int = 2,
                  iou_thr: float = 0.3, max_gap: int = 10,
                  contain_thr: float = 0.8) -> PersonTracks:
    """Links per-frame person boxes into at most ``max_persons`` tracks.

    Args:
        detections: one array per frame, ``[K_t, 5]`` rows
            ``x1, y1, x2, y2, score`` (already thresholded; may be empty).
        max_persons: tracks kept (``M`` of the result is at most this).
        iou_thr: minimum IoU between a box and the last box of a track for
            the box to continue that track.
        max_gap: a track not seen for more than this many frames cannot be
            continued (a box overlapping it starts a new track).
        contain_thr: a box lying by more than this fraction inside a
            higher-scoring box of its frame is dropped first
            (:func:`suppress_contained`; 1 keeps every box).

    Returns:
        :class:`PersonTracks` with ``M = min(max_persons, number of tracks)``
        persons over ``T = len(detections)`` frames, ordered by decreasing
        total score (ties: the earlier track first).
    """
    if max_persons < 1:
        raise ValueError(f'max_persons must be >= 1, got {max_persons}')
    tracks: List[_Track] = []
    for t, dets in enumerate(detections):
        dets = suppress_contained(dets, contain_thr)
        if len(dets) == 0:
            continue
        alive = [i for i, trk in enumerate(tracks)
                 if t - trk.frames[-1] <= max_gap + 1]
        matched = set()
        if alive:
            last = np.stack([tracks[i].boxes[-1] for i in alive])
            for row, col in _match(box_iou(dets[:, :4], last), iou_thr):
                tracks[alive[col]].add(t, dets[row])
                matched.add(row)
        for row in range(len(dets)):
            if row not in matched:
                track = _Track()
                track.add(t, dets[row])
                tracks.append(track)

    order = sorted(range(len(tracks)),
                   key=lambda i: (-tracks[i].total_score, i))[:max_persons]
    num_frames = len(detections)
    boxes = np.zeros((len(order), num_frames, 4), np.float32)
    valid = np.zeros((len(order), num_frames), bool)
    scores = np.zeros((len(order), num_frames), np.float32)
    for m, i in enumerate(order):
        track = tracks[i]
        boxes[m, track.frames] = track.boxes
        scores[m, track.frames] = track.scores
        valid[m, track.frames] = True
    return PersonTracks(boxes=boxes, scores=scores, valid=valid)
