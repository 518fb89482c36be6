"""The missing-modality robustness report (paper 001, Tables 4 and 5).

One *report* of a model is a list of rows, one per test subset, in the
paper's order (the complete set first, then the proper subsets by
decreasing size, within a size in the order of the training modalities)::

    dict(modalities=('rgb', 'depth'), top1=73.5, top5=100.0, mean1=70.2,
         delta_top1=None, missing=False)

Accuracies are in percent; ``delta_top1 = top1(subset) - top1(complete)``
in percentage points, *negative when accuracy drops* -- the paper's
printed sign (Table 4 lists ``-33.9`` for a drop of 33.9 points; its
caption's ``Δ = Acc_full - Acc_miss`` is the discrepancy, shown negated).
``delta_top1`` is None for the complete set (the paper's "-") and for every
row when the complete set was not tested. ``mean Δ`` is the mean
``delta_top1`` over the tested proper non-empty subsets (all ``2^N - 2`` of
them by default), negative when accuracy drops.

Outputs of one report (``tools/analysis/missing_modality_eval.py``):

* Markdown (:func:`format_robustness_table`): the policy line, a blank
  line, then the table ``| test modalities | top-1 | top-5 |
  mean class acc. | Δ top-1 (%p) |`` with one row per subset (R / D / I / P
  for rgb / depth / ir / pose) and a final ``mean Δ`` row;
* CSV (:func:`write_robustness_csv` / :func:`read_robustness_csv`): header
  comment lines ``# key: value`` (``model``, ``train_modalities``,
  ``policy``, ``mean_delta_top1``), then the columns ``modalities, top1,
  top5, mean1, delta_top1``: modalities as full names joined by ``+``
  (``rgb+depth``), numbers in percent (full precision), an empty
  ``delta_top1`` for the complete set. The mean Δ is in the header comment
  (empty when no proper subset was tested), not a row, so that every row is
  a subset (``pandas.read_csv(path, comment='#')`` reads the rows);
* PNG heatmap (:func:`plot_robustness_heatmap`): rows = models, columns =
  test subsets, cells = top-1 (several models: ``leaderboard.py
  --robustness NAME CSV --heatmap PNG``).

Every file is written atomically (a temporary file, then ``os.replace``).
"""
import csv
import io
import math
import os
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

#: Abbreviations of the paper's tables (R: RGB, D: depth, I: infrared) and
#: EPAM-Net's pose (P); also the canonical modality order across models.
NAMES = dict(rgb='R', depth='D', ir='I', pose='P', skeleton='S')
MODALITY_ORDER = tuple(NAMES)
CSV_COLUMNS = ('modalities', 'top1', 'top5', 'mean1', 'delta_top1')
CSV_HEADER_KEYS = ('model', 'train_modalities', 'policy', 'mean_delta_top1')


def subset_name(modalities: Sequence[str]) -> str:
    """``('rgb', 'depth') -> 'R+D'`` (unknown modalities keep their name)."""
    return '+'.join(NAMES.get(m, m) for m in modalities)


def modality_order(modalities: Iterable[str]) -> Tuple[str, ...]:
    """The given modalities in canonical order (rgb, depth, ir, pose, then
    any other in order of first appearance)."""
    seen = list(dict.fromkeys(modalities))
    return tuple(m for m in MODALITY_ORDER if m in seen) + tuple(
        m for m in seen if m not in MODALITY_ORDER)


def order_subsets(subsets: Iterable[Sequence[str]],
                  modalities: Optional[Sequence[str]] = None
                  ) -> List[Tuple[str, ...]]:
    """Distinct subsets, each in ``modalities`` order, sorted as the paper
    lists them: larger first, then lexicographically by position in
    ``modalities`` (R+D+I, R+D, R+I, D+I, R, D, I). ``modalities``
    defaults to the canonical order of the subsets' union."""
    subsets = [tuple(s) for s in subsets]
    order = tuple(modalities) if modalities is not None else modality_order(
        m for s in subsets for m in s)
    order += tuple(m for m in modality_order(m for s in subsets for m in s)
                   if m not in order)
    index = {m: i for i, m in enumerate(order)}
    normal = {tuple(sorted(s, key=index.__getitem__)) for s in subsets}
    return sorted(normal,
                  key=lambda s: (-len(s), [index[m] for m in s]))


