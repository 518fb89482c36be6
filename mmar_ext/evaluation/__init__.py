"""Evaluation: MMAction2's AccMetric (top-1 / top-5 / mean class accuracy)
is used as is; this package adds the missing-modality sweep."""
from .missing_modality import (evaluate_missing_modalities, mean_delta,
                               modality_subsets)

__all__ = ['evaluate_missing_modalities', 'mean_delta', 'modality_subsets']
