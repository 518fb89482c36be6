"""Test (and evaluate) a checkpoint with MMAction2's runner.

Same arguments as MMAction2's ``tools/test.py`` (it *is* that script, run after
``import mmar_ext``): ``python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--dump FILE.pkl] [--cfg-options k=v ...] [--launcher pytorch]``.
"""
from mmar_ext.utils import run_mmaction_tool

if __name__ == '__main__':
    run_mmaction_tool('test.py')