def robustness_rows(rows: Sequence[Dict],
                    modalities: Optional[Sequence[str]] = None
                    ) -> List[Dict]:
    """The report rows of :func:`evaluate_missing_modalities`' rows.

    Args:
        rows: dicts with ``modalities`` and the metrics ``acc/top1``,
            ``acc/top5``, ``acc/mean1`` (fractions, as ``AccMetric``).
        modalities: the model's (training) modalities: the complete set and
            the order within a subset size; default: the union of the
            rows' modalities, in canonical order.

    Returns:
        list[dict]: the module docstring's report rows, in the paper's
        order; ``delta_top1`` is computed from the unrounded accuracies.
    """
    full = tuple(modalities) if modalities is not None else modality_order(
        m for r in rows for m in r['modalities'])
    by_subset = {}
    for r in rows:
        key = frozenset(r['modalities'])
        by_subset[key] = dict(
            modalities=tuple(r['modalities']),
            top1=100 * r['acc/top1'], top5=100 * r['acc/top5'],
            mean1=100 * r['acc/mean1'], missing=key != frozenset(full))
    complete = by_subset.get(frozenset(full))
    report = []
    for subset in order_subsets((r['modalities'] for r in
                                 by_subset.values()), full):
        r = by_subset[frozenset(subset)]
        r['modalities'] = subset
        r['delta_top1'] = None if complete is None or not r['missing'] \
            else r['top1'] - complete['top1']
        report.append(r)
    return report


def robustness_mean_delta(report: Sequence[Dict]) -> Optional[float]:
    """Mean ``delta_top1`` over the proper subsets of a report (negative
    when accuracy drops); None when there is none (or no complete set)."""
    deltas = [r['delta_top1'] for r in report
              if r['missing'] and r['delta_top1'] is not None]
    return sum(deltas) / len(deltas) if deltas else None


def _num_proper_subsets(report: Sequence[Dict],
                        modalities: Optional[Sequence[str]]) -> int:
    n = len(modalities) if modalities is not None else len(
        {m for r in report for m in r['modalities']})
    return 2**n - 2


def format_robustness_table(report: Sequence[Dict],
                            policy: Optional[str] = None,
                            modalities: Optional[Sequence[str]] = None
                            ) -> str:
    """The Markdown report: ``Missing-modality policy: ...`` (when given),
    a blank line, then the Table 4-style table. The last row is
    ``mean Δ``; when fewer than the ``2^N - 2`` proper subsets were tested
    its label says how many (``mean Δ (2 of 6 subsets)``)."""
    lines = []
    if policy:
        lines += [f'Missing-modality policy: {policy}.', '']
    lines += ['| test modalities | top-1 | top-5 | mean class acc. | '
              'Δ top-1 (%p) |',
              '|---|---:|---:|---:|---:|']
    for r in report:
        delta = '-' if r['delta_top1'] is None else f"{r['delta_top1']:+.1f}"
        lines.append(f"| {subset_name(r['modalities'])} | {r['top1']:.1f} | "
                     f"{r['top5']:.1f} | {r['mean1']:.1f} | {delta} |")
    mean = robustness_mean_delta(report)
    if mean is not None:
        tested = sum(1 for r in report
                     if r['missing'] and r['delta_top1'] is not None)
        total = _num_proper_subsets(report, modalities)
        label = 'mean Δ' if tested == total else \
            f'mean Δ ({tested} of {total} subsets)'
        lines.append(f'| {label} | | | | {mean:+.1f} |')
    return '\n'.join(lines)


def _atomic_write_text(path: str, text: str) -> None:
    tmp = f'{path}.tmp'
    with open(tmp, 'w', newline='') as f:
        f.write(text)
    os.replace(tmp, path)


def _num(value: Optional[float]) -> str:
    return '' if value is None else repr(float(value))


def write_robustness_csv(path: str, report: Sequence[Dict],
                         policy: Optional[str] = None,
                         model: Optional[str] = None,
                         modalities: Optional[Sequence[str]] = None
                         ) -> None:
    """Write a report as CSV (format: the module docstring), atomically.
    ``modalities``: the training modalities (default: the union of the
    report's subsets)."""
    modalities = tuple(modalities) if modalities is not None else \
        modality_order(m for r in report for m in r['modalities'])
    header = dict(model=model or '', train_modalities='+'.join(modalities),
                  policy=policy or '',
                  mean_delta_top1=_num(robustness_mean_delta(report)))
    out = io.StringIO()
    for key in CSV_HEADER_KEYS:
        value = ' '.join(str(header[key]).splitlines())
        out.write(f'# {key}: {value}\n')
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(CSV_COLUMNS)
    for r in report:
        writer.writerow(['+'.join(r['modalities']), _num(r['top1']),
                         _num(r['top5']), _num(r['mean1']),
                         _num(r['delta_top1'])])
    _atomic_write_text(path, out.getvalue())


