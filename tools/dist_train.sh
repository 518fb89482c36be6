#!/usr/bin/env bash
# Distributed training: tools/dist_train.sh CONFIG GPUS [train.py args]
# (torchrun via tools/dist_run.sh: NNODES, NODE_RANK, MASTER_ADDR, PORT;
# GPUS CPU processes over gloo on a machine without CUDA).
set -euo pipefail
if [[ $# -lt 2 ]]; then
    echo "usage: $0 CONFIG GPUS [train.py args]" >&2
    exit 2
fi
DIR="$(cd "$(dirname "$0")" && pwd)"
exec bash "$DIR/dist_run.sh" "$DIR/train.py" "$2" "$1" --launcher pytorch \
    "${@:3}"
