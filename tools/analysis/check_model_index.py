"""Check model-index.yml and the metafiles it imports (OpenMMLab format).

    python tools/analysis/check_model_index.py [--index model-index.yml] \\
        [--no-build] [--device cpu|meta]

Prints ``OK ...`` or one line per problem, each naming the metafile and the
model / config it concerns. Exit status: 0 when clean, 1 on problems.

What is checked (paths are relative to the directory of the index, the
repository root, as MMAction2's):

* ``model-index.yml`` parses (PyYAML) and is ``Import: [metafile, ...]``;
  every imported metafile exists and parses.
* Each metafile against :data:`SCHEMA`: top-level ``Collections`` and
  ``Models``; a collection has ``Name``, ``README`` (an existing file) and
  ``Paper`` with a ``Title``; a model has ``Name``, ``Config``,
  ``In Collection``, ``Metadata`` (the keys of :data:`METADATA_KEYS`),
  ``Results`` (a list of ``{Dataset, Task, Metrics}``, ``Metrics`` a dict
  of numbers) and ``Paper Reference``; unknown keys are reported (typos).
* Collection names are unique and every ``In Collection`` names one;
  model names are unique across all metafiles and equal their config's file
  name without ``.py`` (MMAction2's convention).
* Every ``Config`` exists, lies in ``configs/`` (not ``_base_``) and is
  listed once; every config of ``configs/*.py`` that is not synthetic
  (``_synth`` in its name) is listed, and no synthetic one is.
* Honesty: this repository publishes no weights or logs on real data, so a
  metric must be a paper's figure, named ``Paper ...``, unless its model
  entry carries a ``Training Log`` (a measured result comes with its log).
  A result's ``Dataset`` is the model's ``Training Data`` (our configs test
  on the benchmark they train on); a model without results says why in
  ``Paper Reference`` (``none: ...``).
* Each config loads (``Config.fromfile``) and agrees with its entry:
  ``Batch Size`` (per GPU), ``Epochs``, ``Training Resources`` (the
  config's ``auto_scale_lr.base_batch_size`` / batch size), ``Modality``
  (the model's modalities; a parenthetical remark is ignored) and
  ``Training Data`` (from the annotation file and split, for the datasets
  of :data:`DATASETS`).
* Unless ``--no-build``: every config's model builds (``MODELS.build``
  under ``init_default_scope('mmaction')`` after ``import mmar_ext``; no
  weights are initialised or loaded -- checkpoints and ImageNet weights are
  read by ``init_weights``, which building does not call), each distinct
  ``model`` dict once, and ``Parameters`` equals the built model's
  parameter count to the digits written. ``--device meta`` builds on
  PyTorch's meta device (no memory, a few times faster; the constructors
  run all the same). FLOPs are not recomputed (minutes per config on a
  CPU; ``tools/analysis/complexity.py`` does that); their format is checked.
"""
import argparse
import glob
import json
import os.path as osp
import re
import sys
import time
from typing import Dict, List, Optional, Tuple

import yaml

#: top-level keys of a metafile
SCHEMA = {
    'metafile': {'required': ('Collections', 'Models'), 'optional': ()},
    'collection': {
        'required': ('Name', 'README', 'Paper'),
        'optional': ('Code', 'Metadata'),
    },
    'paper': {'required': ('Title', ), 'optional': ('URL', )},
    'model': {
        'required': ('Name', 'Config', 'In Collection', 'Metadata',
                     'Results', 'Paper Reference'),
        'optional': ('Weights', 'Training Log', 'Training Json Log', 'Code',
                     'README', 'Image', 'Paper'),
    },
    'result': {'required': ('Dataset', 'Task', 'Metrics'), 'optional': ()},
}
#: required Metadata keys (others are allowed: Resolution, Frames, ...)
METADATA_KEYS = ('Architecture', 'Modality', 'Batch Size', 'Epochs', 'FLOPs',
                 'Parameters', 'Pretrained', 'Training Data',
                 'Training Resources')
