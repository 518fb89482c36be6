#!/usr/bin/env bash
# One install path for mmar-ext (README commands and .ci/run both call it).
#
# Creates .venv in the repository root and installs the pinned OpenMMLab stack:
#   torch 2.14.1 + torchvision 0.29.1, mmengine 0.10.7, mmcv 2.1.0 built from
#   source with its compiled ops (CUDA ops when nvcc + a CUDA torch are usable),
#   mmaction2 1.2.0, mmdet 3.3.0, mmpose 1.3.2 (without its chumpy requirement),
#   xtcocotools rebuilt against numpy 2, decord, PyAV, and mmar_ext in editable
#   mode.
#
# Idempotent: a stamp file records the hash of this script and setup.py; when
# it matches, the script only verifies the imports and returns in seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MMAR_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3.11}"
STAMP="$VENV/.mmar_ext_stamp"
WANT="$(cat "$0" "$ROOT/setup.py" "$ROOT"/requirements/*.txt 2>/dev/null | sha256sum | cut -d' ' -f1)"

log() { printf '[setup_env] %s\n' "$*" >&2; }

verify() {
    "$VENV/bin/python" - <<'PY'
import mmar_ext  # noqa: F401  (applies compat and registers everything)
import mmcv.ops, mmaction, mmdet, mmpose.apis, decord, av, torchvision  # noqa
from mmcv.ops import nms  # compiled ops present
print('[setup_env] stack OK: mmcv', mmcv.__version__, 'mmaction2', mmaction.__version__,
      'mmdet', mmdet.__version__, 'mmpose', mmpose.__version__)
PY
}

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
    verify && exit 0
    log "stamp present but verification failed; reinstalling"
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating virtual environment at $VENV"
    "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check -c "$ROOT/requirements/constraints.txt")
"${PIP[@]}" -q 'pip<26.2' 'setuptools<81' wheel ninja 'cython<3.2' 'numpy>=2,<2.4'

log "torch 2.14.1 + torchvision 0.29.1"
"${PIP[@]}" -q torch==2.14.1 torchvision==0.29.1

log "mmengine 0.10.7"
"${PIP[@]}" -q mmengine==0.10.7 opencv-python opencv-contrib-python importlib_metadata

if ! "$VENV/bin/python" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '2.1.0'" 2>/dev/null; then
    # mmcv 2.1.0 has no wheel for this torch. Its setup.py pins -std=c++14/17,
    # but torch 2.14's headers need C++20, so build from the sdist with the
    # standard raised. The wheel is kept in WHEEL_CACHE (keyed by torch build
    # and CUDA) so later runs install it in seconds.
    CUDA_TAG=cpu
    if command -v nvcc >/dev/null && "$VENV/bin/python" -c "import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
        export FORCE_CUDA=1 CUDA_TAG=cuda
    fi
    TORCH_TAG="$("$VENV/bin/python" -c 'import torch; print(torch.__version__.replace("+", "_"))')"
    WHEEL_CACHE="${MMAR_WHEEL_CACHE:-$HOME/.cache/mmar_ext/wheels}/mmcv-2.1.0-torch$TORCH_TAG-$CUDA_TAG"
    if ! ls "$WHEEL_CACHE"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
        log "building mmcv 2.1.0 with $CUDA_TAG ops (about 10 minutes on 2 cores, once per machine)"
        BUILD="$(mktemp -d)"
        "$VENV/bin/python" -m pip download -q --no-deps --no-build-isolation --no-binary :all: mmcv==2.1.0 -d "$BUILD"
        tar xzf "$BUILD"/mmcv-2.1.0.tar.gz -C "$BUILD"
        sed -i -E "s/-std=c\+\+1[47]/-std=c++20/g" "$BUILD/mmcv-2.1.0/setup.py"
        MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
            "$VENV/bin/python" -m pip wheel --no-deps --no-build-isolation -w "$BUILD/wheel" "$BUILD/mmcv-2.1.0"
        mkdir -p "$WHEEL_CACHE" && mv "$BUILD"/wheel/mmcv-2.1.0-*.whl "$WHEEL_CACHE"/
        rm -rf "$BUILD"
    fi
    "${PIP[@]}" -q --no-deps "$WHEEL_CACHE"/mmcv-2.1.0-*.whl
    "${PIP[@]}" -q addict packaging pyyaml yapf
fi

log "mmaction2 1.2.0, mmdet 3.3.0, decord, PyAV"
"${PIP[@]}" -q mmaction2==1.2.0 mmdet==3.3.0 decord==0.6.0 av==18.1.0

# mmpose declares chumpy (and xtcocotools, installed below), which it never
# imports; pip then reports the "conflict" after each install. That report is
# expected here: it is replaced by one line, anything else pip says is kept.
expected_mmpose_conflicts() {
    awk '/^ERROR: pip.s dependency resolver does not currently take/ {skip = 1; next}
         skip && /^mmpose [0-9.]+ requires (chumpy|xtcocotools)/ {seen = 1; next}
         {skip = 0; print}
         END {if (seen) print "[setup_env] (expected) mmpose lists chumpy, which it never imports: not installed"}' >&2
}

log "mmpose 1.3.2 (without chumpy, which it never imports)"
"${PIP[@]}" -q --no-deps mmpose==1.3.2
"${PIP[@]}" -q json_tricks munkres scipy matplotlib pillow 2>&1 | expected_mmpose_conflicts

log "xtcocotools rebuilt against numpy 2"
"${PIP[@]}" -q --no-build-isolation --no-binary xtcocotools xtcocotools 2>&1 | expected_mmpose_conflicts

log "mmar_ext (editable) and test requirements"
"${PIP[@]}" -q --no-build-isolation -e "$ROOT"
"${PIP[@]}" -q -r "$ROOT/requirements/tests.txt"

verify
echo "$WANT" > "$STAMP"
log "done"
