#!/usr/bin/env bash
# TSMF's Table 2 rows 1-7 (paper 003) in miniature, on the embedded synthetic
# dataset, over several seeds -- both stages through MMAction2's runner
# (configs/tsmf_synth_teacher.py, configs/tsmf_synth.py: ST-GCN on 32
# skeleton frames, ResNet18 from scratch on 120x120 mosaics of 24-px crops):
#   1  ST-GCN teacher                    stage 1
#   2  ResNet18 on the plain mosaic      model.use_weights=False
#   3  weights, teacher trained (✓)      model.teacher_mode=train
#   4  weights, teacher fixed (○)        the default
#   5-7  ensembles 1+2, 1+3, 1+4 (eq. 1, lambda = 1) of the stage-1 teacher's
#        scores and each student's (tools/analysis/tsmf_ensemble.py)
# The students' rows are their own scores (model.test_cfg.score=student).
# The leaderboard prints each row as mean +- standard deviation over the
# seeds, then the per-class top-1 of the appearance pairs (drink water /
# make a phone call, reading / writing: the same joint trajectories, told
# apart by the held object, in RGB only). Every step resumes.
#
#   bash tools/run_tsmf_ablation.sh
#
# Environment knobs (defaults in brackets):
#   SEEDS ["0 1 2"]  DATA [data/synthetic_ntu]  WORK [work_dirs/tsmf_ablation]
#   SYNTH_ARGS [""]  args for data_prep.synthetic_ntu (as tools/run_synthetic.sh)
#   OMP_NUM_THREADS [1]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEEDS=${SEEDS:-"0 1 2"}
DATA=${DATA:-data/synthetic_ntu}
WORK=${WORK:-work_dirs/tsmf_ablation}
SYNTH_ARGS=${SYNTH_ARGS:-}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

# shellcheck source=tools/lib/synthetic_data.sh
source tools/lib/synthetic_data.sh
teacher=configs/tsmf_synth_teacher.py
student=configs/tsmf_synth.py
start_main_job "$student"

declare -A rows=(
    [teacher]="1 ST-GCN teacher"
    [plain]="2 ResNet18, no weights"
    [trainteacher]="3 weights, teacher trained (✓)"
    [fixed]="4 weights, teacher fixed (○)")
declare -A options=(
    [plain]="model.use_weights=False"
    [trainteacher]="model.teacher_mode=train"
    [fixed]="")
board=()
for seed in $SEEDS; do
    w="$WORK/seed$seed"
    s=(randomness.seed="$seed")
    train_and_test "$teacher" "$w/teacher" "${s[@]}"
    board+=(--model "${rows[teacher]}" "$teacher" "$w/teacher/test_dump.pkl")
    t_ckpt="$(cat "$w/teacher/last_checkpoint")"
    for v in plain trainteacher fixed; do
        # shellcheck disable=SC2206
        opts=(${options[$v]} model.teacher_checkpoint="$t_ckpt"
              model.test_cfg.score=student)
        train_and_test "$student" "$w/$v" "${s[@]}" "${opts[@]}"
        board+=(--model "${rows[$v]}" "$student" "$w/$v/test_dump.pkl")
    done
    n=5
    for v in plain trainteacher fixed; do
        fused="$w/ensemble_1+$v.pkl"
        if [[ ! -f "$fused" ]]; then
            "$PY" tools/analysis/tsmf_ensemble.py "$w/teacher/test_dump.pkl" \
                "$w/$v/test_dump.pkl" --out "$fused" > "$fused.log"
        fi
        board+=(--model "$n ensemble 1 + ${rows[$v]%% *}" "$student" "$fused")
        n=$((n + 1))
    done
done

printf '\n==> %s\n' "TSMF Table 2 rows 1-7 in miniature (xsub_val of the synthetic dataset; seeds: $SEEDS)"
"$PY" tools/analysis/leaderboard.py "${board[@]}" --chance \
    --classes 2 3 8 9 --class-names "$DATA/raw/synthetic_classes.txt" \
    --out "$WORK/ablation.md"
