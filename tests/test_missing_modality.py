"""Unit tests of the missing-modality sweep (the runner-level run is in
test_tools_end_to_end.py)."""
import pytest

import mmar_ext  # noqa: F401
from mmar_ext.evaluation import (evaluate_missing_modalities, mean_delta,
                                 modality_subsets)


def test_subsets_in_table_4_order():
    assert modality_subsets(('rgb', 'depth', 'ir')) == [
        ('rgb', 'depth', 'ir'), ('rgb', 'depth'), ('rgb', 'ir'),
        ('depth', 'ir'), ('rgb', ), ('depth', ), ('ir', )]


class FakeModel:
    modalities = ('rgb', 'depth')

    def __init__(self):
        self.current = self.modalities

    def set_test_modalities(self, subset):
        self.current = self.modalities if subset is None else tuple(subset)


class FakeRunner:
    """runner.test() returns an accuracy that depends on the modalities."""
    ACC = {('rgb', 'depth'): 0.9, ('rgb', ): 0.6, ('depth', ): 0.8}

    def __init__(self):
        self.model = FakeModel()

    def test(self):
        acc = self.ACC[self.model.current]
        return {'acc/top1': acc, 'acc/top5': 1.0, 'acc/mean1': acc}


def test_sweep_deltas_and_restores_the_model():
    runner = FakeRunner()
    rows = evaluate_missing_modalities(runner)
    assert [r['modalities'] for r in rows] == [('rgb', 'depth'), ('rgb', ),
                                               ('depth', )]
    assert [r['missing'] for r in rows] == [False, True, True]
    assert rows[1]['delta'] == pytest.approx(0.3)
    assert mean_delta(rows) == pytest.approx((0.3 + 0.1) / 2)
    assert runner.model.current == ('rgb', 'depth')


def test_sweep_decodes_only_the_tested_modalities():
    """Each pass rebuilds the test dataloader from the config with the
    dataset's modalities set to the subset; the config is restored."""
    from mmengine.config import Config
    runner = FakeRunner()
    runner.cfg = Config(dict(
        test_cfg=dict(type='TestLoop'),
        test_dataloader=dict(batch_size=1, dataset=dict(
            type='MultiModalActionDataset', modalities=('rgb', 'depth')))))
    seen = []

    def test():
        assert runner._test_loop == dict(type='TestLoop')  # rebuilt
        seen.append(runner._test_dataloader['dataset']['modalities'])
        return FakeRunner.test(runner)

    runner.test = test
    evaluate_missing_modalities(runner)
    assert seen == [('rgb', 'depth'), ('rgb', ), ('depth', )]
    assert runner._test_dataloader['dataset']['modalities'] == ('rgb',
                                                                'depth')
    assert runner.cfg.test_dataloader.dataset.modalities == ('rgb', 'depth')


def test_sweep_rejects_models_without_modality_control():
    runner = FakeRunner()
    runner.model = object()
    with pytest.raises(TypeError, match='set_test_modalities'):
        evaluate_missing_modalities(runner)
