#!/usr/bin/env bash
# The README's test command: set up .venv (idempotent) and run the pytest suite
# on PYTEST_WORKERS processes (pytest-xdist; default 2, one per core of the
# 2-core CI machine; 0 runs in this process), each with one OpenMP thread
# unless OMP_NUM_THREADS is set.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec "$ROOT/.venv/bin/python" -m pytest tests -n "${PYTEST_WORKERS:-2}" "$@"
