"""mmar-ext: multi-modal human action recognition architectures for MMAction2."""
from pathlib import Path

from setuptools import find_packages, setup


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


setup(
    name='mmar-ext',
    version=read_version(),
    description='Multi-modal action recognition architectures (RGB, depth, IR, '
    'skeleton) as an MMAction2 plugin',
    long_description=Path('README.md').read_text() if Path('README.md').exists() else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=('mmar_ext', 'mmar_ext.*')),
    python_requires='>=3.10',
    install_requires=read_requirements('runtime.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    license='Apache-2.0',
)