def read_robustness_csv(path: str) -> Dict:
    """A CSV of :func:`write_robustness_csv`: ``dict(model,
    train_modalities, policy, mean_delta_top1, rows)``, ``rows`` the report
    rows (``missing`` from ``train_modalities``)."""
    header, body = {}, []
    with open(path, newline='') as f:
        for line in f:
            if line.startswith('#'):
                key, _, value = line[1:].partition(':')
                header[key.strip()] = value.strip()
            elif line.strip():
                body.append(line)
    reader = csv.DictReader(body)
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise ValueError(f'{path}: expected the columns {CSV_COLUMNS}, got '
                         f'{reader.fieldnames}')
    rows = []
    for rec in reader:
        rows.append(dict(
            modalities=tuple(rec['modalities'].split('+')),
            **{k: float(rec[k]) for k in ('top1', 'top5', 'mean1')},
            delta_top1=float(rec['delta_top1']) if rec['delta_top1'] else
            None))
    full = tuple(m for m in header.get('train_modalities', '').split('+')
                 if m)
    if not full:
        full = modality_order(m for r in rows for m in r['modalities'])
    for r in rows:
        r['missing'] = set(r['modalities']) != set(full)
    mean = header.get('mean_delta_top1', '')
    return dict(model=header.get('model') or None, train_modalities=full,
                policy=header.get('policy') or None,
                mean_delta_top1=float(mean) if mean else
                robustness_mean_delta(rows),
                rows=rows)


def save_png(fig, path: str, dpi: int) -> Tuple[int, int]:
    """Writes a matplotlib figure as a PNG atomically (a temporary file
    renamed), closes it and returns its ``(width, height)`` in pixels."""
    import matplotlib.pyplot as plt
    width, height = fig.get_size_inches()
    tmp = f'{path}.tmp'
    try:
        fig.savefig(tmp, format='png', dpi=dpi)
    finally:
        plt.close(fig)
    os.replace(tmp, path)
    return int(round(width * dpi)), int(round(height * dpi))


def plot_robustness_heatmap(reports: Dict[str, Sequence[Dict]], path: str,
                            title: Optional[str] = None, dpi: int = 100
                            ) -> Tuple[int, int]:
    """Draw the top-1 heatmap of one or several reports to a PNG.

    Args:
        reports: ``{model name: report rows}`` (rows: :func:`robustness_rows`
            or ``read_robustness_csv(...)['rows']``), one heatmap row per
            model in the dict's order.
        path: the PNG to write (atomically).
        title: the figure title (default: "Top-1 accuracy (%) with missing
            modalities").
        dpi: dots per inch; the image is ``figsize * dpi`` pixels.

    Columns are the union of the reports' subsets in canonical order
    (modalities rgb, depth, ir, pose; larger subsets first); a model not
    tested with a subset has a blank cell. Each cell shows its top-1; each
    row label the model name and its mean Δ. Colours: viridis from 0 to
    100 %, the same scale for every model. Returns the image size
    ``(width, height)`` in pixels.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    if not reports:
        raise ValueError('no report to draw')
    names = list(reports)
    columns = order_subsets(
        tuple(r['modalities']) for rows in reports.values() for r in rows)
    col_of = {frozenset(s): j for j, s in enumerate(columns)}
    values = np.full((len(names), len(columns)), np.nan)
    labels = []
    for i, name in enumerate(names):
        for r in reports[name]:
            values[i, col_of[frozenset(r['modalities'])]] = r['top1']
        mean = robustness_mean_delta(reports[name])
        labels.append(name if mean is None else
                      f'{name}\nmean Δ {mean:+.1f}')

    label_chars = max(len(line) for lab in labels for line in lab.split('\n'))
    width = 1.6 + 0.1 * label_chars + 0.85 * len(columns)
    height = 1.5 + 0.55 * len(names)
    fig, ax = plt.subplots(figsize=(width, height), dpi=dpi,
                           layout='constrained')
    cmap = matplotlib.colormaps['viridis'].with_extremes(bad='white')
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0,
                      vmax=100, aspect='auto')
    ax.set_xticks(range(len(columns)),
                  [subset_name(s) for s in columns])
    ax.set_yticks(range(len(names)), labels)
    ax.set_xlabel('test modalities')
    ax.tick_params(length=0)
    for i in range(len(names)):
        for j in range(len(columns)):
            v = values[i, j]
            if math.isnan(v):
                continue
            r, g, b, _ = cmap(v / 100)
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(j, i, f'{v:.1f}', ha='center', va='center', fontsize=9,
                    color='white' if dark else 'black')
    fig.colorbar(image, ax=ax, label='top-1 (%)', fraction=0.08, pad=0.02)
    ax.set_title(title or 'Top-1 accuracy (%) with missing modalities',
                 fontsize=10)
    return save_png(fig, path, dpi)
