"""Depth / infrared frames to 3-channel jet images.

ActionMAE (seed 001, §4.1): "the 1-channel depth frames are converted into
3-channels based on a JET color map with 256 scales", so that ImageNet
initialised space encoders can take them like RGB frames.
"""
from typing import Dict, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS

_JET_LUT: Optional[np.ndarray] = None


def jet_lut(levels: int = 256) -> np.ndarray:
    """The ``levels x 3`` uint8 RGB table of matplotlib's 'jet' colormap.

    Built once (for 256 levels) from ``matplotlib.colormaps['jet']`` with
    matplotlib's own float->byte conversion.
    """
    global _JET_LUT
    if levels == 256 and _JET_LUT is not None:
        return _JET_LUT
    import matplotlib
    cmap = matplotlib.colormaps['jet'].resampled(levels)
    lut = np.ascontiguousarray(cmap(np.arange(levels), bytes=True)[:, :3])
    if levels == 256:
        _JET_LUT = lut
    return lut


def frames_to_jet(frames, levels: int = 256) -> np.ndarray:
    """Per-frame min-max normalise ``[T, H, W]`` frames and apply jet.

    ``v = (x - min) / (max - min)`` over each frame, then the colour index is
    ``min(int(v * levels), levels - 1)``, exactly what a matplotlib colormap
    with ``levels`` entries does with a float in [0, 1]. A constant frame
    maps to the first colour. Returns uint8 ``[T, H, W, 3]``.
    """
    x = np.asarray(frames)
    if x.ndim == 4 and x.shape[-1] in (1, 3):  # e.g. IR decoded as 3 equal
        x = x[..., 0]
    if x.ndim != 3:
        raise ValueError(f'expected [T, H, W] frames, got shape {x.shape}')
    x = x.astype(np.float64)
    lo = x.min(axis=(1, 2), keepdims=True)
    rng = x.max(axis=(1, 2), keepdims=True) - lo
    v = (x - lo) / np.where(rng > 0, rng, 1.0)
    idx = (v * levels)
    np.clip(idx, 0, levels - 1, out=idx)
    return jet_lut(levels)[idx.astype(np.intp)]


@TRANSFORMS.register_module()
class DepthToJet(BaseTransform):
    """Convert single-channel modality frames to jet-coloured RGB frames.

    For each listed modality present in ``results`` (``<m>_imgs``), the clip's
    frames are min-max normalised frame by frame and mapped through the
    256-level jet table in one vectorised look-up; ``<m>_imgs`` becomes a
    list of ``HxWx3`` uint8 RGB frames. Place it after ``MultiModalDecode``
    and before the spatial transforms (or anywhere before ``FormatShape``).

    Args:
        modalities (Sequence[str]): Modalities to convert.
            Defaults to ``('depth', 'ir')``.
        levels (int): Colormap levels. Defaults to 256 (the paper).
    """

    def __init__(self,
                 modalities: Sequence[str] = ('depth', 'ir'),
                 levels: int = 256) -> None:
        self.modalities = tuple(modalities)
        self.levels = levels

    def transform(self, results: Dict) -> Dict:
        for m in self.modalities:
            key = f'{m}_imgs'
            if key not in results:
                continue
            jet = frames_to_jet(results[key], self.levels)
            results[key] = list(jet)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(modalities={self.modalities}, '
                f'levels={self.levels})')
