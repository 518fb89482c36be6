"""One temporal sampling for all modalities of a clip.

RGB, depth, infrared and skeleton streams of NTU RGB+D are recorded
together, so a clip is one set of frame indices on the shared clock
(``total_frames``, the skeleton frame count); decoders map it onto each
modality's own frame count.

* ActionMAE (seed 001, §2.2 "Temporal random sampling" and §4.1): "we
  randomly sampled 16 frames from the raw video, and arrange them in
  temporal order"; at test time "each clip consists of 16 frames that are
  uniformly sampled".
* EPAM-Net (seed 002, §3 / Fig. 2): the pose stream takes N=48 uniformly
  sampled frames and the RGB stream "M frames selected from these N frames
  by picking one frame out of every N/M frames" -> ``modality_clip_len``.
"""
from typing import Dict, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class MultiModalSampleFrames(BaseTransform):
    """Sample one set of frame indices shared by every modality of a clip.

    Training (``test_mode=False``):

    * ``train_sampling='random'`` (ActionMAE §4.1, the default): draw
      ``clip_len`` distinct frames at random and sort them. A video shorter
      than ``clip_len`` keeps every frame once and fills the rest with
      random repeats (the only case with replacement).
    * ``train_sampling='segment'`` (TSN-style): split the video into
      ``clip_len`` equal segments and take one random frame in each.

    Testing: ``clip_len`` evenly spaced frames (one per equal segment, at a
    fixed offset inside the segment); the ``num_clips`` clips use offsets
    spread evenly over the segment (clip ``k`` at ``(k + 0.5) / num_clips``),
    so multi-clip testing covers the video without randomness.

    Per-modality clip lengths (EPAM-Net): with
    ``modality_clip_len=dict(pose=48, rgb=16)`` the clip is sampled with the
    longest length (48) and ``results['pose_inds']`` / ``results['rgb_inds']``
    hold, per clip, every ``k``-th of those indices (``k = 48 // 16 = 3``,
    starting at ``stride_start``); ``results['<m>_clip_len']`` holds each
    length. Modalities without an entry use ``frame_inds``.

    Required keys: ``total_frames``.
    Added keys: ``frame_inds`` (int64 ``[num_clips * clip_len]``),
    ``clip_len``, ``num_clips``, ``frame_interval`` (None) and, with
    ``modality_clip_len``, ``<m>_inds`` and ``<m>_clip_len``.

    Args:
        clip_len (int): Frames per clip. Ignored (replaced by the longest
            entry) when ``modality_clip_len`` is given. Defaults to 16.
        num_clips (int): Clips per video. Defaults to 1.
        test_mode (bool): Uniform deterministic sampling. Defaults to False.
        train_sampling (str): ``'random'`` or ``'segment'``.
            Defaults to ``'random'``.
        modality_clip_len (dict, optional): ``{modality: clip_len}``; every
            length must divide the longest one. Defaults to None.
        stride_start (int): Offset of the first kept index inside each
            stride for the shorter modalities (0 = first of every ``k``).
            Defaults to 0.
    """

    def __init__(self,
                 clip_len: int = 16,
                 num_clips: int = 1,
                 test_mode: bool = False,
                 train_sampling: str = 'random',
                 modality_clip_len: Optional[Dict[str, int]] = None,
                 stride_start: int = 0) -> None:
        if train_sampling not in ('random', 'segment'):
            raise ValueError("train_sampling must be 'random' or 'segment', "
                             f'got {train_sampling!r}')
        if num_clips < 1:
            raise ValueError(f'num_clips must be >= 1, got {num_clips}')
        self.modality_clip_len = dict(modality_clip_len or {})
        if self.modality_clip_len:
            clip_len = max(self.modality_clip_len.values())
            for m, length in self.modality_clip_len.items():
                if length < 1 or clip_len % length:
                    raise ValueError(
                        f'modality_clip_len[{m!r}]={length} must divide the '
                        f'longest clip length {clip_len}')
                stride = clip_len // length
                if stride > 1 and stride_start >= stride:
                    raise ValueError(
                        f'stride_start={stride_start} must be smaller than '
                        f'the stride {stride} of {m!r}')
        if clip_len < 1:
            raise ValueError(f'clip_len must be >= 1, got {clip_len}')
        self.clip_len = clip_len
        self.num_clips = num_clips
        self.test_mode = test_mode
        self.train_sampling = train_sampling
        self.stride_start = stride_start

    def _random_clip(self, total: int) -> np.ndarray:
        n = self.clip_len
        if total >= n:
            inds = np.random.choice(total, n, replace=False)
        else:
            extra = np.random.randint(0, total, size=n - total)
            inds = np.concatenate([np.arange(total), extra])
        return np.sort(inds)

    def _segment_clip(self, total: int) -> np.ndarray:
        n = self.clip_len
        u = np.random.rand(n)
        return np.floor((np.arange(n) + u) * total / n).astype(np.int64)

    def _test_clip(self, total: int, k: int) -> np.ndarray:
        n = self.clip_len
        offset = (k + 0.5) / self.num_clips
        return np.floor((np.arange(n) + offset) * total / n).astype(np.int64)

    def transform(self, results: Dict) -> Dict:
        total = int(results['total_frames'])
        if total < 1:
            raise ValueError(
                f"Sample {results.get('frame_dir')}: total_frames={total}; "
                'cannot sample a clip from an empty video')
        clips = []
        for k in range(self.num_clips):
            if self.test_mode:
                inds = self._test_clip(total, k)
            elif self.train_sampling == 'random':
                inds = self._random_clip(total)
            else:
                inds = self._segment_clip(total)
            clips.append(np.clip(inds, 0, total - 1).astype(np.int64))
        frame_inds = np.stack(clips)  # [num_clips, clip_len]
        for m, length in self.modality_clip_len.items():
            stride = self.clip_len // length
            start = self.stride_start if stride > 1 else 0
            results[f'{m}_inds'] = np.ascontiguousarray(
                frame_inds[:, start::stride]).reshape(-1)
            results[f'{m}_clip_len'] = length
        results['frame_inds'] = frame_inds.reshape(-1)
        results['clip_len'] = self.clip_len
        results['num_clips'] = self.num_clips
        results['frame_interval'] = None
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'num_clips={self.num_clips}, test_mode={self.test_mode}, '
                f'train_sampling={self.train_sampling!r}, '
                f'modality_clip_len={self.modality_clip_len}, '
                f'stride_start={self.stride_start})')
