"""Run MMAction2's own command-line tools (shipped inside the mmaction2
package under ``mmaction/.mim/tools``) after ``mmar_ext`` is imported.

Our ``tools/train.py`` and ``tools/test.py`` are these thin wrappers, so their
interface (``--work-dir``, ``--resume``, ``--amp``, ``--cfg-options``,
``--launcher``, ``--dump`` ...) is MMAction2's by construction.
"""
import os.path as osp
import runpy
import sys


def mmaction_tool_path(name: str) -> str:
    """Path of ``mmaction/.mim/tools/<name>`` in the installed mmaction2."""
    import mmaction
    path = osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools', name)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'MMAction2 tool {name!r} not found at {path}; is mmaction2 '
            'installed from its wheel (pip install mmaction2==1.2.0)?')
    return path


def run_mmaction_tool(name: str) -> None:
    """Execute an MMAction2 tool as ``__main__`` with the current argv."""
    import mmar_ext  # noqa: F401  (compat fixes + registration first)
    path = mmaction_tool_path(name)
    sys.argv[0] = path
    runpy.run_path(path, run_name='__main__')
