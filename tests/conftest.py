"""Fixtures shared by the end-to-end test modules."""
import os.path as osp
import pickle

import pytest

#: classes of the tiny end-to-end dataset
E2E_NUM_CLASSES = 3
#: 3 performances per class: the generator walks performers so that each
#: class then has cross-subject training *and* test performers (with 2 per
#: class, class 1 had training performers only and classes 2-3 test ones)
E2E_CLIPS_PER_CLASS = 9


@pytest.fixture(scope='session')
def e2e_data(tmp_path_factory):
    """Tiny synthetic NTU-format raw tree + annotation pkl whose
    ``xsub_train`` and ``xsub_val`` splits each hold every class."""
    from data_prep.ntu.build_annotations import build_annotations
    from data_prep.synthetic_ntu import generate
    root = tmp_path_factory.mktemp('e2e_synth')
    raw = root / 'raw'
    generate(raw, num_classes=E2E_NUM_CLASSES,
             clips_per_class=E2E_CLIPS_PER_CLASS, frames=(12, 16),
             rgb_size=(160, 90), depth_size=(128, 106), num_workers=1,
             progress=False)
    ann = root / 'annotations.pkl'
    build_annotations(raw, ann, dataset='ntu60', num_workers=1)
    with open(ann, 'rb') as f:
        data = pickle.load(f)
    labels = {a['frame_dir']: a['label'] for a in data['annotations']}
    for split in ('xsub_train', 'xsub_val'):
        present = {labels[name] for name in data['split'][split]}
        assert present == set(range(E2E_NUM_CLASSES)), (split, present)
    return dict(raw=str(raw), ann=str(ann), root=root,
                num_classes=E2E_NUM_CLASSES,
                num_val=len(data['split']['xsub_val']),
                num_train=len(data['split']['xsub_train']))


def repo_root() -> str:
    return osp.dirname(osp.dirname(osp.abspath(__file__)))
