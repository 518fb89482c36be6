"""Packing of multi-modal clips."""
from typing import Dict

from mmaction.datasets.transforms import PackActionInputs
from mmaction.registry import TRANSFORMS


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
        keys = tuple(self.input_key.format(m) for m in results['modalities']
                     if m != 'pose' or self.input_key.format(m) in results)
        keys += self.extra_keys
        missing = [k for k in keys if k not in results]
        if missing:
            raise KeyError(f"Sample {results.get('frame_dir')}: cannot pack "
                           f'{missing}; the pipeline produced none for them')
        self.collect_keys = keys
        return super().transform(results)
