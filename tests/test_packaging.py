"""The built package carries OpenMMLab's ``.mim/`` folder (setup.py's
``add_mim_extension``): the model index, every metafile and config it names,
and the tools, where ``mim search mmar-ext`` and MMEngine look in an
installed package."""
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import yaml

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SOURCES = ('setup.py', 'README.md', 'model-index.yml', 'mmar_ext', 'configs',
           'tools', 'requirements')


def test_wheel_carries_the_model_index_and_configs(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    for name in SOURCES:   # a copy: the build writes mmar_ext/.mim/ in place
        path = osp.join(ROOT, name)
        if osp.isdir(path):
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns(
                '__pycache__', '*.pyc', '.mim'))
        else:
            shutil.copyfile(path, src / name)
    subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps',
         '--no-build-isolation', '--disable-pip-version-check', '-w',
         str(tmp_path / 'dist'), '.'], cwd=src, check=True)
    wheel, = os.listdir(tmp_path / 'dist')
    with zipfile.ZipFile(tmp_path / 'dist' / wheel) as z:
        names = set(z.namelist())
        mim = 'mmar_ext/.mim/'
        index = yaml.safe_load(z.read(mim + 'model-index.yml'))
        configs = set()
        for metafile in index['Import']:   # paths relative to .mim/
            assert mim + metafile in names, metafile
            for model in yaml.safe_load(z.read(mim + metafile))['Models']:
                configs.add(model['Config'])
    assert configs and all(mim + c in names for c in configs)
    for folder in ('configs', 'tools'):     # the whole folders, _base_ too
        for dirpath, _, files in os.walk(osp.join(ROOT, folder)):
            for f in files:
                if f.endswith(('.py', '.yml', '.sh')):
                    rel = osp.relpath(osp.join(dirpath, f), ROOT)
                    assert mim + rel.replace(os.sep, '/') in names, rel
    assert mim + 'README.md' in names
