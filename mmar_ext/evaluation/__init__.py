"""Evaluation: MMAction2's AccMetric (top-1 / top-5 / mean class accuracy)
is used as is; this package adds the missing-modality sweep and its
robustness report (paper 001, Tables 4 / 5: Markdown, CSV, heatmap)."""
from .missing_modality import (ModalitySubsetNotApplicable,
                               evaluate_missing_modalities, mean_delta,
                               missing_modality_policy, modality_subsets)
from .robustness_report import (format_robustness_table, order_subsets,
                                plot_robustness_heatmap, read_robustness_csv,
                                robustness_mean_delta, robustness_rows,
                                subset_name, write_robustness_csv)

__all__ = [
    'ModalitySubsetNotApplicable', 'evaluate_missing_modalities', 'mean_delta', 'missing_modality_policy',
    'modality_subsets', 'format_robustness_table', 'order_subsets',
    'plot_robustness_heatmap', 'read_robustness_csv', 'robustness_mean_delta',
    'robustness_rows', 'subset_name', 'write_robustness_csv'
]
