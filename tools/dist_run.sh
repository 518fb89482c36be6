#!/usr/bin/env bash
# torchrun launcher shared by dist_train.sh and dist_test.sh:
#   tools/dist_run.sh SCRIPT NPROC [SCRIPT args]
# Starts NPROC processes of SCRIPT on this node. Multi-node: set NNODES,
# NODE_RANK, MASTER_ADDR and PORT on every node. Without CUDA the processes
# talk over gloo (see mmar_ext/compat.py), which is how the test suite
# exercises the launch. PYTHON picks the interpreter (default: python).
set -euo pipefail
SCRIPT=$1
NPROC=$2
DIR="$(cd "$(dirname "$0")" && pwd)"

PYTHONPATH="$DIR/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROC" "$SCRIPT" "${@:3}"