#: the prefix of every metric a paper reports (and this repository did not
#: measure)
PAPER_PREFIX = 'Paper '
#: (annotation file name, training split) -> the dataset's name in the index
DATASETS = {
    ('ntu60_annotations.pkl', 'xsub_train'): 'NTU60-XSub',
    ('ntu60_annotations.pkl', 'xview_train'): 'NTU60-XView',
    ('ntu120_annotations.pkl', 'xsub_train'): 'NTU120-XSub',
    ('ntu120_annotations.pkl', 'xset_train'): 'NTU120-XSet',
    ('pku_mmd_annotations.pkl', 'xsub_train'): 'PKU-MMD-XSub',
    ('pku_mmd_annotations.pkl', 'xview_train'): 'PKU-MMD-XView',
    ('toyota_smarthome_cs.pkl', 'cs_train'): 'Toyota-Smarthome-CS',
    ('toyota_smarthome_cv.pkl', 'cv2_train'): 'Toyota-Smarthome-CV2',
    ('nwucla_annotations.pkl', 'xview_train'): 'NW-UCLA-XView',
    ('uwa3d_annotations.pkl', 'xview34_train'): 'UWA3DII-XView34',
    ('finegym_annotations.pkl', 'gym99_train'): 'FineGYM-Gym99',
    ('pennaction_annotations.pkl', 'train'): 'PennAction',
}
MODALITY_NAMES = dict(rgb='RGB', depth='Depth', ir='IR', pose='Pose',
                      skeleton='Skeleton')
#: the repository's index (the default of the command line)
DEFAULT_INDEX = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))), 'model-index.yml')
_AMOUNT = re.compile(r'^(\d+(?:\.(\d+))?)([KMG])$')
_UNIT = dict(K=1e3, M=1e6, G=1e9)


def is_synthetic(config: str) -> bool:
    return '_synth' in osp.basename(config)


def _load_yaml(path: str) -> Tuple[Optional[object], Optional[str]]:
    try:
        with open(path) as f:
            return yaml.safe_load(f), None
    except (OSError, yaml.YAMLError) as e:
        return None, f'{type(e).__name__}: {e}'


def _keys(where: str, d, kind: str) -> List[str]:
    """Required / unknown keys of ``d`` against ``SCHEMA[kind]``."""
    if not isinstance(d, dict):
        return [f'{where}: expected a mapping, got {type(d).__name__}']
    spec = SCHEMA[kind]
    out = [f'{where}: missing {k!r}' for k in spec['required'] if k not in d]
    allowed = set(spec['required']) | set(spec['optional'])
    out += [f'{where}: unknown key {k!r}' for k in d if k not in allowed]
    return out


def parse_amount(text) -> Optional[Tuple[float, float]]:
    """``'33.93M'`` -> (33.93e6, half a unit of the last digit written)."""
    m = _AMOUNT.match(str(text))
    if not m:
        return None
    decimals = len(m.group(2) or '')
    unit = _UNIT[m.group(3)]
    return float(m.group(1)) * unit, 0.5 * 10**-decimals * unit


def parse_modalities(text: str) -> Tuple[str, ...]:
    """``'RGB + Pose (2D pose for the crop)'`` -> ``('rgb', 'pose')``."""
    text = re.sub(r'\([^)]*\)', '', str(text))
    by_name = {v.lower(): k for k, v in MODALITY_NAMES.items()}
    return tuple(by_name.get(p.strip().lower(), p.strip())
                 for p in text.split('+'))


