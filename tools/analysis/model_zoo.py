"""The README's cross-architecture model zoo table, from the model index.

    python tools/analysis/model_zoo.py                 # print the Markdown
    python tools/analysis/model_zoo.py --check README.md   # README up to date?
    python tools/analysis/model_zoo.py --write README.md   # rewrite its block

One row per model across the six architectures, one column per NTU RGB+D
benchmark (NTU60 cross-subject / cross-view, NTU120 cross-subject /
cross-setup). The configs of one model on the four benchmarks differ only in
their data (``epam_net_ntu60_xsub``, ``epam_net_ntu60_xview``,
``epam_net_ntu120``, ``epam_net_ntu120_xset`` are the row
``epam_net_<ntu>``), so a row collects them. A cell is the top-1 accuracy:
the paper's figure (metric ``Paper Top 1 Accuracy``, named so in the
metafiles) and, in parentheses, ours (metric ``Top 1 Accuracy``, which the
index checker only accepts with a ``Training Log``) where it exists;
``-`` where the paper reports no figure for that setting and we have none.
Parameters and GFLOPs per test clip are those of the metafiles (counted on
the models the configs build); where the NTU60 and NTU120 models differ (the
classifier), both are given.

The table lives in the README between ``<!-- model-zoo:begin -->`` and
``<!-- model-zoo:end -->``; ``--check`` fails (exit 1, with a diff) when
that block is not what the index gives, so the README cannot drift from the
metafiles (tests/test_model_zoo.py runs it).
"""
import argparse
import os
import difflib
import os.path as osp
import re
import sys
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from check_model_index import DEFAULT_INDEX, load_index  # noqa: E402

#: the benchmarks of the table: Training Data of the index -> column title
BENCHMARKS = {
    'NTU60-XSub': 'NTU60 xsub',
    'NTU60-XView': 'NTU60 xview',
    'NTU120-XSub': 'NTU120 xsub',
    'NTU120-XSet': 'NTU120 xset',
}
PAPER_METRIC = 'Paper Top 1 Accuracy'
OUR_METRIC = 'Top 1 Accuracy'
BEGIN, END = '<!-- model-zoo:begin -->', '<!-- model-zoo:end -->'
#: the benchmark part of an NTU config name (``epam_net_ntu120`` is xsub)
_BENCHMARK_IN_NAME = re.compile(r'_ntu(60|120)(_(xsub|xview|xset))?(?=_|$)')


def family(name: str) -> str:
    """``epam_net_ntu60_xview_rgb`` -> ``epam_net_<ntu>_rgb``."""
    return _BENCHMARK_IN_NAME.sub('_<ntu>', name, count=1)


def _cell(results: List[dict], dataset: str) -> Optional[str]:
    for result in results:
        if result.get('Dataset') != dataset:
            continue
        metrics = result.get('Metrics') or {}
        paper, ours = metrics.get(PAPER_METRIC), metrics.get(OUR_METRIC)
        if paper is None and ours is None:
            return None
        text = '-' if paper is None else str(paper)
        return text if ours is None else f'{text} ({ours})'
    return None


def _joined(values: List[str]) -> str:
    return ' / '.join(dict.fromkeys(values))


def zoo_rows(index: str = DEFAULT_INDEX) -> Tuple[List[List[str]], List[str]]:
    """The table's rows and the NTU rows without any figure (their names)."""
    metafiles, problems = load_index(index)
    if problems:
        raise ValueError('; '.join(problems))
    families: Dict[Tuple[str, str], Dict[str, dict]] = {}
    for meta in metafiles.values():
        for model in meta.get('Models', []):
            data = model['Metadata'].get('Training Data')
            if data not in BENCHMARKS:
                continue
            key = (model['In Collection'], family(model['Name']))
            families.setdefault(key, {})[data] = model
    rows, empty = [], []
    for (collection, name), by_data in families.items():
        models = [by_data[d] for d in BENCHMARKS if d in by_data]
        cells = [_cell(by_data[d]['Results'], d) if d in by_data else None
                 for d in BENCHMARKS]
        if all(c is None for c in cells):
            empty.append(f'`{name}`')
            continue
        modality = re.sub(r'\s*\([^)]*\)', '',
                          str(models[0]['Metadata']['Modality']))
        rows.append([
            collection, f'`{name}.py`', modality,
            _joined([str(m['Metadata']['Parameters']) for m in models]),
            _joined([str(m['Metadata']['FLOPs']).rstrip('G')
                     for m in models]),
        ] + [c or '-' for c in cells])
    return rows, empty


def render(index: str = DEFAULT_INDEX) -> str:
    rows, empty = zoo_rows(index)
    head = (['architecture', 'config (`configs/`)', 'modalities', 'params',
             'GFLOPs / clip'] + list(BENCHMARKS.values()))
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '---|' * 2 + '---|' + '---:|' * (len(head) - 3)]
    lines += ['| ' + ' | '.join(r) + ' |' for r in rows]
    lines.append('')
    lines.append('`<ntu>`: `ntu60_xsub`, `ntu60_xview`, `ntu120_xsub` '
                 '(EPAM-Net: `ntu120`), `ntu120_xset` — the configs that '
                 'exist for the row. Cells: the paper\'s top-1, ours in parentheses where '
                 'measured; generated from `model-index.yml` by '
                 '`tools/analysis/model_zoo.py`.')
    if empty:
        lines.append('')
        lines.append('NTU configs without a paper figure for their setting '
                     '(ablations, variants, teachers): ' + ', '.join(empty)
                     + '.')
    return '\n'.join(lines) + '\n'


def readme_block(text: str, path: str) -> Tuple[int, int]:
    """The character span between the markers of ``text``."""
    begin, end = text.find(BEGIN), text.find(END)
    if begin < 0 or end < begin:
        raise ValueError(f'{path}: no "{BEGIN}" ... "{END}" block')
    return begin + len(BEGIN) + 1, end


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--index', default=DEFAULT_INDEX)
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--check', metavar='README',
                       help='exit 1 (with a diff) if its block differs')
    group.add_argument('--write', metavar='README',
                       help='replace its block with the table')
    args = parser.parse_args(argv)
    table = render(args.index)
    path = args.check or args.write
    if not path:
        print(table, end='')
        return 0
    with open(path) as f:
        text = f.read()
    begin, end = readme_block(text, path)
    if args.check:
        if text[begin:end] == table:
            print(f'{path}: model zoo table up to date')
            return 0
        sys.stdout.writelines(difflib.unified_diff(
            text[begin:end].splitlines(True), table.splitlines(True),
            f'{path} (model zoo block)', 'model_zoo.py'))
        print(f'{path}: model zoo table out of date; run '
              f'python tools/analysis/model_zoo.py --write {path}')
        return 1
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text[:begin] + table + text[end:])

    os.replace(tmp, path)
    print(f'{path}: model zoo table written')
    return 0


if __name__ == '__main__':
    sys.exit(main())
