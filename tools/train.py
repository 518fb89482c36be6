"""Train a recogniser with MMAction2's runner.

Same arguments as MMAction2's ``tools/train.py`` (it *is* that script, run after
``import mmar_ext``): ``python tools/train.py CONFIG [--work-dir DIR] [--resume] [--amp] [--cfg-options k=v ...] [--launcher pytorch]``.
"""
from mmar_ext.utils import run_mmaction_tool

if __name__ == '__main__':
    run_mmaction_tool('train.py')
