"""Accuracy under missing modalities (paper 001, Tables 1, 4, 5).

A model trained with modalities ``M`` is tested with every non-empty subset
``S`` of ``M``; ``Δ = Acc_full - Acc_S`` and the mean discrepancy
``mean Δ`` over the proper subsets are the paper's robustness figures
(Table 4: "Δ is defined as accuracy discrepancy between full modality and
missing modality cases"). The test loop, dataloader and metrics are the
runner's own; between passes the model's test modalities change
(:meth:`MultiModalRecognizer.set_test_modalities`), so absent modalities'
encoders are not run, and the test dataloader is rebuilt with the dataset's
``modalities`` set to the subset, so their files are not decoded either.

Sign: the rows' ``delta`` and :func:`mean_delta` are the discrepancy
``full - subset`` (fractions, positive when accuracy drops); the report
(:mod:`.robustness_report`) prints ``subset - full`` in percentage points,
negative when accuracy drops, as the paper's tables do.
:func:`missing_modality_policy` names what "missing" means for a model.
"""
import copy
import itertools
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.model import is_model_wrapper


class ModalitySubsetNotApplicable(ValueError):
    """A model cannot classify with this modality subset (not a failure of
    the subset's data): the sweep lists the subset as not applicable."""


def _dataset_cfg(dataloader_cfg):
    """The dataset config of a dataloader config (None when not a dict)."""
    dataset = dataloader_cfg.get('dataset') \
        if isinstance(dataloader_cfg, dict) else None
    return dataset if isinstance(dataset, dict) else None


def _use_test_data_of(runner, subset: Optional[Sequence[str]]) -> bool:
    """Makes the runner's next ``test()`` build its dataloader with the
    dataset's ``modalities`` set to ``subset`` (None: the config's own).

    Uses the runner's test loop and dataloader *configs* (MMEngine builds
    the loop from them on ``test()`` when ``_test_loop`` is a dict).
    Returns False, changing nothing, when the test dataset has no
    ``modalities`` setting (the full data is then decoded every pass).
    """
    cfg = getattr(runner, 'cfg', None)
    dataloader = copy.deepcopy(cfg.get('test_dataloader')) if cfg else None
    dataset = _dataset_cfg(dataloader)
    if dataset is None or 'modalities' not in dataset or \
            cfg.get('test_cfg') is None:
        return False
    if subset is not None:
        dataset['modalities'] = tuple(subset)
    runner._test_dataloader = dataloader
    runner._test_loop = copy.deepcopy(cfg.test_cfg)
    return True


def modality_subsets(modalities: Sequence[str]) -> List[Tuple[str, ...]]:
    """Non-empty subsets, largest first, in the paper's order within a size
    (e.g. R+D+I, R+D, R+I, D+I, R, D, I)."""
    return [combo for k in range(len(modalities), 0, -1)
            for combo in itertools.combinations(modalities, k)]


def evaluate_missing_modalities(
        runner, subsets: Optional[Sequence[Sequence[str]]] = None,
        metric: str = 'acc/top1', decode_subset: bool = True) -> List[Dict]:
    """Run ``runner.test()`` once per modality subset.

    Args:
        runner: an MMEngine runner whose model is a ``MultiModalRecognizer``
            with its weights loaded (``load_from``).
        subsets: modality subsets to test; default: all non-empty subsets.
        metric: the metric key that ``delta`` is computed on.
        decode_subset: restrict the test dataset to each subset's modalities
            (their files alone are read); False keeps the configured
            dataloader, every modality decoded in every pass and the
            missing ones dropped at the model -- for pipelines whose streams
            share data (EPAM-Net: the RGB crop is placed by the keypoints).

    Returns:
        list[dict]: per subset ``modalities``, the test metrics, and
        ``delta`` (full-modality minus this subset's ``metric``); a subset
        the model refuses (:class:`ModalitySubsetNotApplicable` from
        ``set_test_modalities``) has ``not_applicable`` (the reason) and no
        metrics.
    """
    model = runner.model.module if is_model_wrapper(runner.model) \
        else runner.model
    if not hasattr(model, 'set_test_modalities'):
        raise TypeError(f'{type(model).__name__} cannot drop modalities at '
                        'test time (no set_test_modalities)')
    subsets = [tuple(s) for s in subsets] if subsets is not None \
        else modality_subsets(model.modalities)
    rows = []
    try:
        for subset in subsets:
            try:
                model.set_test_modalities(subset)
            except ModalitySubsetNotApplicable as e:
                rows.append(dict(modalities=subset, not_applicable=str(e)))
                continue
            if decode_subset:
                _use_test_data_of(runner, subset)
            rows.append(dict(modalities=subset, **runner.test()))
    finally:
        model.set_test_modalities(None)
        if decode_subset:
            _use_test_data_of(runner, None)
    full = next((r[metric] for r in rows
                 if set(r['modalities']) == set(model.modalities)), None)
    for r in rows:
        r['missing'] = set(r['modalities']) != set(model.modalities)
        if 'not_applicable' not in r:
            r['delta'] = None if full is None else full - r[metric]
    return rows


def mean_delta(rows: Sequence[Dict]) -> Optional[float]:
    """Mean Δ over the rows with missing modalities (Table 4's mean Δ)."""
    deltas = [r['delta'] for r in rows
              if r['missing'] and r.get('delta') is not None]
    return sum(deltas) / len(deltas) if deltas else None


DEFAULT_POLICY = ('absent encoders not run; the head fuses the present '
                  'modalities')


def missing_modality_policy(model) -> str:
    """What a missing modality means for ``model``: the
    ``missing_modality_policy`` the recognizer itself declares (TSMF), else
    its neck's (it changes what the head gets: ``ActionMAE``, ``MMixer``,
    ``PoseDrivenAttention``), else its head's (the fusion heads), else the
    generic recognizer behaviour."""
    if is_model_wrapper(model):
        model = model.module
    for obj in (model, getattr(model, 'neck', None),
                getattr(model, 'cls_head', None)):
        policy = getattr(obj, 'missing_modality_policy', None)
        if policy:
            return policy
    return DEFAULT_POLICY