def load_index(index: str) -> Tuple[Dict[str, object], List[str]]:
    """The metafiles ``{path relative to the root: parsed YAML}`` the index
    imports, and the problems met on the way."""
    root = osp.dirname(osp.abspath(index))
    name = osp.basename(index)
    data, err = _load_yaml(index)
    if err:
        return {}, [f'{name}: does not parse: {err}']
    if not isinstance(data, dict) or set(data) != {'Import'} or \
            not isinstance(data['Import'], list) or not data['Import']:
        return {}, [f'{name}: expected one key, Import: [metafile, ...]']
    metafiles, problems = {}, []
    for rel in data['Import']:
        if not isinstance(rel, str):
            problems.append(f'{name}: Import entry {rel!r} is not a path')
            continue
        if rel in metafiles:
            problems.append(f'{name}: {rel} imported twice')
            continue
        path = osp.join(root, rel)
        if not osp.isfile(path):
            problems.append(f'{name}: imported metafile {rel} does not exist')
            continue
        meta, err = _load_yaml(path)
        if err:
            problems.append(f'{rel}: does not parse: {err}')
            continue
        metafiles[rel] = meta
    return metafiles, problems


def validate_metafiles(metafiles: Dict[str, object],
                       root: str) -> Tuple[List[str], List[Tuple[str, dict]]]:
    """Schema, names, config paths, coverage and the honesty rule (no config
    is loaded). Returns the problems and the ``(metafile, model)`` entries
    whose config exists."""
    problems: List[str] = []
    collections: Dict[str, str] = {}
    models: List[Tuple[str, dict]] = []
    for rel, data in metafiles.items():
        problems += _keys(rel, data, 'metafile')
        if not isinstance(data, dict):
            continue
        for i, col in enumerate(data.get('Collections') or []):
            where = f'{rel}: collection {i}'
            problems += _keys(where, col, 'collection')
            if not isinstance(col, dict):
                continue
            cname = col.get('Name')
            if cname in collections:
                problems.append(f'{where}: collection name {cname!r} also '
                                f'in {collections[cname]}')
            collections[cname] = rel
            readme = col.get('README')
            if isinstance(readme, str) and not osp.isfile(
                    osp.join(root, readme)):
                problems.append(f'{where} ({cname}): README {readme} does not '
                                'exist')
            if 'Paper' in col:
                problems += _keys(f'{where} ({cname}): Paper', col['Paper'],
                                  'paper')
        if not isinstance(data.get('Models'), list):
            if 'Models' in data:
                problems.append(f'{rel}: Models is not a list')
            continue
        for model in data['Models']:
            models.append((rel, model))

    names: Dict[str, str] = {}
    listed: Dict[str, str] = {}
    existing: List[Tuple[str, dict]] = []
    for rel, model in models:
        if not isinstance(model, dict):
            problems.append(f'{rel}: a model entry is not a mapping')
            continue
        name = model.get('Name')
        where = f'{rel}: model {name!r}'
        problems += _keys(where, model, 'model')
        if name in names:
            problems.append(f'{where}: name also used in {names[name]}')
        names[name] = rel
        coll = model.get('In Collection')
        if coll is not None and coll not in collections:
            problems.append(f'{where}: In Collection {coll!r} is no '
                            'collection of the index')
        problems += _check_metadata(where, model.get('Metadata'))
        problems += _check_results(where, model)
        config = model.get('Config')
        if not isinstance(config, str):
            continue
        if osp.basename(config)[:-3] != name or not config.endswith('.py'):
            problems.append(f'{where}: Name is not the file name of its '
                            f'Config {config} (without .py)')
        if config in listed:
            problems.append(f'{where}: Config {config} also listed in '
                            f'{listed[config]}')
        listed[config] = rel
        if not osp.isfile(osp.join(root, config)):
            problems.append(f'{where}: Config {config} does not exist')
            continue
        if osp.dirname(osp.normpath(config)) != 'configs':
            problems.append(f'{where}: Config {config} is not a config of '
                            'configs/ (a _base_ file or elsewhere)')
        if is_synthetic(config):
            problems.append(f'{where}: Config {config} is a synthetic-data '
                            'config; the index lists real-dataset configs')
        existing.append((rel, model))
    for path in sorted(glob.glob(osp.join(root, 'configs', '*.py'))):
        config = osp.relpath(path, root)
        if not is_synthetic(config) and config not in listed:
            problems.append(f'{config}: not listed in any metafile of the '
                            'index')
    return problems, existing


