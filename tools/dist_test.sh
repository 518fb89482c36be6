#!/usr/bin/env bash
# Distributed testing: tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# (torchrun via tools/dist_run.sh: NNODES, NODE_RANK, MASTER_ADDR, PORT;
# GPUS CPU processes over gloo on a machine without CUDA).
set -euo pipefail
if [[ $# -lt 3 ]]; then
    echo "usage: $0 CONFIG CHECKPOINT GPUS [test.py args]" >&2
    exit 2
fi
DIR="$(cd "$(dirname "$0")" && pwd)"
exec bash "$DIR/dist_run.sh" "$DIR/test.py" "$3" "$1" "$2" --launcher pytorch \
    "${@:4}"
