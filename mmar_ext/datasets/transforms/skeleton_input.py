"""The skeleton input of a GCN next to other modalities (TSMF's teacher).

MMAction2's skeleton transforms (``PreNormalize3D``, ``GenSkeFeat``,
``UniformSampleFrames``, ``PoseDecode``, ``FormatGCNInput``) work on
``results['keypoint']`` and write shared keys (``frame_inds``,
``clip_len``, ...). In a multi-modal sample ``keypoint`` holds the 2D
joints in the RGB frames and the frame indices belong to the video
decoders, so :class:`GCNSkeletonInput` runs those transforms on a private
copy holding only the 3D joints and stores the GCN input under its own
key; nothing else of the sample changes.
"""
from typing import Dict, List

import numpy as np
from mmcv.transforms import BaseTransform, Compose

from mmaction.registry import TRANSFORMS
from .heatmap import sample_name


@TRANSFORMS.register_module()
class GCNSkeletonInput(BaseTransform):
    """Run MMAction2's GCN skeleton transforms on ``in_key`` alone.

    Required keys: ``in_key`` (``[M, T, V, C]`` joints; T = the sample's
    skeleton frames). Added key: ``out_key`` (what the transforms leave in
    ``keypoint``, e.g. ``[num_clips, M, T', V, C]`` after
    ``FormatGCNInput``).

    Args:
        transforms (list[dict]): The skeleton transforms, e.g. those of
            MMAction2's ST-GCN NTU configs.
        in_key (str): Defaults to ``'keypoint_3d'``.
        out_key (str): Defaults to ``'skeleton'``.
        score_key (str, optional): Joint scores passed along as
            ``keypoint_score`` (2D skeletons). Defaults to None.

    A sample without ``in_key`` or with non-finite joints raises an error
    naming it (the dataset's ``missing_modality=dict(skeleton='skip')``
    drops samples without 3D joints beforehand).
    """

    def __init__(self,
                 transforms: List[dict],
                 in_key: str = 'keypoint_3d',
                 out_key: str = 'skeleton',
                 score_key: str = None) -> None:
        self.transforms = Compose(transforms)
        self.in_key = in_key
        self.out_key = out_key
        self.score_key = score_key

    def transform(self, results: Dict) -> Dict:
        name = sample_name(results)
        if results.get(self.in_key) is None:
            raise KeyError(
                f'Sample {name}: no {self.in_key} for the skeleton input '
                "(the dataset's missing_modality=dict(skeleton='skip') "
                'leaves such samples out)')
        joints = np.asarray(results[self.in_key], np.float32)
        if joints.ndim != 4 or not joints.shape[1]:
            raise ValueError(f'Sample {name}: {self.in_key} must be [M, T, '
                             f'V, C] with T > 0, got {joints.shape}')
        bad = int((~np.isfinite(joints)).any(-1).sum())
        if bad:
            raise ValueError(f'Sample {name}: {bad} joints of {self.in_key} '
                             'are NaN or infinite')
        inner = dict(keypoint=joints.copy(), total_frames=joints.shape[1],
                     start_index=0, frame_dir=results.get('frame_dir'))
        if self.score_key is not None and self.score_key in results:
            inner['keypoint_score'] = np.asarray(results[self.score_key],
                                                 np.float32).copy()
        inner = self.transforms(inner)
        results[self.out_key] = inner['keypoint']
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(in_key={self.in_key!r}, '
                f'out_key={self.out_key!r}, transforms={self.transforms})')


@TRANSFORMS.register_module()
class FixedLengthSkeleton(BaseTransform):
    """Every clip exactly ``length`` frames, as TSMF's authors feed their
    ST-GCN (paper 003, ``paper_input``): longer clips keep ``length`` evenly
    spaced frames (frame ``floor(i T / length)``; PKU-MMD has clips over 300
    frames), shorter ones are zero-padded at the end -- MMAction2's
    ``PadTo(length, mode='zero')``, which refuses clips longer than
    ``length``. Runs on the decoded ``keypoint`` ``[M, T, V, C]`` (and
    ``keypoint_score`` ``[M, T, V]`` when present) in place of
    ``UniformSampleFrames`` + ``PoseDecode``; sets ``total_frames`` to
    ``length``.

    Args:
        length (int): Frames per clip. Defaults to 300 (the authors').
    """

    def __init__(self, length: int = 300) -> None:
        if length < 1:
            raise ValueError(f'length must be positive, got {length}')
        self.length = length

    def transform(self, results: Dict) -> Dict:
        frames = results['keypoint'].shape[1]
        if frames > self.length:
            inds = np.arange(self.length) * frames // self.length
        for key in ('keypoint', 'keypoint_score'):
            if key not in results:
                continue
            value = results[key]
            if frames > self.length:
                value = value[:, inds]
            elif frames < self.length:
                pad = [(0, 0)] * value.ndim
                pad[1] = (0, self.length - frames)
                value = np.pad(value, pad)
            results[key] = value
        results['total_frames'] = self.length
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(length={self.length})'