def _check_metadata(where: str, meta) -> List[str]:
    if not isinstance(meta, dict):
        return [f'{where}: Metadata is not a mapping']
    out = [f'{where}: Metadata lacks {k!r}' for k in METADATA_KEYS
           if k not in meta]
    for k, v in meta.items():
        if v is None or v == [] or v == {}:
            # mim search reads value[0] of a list: no empty values
            out.append(f'{where}: Metadata {k!r} is empty')
    for k in ('Parameters', 'FLOPs'):
        if k in meta and parse_amount(meta[k]) is None:
            out.append(f'{where}: Metadata {k} {meta[k]!r} is not a number '
                       'with K / M / G (e.g. 33.93M)')
    for k in ('Batch Size', 'Epochs'):
        if k in meta and not isinstance(meta[k], int):
            out.append(f'{where}: Metadata {k} {meta[k]!r} is not an integer')
    return out


def _check_results(where: str, model: dict) -> List[str]:
    results = model.get('Results')
    if results is None:
        return []
    if not isinstance(results, list):
        return [f'{where}: Results is not a list']
    out = []
    measured = 'Training Log' in model
    data = (model.get('Metadata') or {}).get('Training Data')
    ref = model.get('Paper Reference')
    if not isinstance(ref, str) or not ref.strip():
        out.append(f'{where}: Paper Reference is empty')
    elif not results and not ref.startswith('none'):
        out.append(f'{where}: no Results, but Paper Reference does not say '
                   "why ('none: ...')")
    for i, res in enumerate(results):
        w = f'{where}: Results[{i}]'
        out += _keys(w, res, 'result')
        if not isinstance(res, dict):
            continue
        if data is not None and res.get('Dataset') != data:
            out.append(f'{w}: Dataset {res.get("Dataset")!r} is not the '
                       f'Training Data {data!r}')
        metrics = res.get('Metrics')
        if not isinstance(metrics, dict) or not metrics:
            out.append(f'{w}: Metrics is not a non-empty mapping')
            continue
        for k, v in metrics.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                out.append(f'{w}: metric {k!r} = {v!r} is not a number')
            if not measured and not str(k).startswith(PAPER_PREFIX):
                out.append(f'{w}: metric {k!r} is not named '
                           f'{PAPER_PREFIX!r}... and the model has no '
                           'Training Log: a measured result needs its log, '
                           "a paper's figure the prefix")
    return out


def _model_modalities(cfg) -> Tuple[str, ...]:
    return tuple(cfg.model.get('modalities') or cfg.get('modalities') or ())


def check_configs(entries: List[Tuple[str, dict]], root: str,
                  build: bool = True, device: str = 'cpu',
                  stats: Optional[dict] = None) -> List[str]:
    """Load every entry's config, compare it with the entry and (``build``)
    build its model, each distinct model dict once."""
    from mmengine.config import Config
    problems = []
    loaded = []
    for rel, model in entries:
        where = f'{rel}: model {model.get("Name")!r} ({model["Config"]})'
        try:
            cfg = Config.fromfile(osp.join(root, model['Config']))
        except Exception as e:  # noqa: BLE001 -- any load error is a problem
            problems.append(f'{where}: config does not load: '
                            f'{type(e).__name__}: {e}')
            continue
        loaded.append((where, model, cfg))
        problems += _compare(where, model.get('Metadata') or {}, cfg)
    if not build:
        return problems

    import torch
    from mmengine.registry import init_default_scope

    import mmar_ext  # noqa: F401 -- registers the models
    from mmaction.registry import MODELS
    init_default_scope('mmaction')
    counts: Dict[str, object] = {}
    for where, model, cfg in loaded:
        key = json.dumps(cfg.model.to_dict(), sort_keys=True, default=repr)
        if key not in counts:
            try:
                with torch.device(device):
                    net = MODELS.build(cfg.model)
                counts[key] = sum(p.numel() for p in net.parameters())
                del net
            except Exception as e:  # noqa: BLE001
                counts[key] = e
        n = counts[key]
        if isinstance(n, Exception):
            problems.append(f'{where}: model does not build: '
                            f'{type(n).__name__}: {n}')
            continue
        written = (model.get('Metadata') or {}).get('Parameters')
        amount = parse_amount(written)
        if amount is not None and abs(n - amount[0]) > amount[1] + 1e-6:
            problems.append(f'{where}: Parameters {written} but the built '
                            f'model has {n:,} ({n / 1e6:.2f}M)')
    if stats is not None:
        stats['built'] = len(counts)
    return problems


