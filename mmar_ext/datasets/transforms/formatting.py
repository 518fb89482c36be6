"""Packing of multi-modal clips."""
from typing import Dict

import torch

from mmaction.datasets.transforms import PackActionInputs
from mmaction.registry import TRANSFORMS


def placeholder_like(ref: torch.Tensor) -> torch.Tensor:
    """The input of a modality a sample lacks: ``[ref.shape[0], 1, 0, ...]``
    zeros with ``ref``'s number of dimensions and dtype.

    It holds no value at all. ``stack_batch`` (MMAction2's
    ``ActionDataPreprocessor``) zero-pads it to the batch's shape; the
    first dimension (clips) is never padded, so it is the other
    modalities' one. The channel dimension is 1 so that padding never
    widens the real clips of a modality with fewer channels, and a batch in
    which no sample has the modality still broadcasts against a
    per-channel normalisation.
    """
    shape = (ref.shape[0], ) + (1, ) * min(ref.dim() - 1, 1) + \
        (0, ) * max(ref.dim() - 2, 0)
    return ref.new_zeros(shape)


@TRANSFORMS.register_module()
class PackMultiModalInputs(PackActionInputs):
    """:class:`PackActionInputs` collecting ``<m>_imgs`` of every modality in
    ``results['modalities']``.

    The packed ``inputs`` is ``{f'{m}_imgs': tensor [num_clips, C, T, H, W]}``
    -- what ``MultiModalDataPreprocessor`` and ``MultiModalRecognizer``
    expect. Unlike a fixed ``collect_keys``, one pipeline then serves every
    modality subset, so a config selects modalities in a single place (the
    dataset's ``modalities``). The ``pose`` modality is packed when the
    pipeline rendered it into ``pose_imgs`` (e.g. ``PoseHeatmapVolume(
    out_key='pose_imgs')``); models that read raw keypoints need no tensor.

    Per-sample missing modalities (the dataset's
    ``missing_modality='allow'``): ``results['modality_mask']``
    (``{m: bool}``, True = available) goes to the data sample's metainfo
    as ``modality_mask`` (with ``frame_dir``), and each absent modality
    ``m`` gets the key ``<m>_imgs`` holding :func:`placeholder_like` a
    present modality's tensor -- zero elements, ``[num_clips, 1, 0, 0, 0]``
    for ``NCTHW`` clips -- so that MMEngine's ``pseudo_collate`` finds the
    same keys in every sample and ``ActionDataPreprocessor`` zero-pads it
    to the batch's shape. ``MultiModalRecognizer`` reads the mask and never
    encodes a placeholder. Samples without a mask are packed as before.

    Args:
        input_key (str): Format of a modality's frame key. Defaults to
            ``'{}_imgs'``.
        extra_keys (Sequence[str]): Further keys to pack, e.g. ``roi_imgs``
            of ``SkeletonROIMosaic``. Defaults to ().
        **kwargs: Passed to :class:`PackActionInputs` (``meta_keys``, ...).
    """

    def __init__(self, input_key: str = '{}_imgs', extra_keys=(),
                 **kwargs) -> None:
        if 'collect_keys' in kwargs:
            raise TypeError('PackMultiModalInputs derives collect_keys from '
                            "results['modalities']; use PackActionInputs "
                            'for a fixed key list')
        super().__init__(**kwargs)
        self.input_key = input_key
        self.extra_keys = tuple(extra_keys)

    def transform(self, results: Dict) -> Dict:
        mask = results.get('modality_mask')
        absent = [m for m, ok in (mask or {}).items() if not ok]
        keys = tuple(self.input_key.format(m) for m in results['modalities']
                     if m not in absent and (
                         m != 'pose' or self.input_key.format(m) in results))
        keys += self.extra_keys
        missing = [k for k in keys if k not in results]
        if missing:
            raise KeyError(f"Sample {results.get('frame_dir')}: cannot pack "
                           f'{missing}; the pipeline produced none for them')
        self.collect_keys = keys
        packed = super().transform(results)
        if mask is None:
            return packed
        packed['data_samples'].set_metainfo(
            dict(modality_mask=dict(mask),
                 frame_dir=results.get('frame_dir')))
        if absent:
            inputs = packed['inputs']
            ref = next((v for v in inputs.values()
                        if isinstance(v, torch.Tensor)), None)
            if ref is None:
                raise KeyError(
                    f"Sample {results.get('frame_dir')}: lacks "
                    f'{", ".join(absent)} and has no other modality tensor '
                    'to shape a placeholder after')
            order = [self.input_key.format(m) for m in mask]
            order += [k for k in inputs if k not in order]
            placeholders = {self.input_key.format(m): placeholder_like(ref)
                            for m in absent}
            packed['inputs'] = {
                k: inputs[k] if k in inputs else placeholders[k]
                for k in order if k in inputs or k in placeholders
            }
        return packed
