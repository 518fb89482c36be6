"""mmar-ext: multi-modal human action recognition architectures for MMAction2."""
import shutil
import sys
from pathlib import Path

from setuptools import find_packages, setup

#: what OpenMMLab's tooling reads from an installed package's ``.mim/``
MIM_FILES = ('model-index.yml', 'README.md', 'configs', 'tools')


def read_version():
    ns = {}
    exec((Path(__file__).parent / 'mmar_ext' / 'version.py').read_text(), ns)
    return ns['__version__']


def read_requirements(name):
    lines = (Path(__file__).parent / 'requirements' / name).read_text().splitlines()
    # mmcv/mmpose are installed by tools/setup_env.sh (mmcv from source with
    # ops, mmpose without its broken chumpy requirement); do not let pip
    # resolve them again.
    return [l for l in lines if l and not l.startswith('#')
            and not l.startswith(('mmcv', 'mmpose'))]


def add_mim_extension():
    """Copies the model index, the configs and tools into ``mmar_ext/.mim/``
    when a wheel or sdist is built, as MMAction2's ``setup.py`` does: an
    installed (non-editable) package then carries them where ``mim search
    mmar-ext`` and MMEngine's package-config lookup look
    (``<package>/.mim/model-index.yml``, its ``Import`` paths relative to
    ``.mim/``). An editable install reads them from the repository itself
    (``model-index.yml`` at its root)."""
    if not {'bdist_wheel', 'sdist', 'build', 'build_py'} & set(sys.argv):
        return
    root = Path(__file__).resolve().parent
    mim = root / 'mmar_ext' / '.mim'
    shutil.rmtree(mim, ignore_errors=True)
    mim.mkdir()
    for name in MIM_FILES:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, mim / name, ignore=shutil.ignore_patterns(
                '__pycache__', '*.pyc'))
        elif source.exists():
            shutil.copyfile(source, mim / name)


add_mim_extension()
setup(
    name='mmar-ext',
    version=read_version(),
    description='Multi-modal action recognition architectures (RGB, depth, IR, '
    'skeleton) as an MMAction2 plugin',
    long_description=Path('README.md').read_text() if Path('README.md').exists() else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=('mmar_ext', 'mmar_ext.*')),
    package_data={'mmar_ext': [f'.mim/{name}' for name in MIM_FILES[:2]]
                  + ['.mim/configs/**/*', '.mim/tools/**/*']},
    python_requires='>=3.10',
    install_requires=read_requirements('runtime.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    license='Apache-2.0',
)