def _compare(where: str, meta: dict, cfg) -> List[str]:
    out = []
    loader = cfg.get('train_dataloader') or {}
    bs = loader.get('batch_size')
    if 'Batch Size' in meta and meta['Batch Size'] != bs:
        out.append(f'{where}: Batch Size {meta["Batch Size"]} but the config '
                   f'has train_dataloader.batch_size={bs}')
    epochs = (cfg.get('train_cfg') or {}).get('max_epochs')
    if 'Epochs' in meta and meta['Epochs'] != epochs:
        out.append(f'{where}: Epochs {meta["Epochs"]} but the config has '
                   f'train_cfg.max_epochs={epochs}')
    base = (cfg.get('auto_scale_lr') or {}).get('base_batch_size')
    if base and bs and 'Training Resources' in meta:
        gpus = base // bs
        want = f'{gpus} GPU' + ('s' if gpus > 1 else '')
        if meta['Training Resources'] != want:
            out.append(f'{where}: Training Resources '
                       f'{meta["Training Resources"]!r}, but the config is '
                       f'for {want} (auto_scale_lr.base_batch_size={base} / '
                       f'batch_size={bs})')
    mods = _model_modalities(cfg)
    if 'Modality' in meta and mods and \
            set(parse_modalities(meta['Modality'])) != set(mods):
        out.append(f'{where}: Modality {meta["Modality"]!r} but the model '
                   f'takes {mods}')
    ds = loader.get('dataset') or {}
    ds = ds.get('dataset', ds)  # a RepeatDataset / wrapper
    key = (osp.basename(str(ds.get('ann_file'))), ds.get('split'))
    if key in DATASETS and meta.get('Training Data') != DATASETS[key]:
        out.append(f'{where}: Training Data {meta.get("Training Data")!r} '
                   f'but the config trains on {key[0]} {key[1]} '
                   f'({DATASETS[key]})')
    return out


def check_model_index(index: str = 'model-index.yml', build: bool = True,
                      device: str = 'cpu',
                      stats: Optional[dict] = None) -> List[str]:
    """All problems of the index (an empty list when it is clean)."""
    root = osp.dirname(osp.abspath(index))
    metafiles, problems = load_index(index)
    more, entries = validate_metafiles(metafiles, root)
    problems += more
    problems += check_configs(entries, root, build, device, stats)
    if stats is not None:
        stats.update(metafiles=len(metafiles), models=len(entries))
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--index', default=DEFAULT_INDEX,
                        help='the model index (default: the repository\'s '
                        'model-index.yml)')
    parser.add_argument('--no-build', action='store_true',
                        help='skip building the models')
    parser.add_argument('--device', default='cpu', choices=('cpu', 'meta'),
                        help='where to build them (meta: no memory)')
    args = parser.parse_args(argv)
    if not osp.isfile(args.index):
        print(f'{args.index}: does not exist')
        return 1
    start = time.time()
    stats: dict = {}
    problems = check_model_index(args.index, not args.no_build, args.device,
                                 stats)
    if problems:
        for p in problems:
            print(p)
        print(f'{len(problems)} problem(s)')
        return 1
    built = (f', {stats["built"]} distinct models built on {args.device}'
             if 'built' in stats else ', models not built')
    print(f'OK: {stats["metafiles"]} metafiles, {stats["models"]} models'
          f'{built} ({time.time() - start:.0f} s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
