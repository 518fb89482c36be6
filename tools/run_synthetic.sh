#!/usr/bin/env bash
# The main job on the embedded synthetic dataset, from a fresh machine:
#   1. install the stack into .venv (tools/setup_env.sh; idempotent),
#   2. generate the synthetic NTU-format dataset, build its annotation pkl and
#      check every file the configs will read (tools/analysis/check_data.py),
#   3. train the RGB and depth space-time models with MMAction2's runner
#      (tools/train.py) on the CPU, then the fused RGB+D (sum) model with its
#      encoders initialised from them (configs/stfusion_synth_*_unimodal-init),
#   4. test them (tools/test.py --dump) and print the leaderboard,
#   5. test the fused model with each modality missing (paper 001, Table 4).
# Every step resumes: an existing dataset, a finished training or a test dump
# is reused, and an interrupted training continues from its last checkpoint.
#
# Environment knobs (defaults in brackets):
#   DATA [data/synthetic_ntu]  WORK [work_dirs/synthetic]
#   MODELS ["rgb depth rgb-depth_sum_unimodal-init"]
#          configs/stfusion_synth_<name>.py, trained in this order; a
#          *_unimodal-init model needs its modalities' models listed before it
#   SYNTH_ARGS [""]  args for data_prep.synthetic_ntu (default: 12 classes x
#              24 clips; e.g. --clips-per-class 48 or --scale 2 for more)
#   TRAIN_ARGS [""]  extra args for tools/train.py (e.g. --cfg-options ...)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATA=${DATA:-data/synthetic_ntu}
WORK=${WORK:-work_dirs/synthetic}
MODELS=${MODELS:-"rgb depth rgb-depth_sum_unimodal-init"}
SYNTH_ARGS=${SYNTH_ARGS:-}
TRAIN_ARGS=${TRAIN_ARGS:-}

# shellcheck source=tools/lib/synthetic_data.sh
source tools/lib/synthetic_data.sh
start_main_job configs/stfusion_synth_rgb-depth-ir_sum.py
step() { printf '\n==> %s\n' "$*"; }
# Options of model NAME: the data, plus for a *_unimodal-init model the
# checkpoints of the uni-modal models of its modalities (trained before it).
model_opts() {
    local name=$1 m ckpt
    opts=("${data_opts[@]}")
    [[ "$name" == *_unimodal-init ]] || return 0
    for m in $(tr '-' ' ' <<< "${name%%_*}"); do
        ckpt="$WORK/$m/last_checkpoint"
        [[ -f "$ckpt" ]] || { echo "$name needs the trained $m model" \
            "($ckpt): list $m before it in MODELS" >&2; exit 1; }
        opts+=("model.backbone.$m.init_cfg.checkpoint=$(cat "$ckpt")")
    done
}

leaderboard=()
for name in $MODELS; do
    config="configs/stfusion_synth_${name}.py"
    work="$WORK/$name"
    model_opts "$name"
    if [[ ! -f "$work/test_dump.pkl" ]]; then
        step "train $config (log: $work/*/*.log)"
        # shellcheck disable=SC2086
        "$PY" tools/train.py "$config" --work-dir "$work" --resume \
            --cfg-options "${opts[@]}" $TRAIN_ARGS
        step "test $config"
        "$PY" tools/test.py "$config" "$(cat "$work/last_checkpoint")" \
            --work-dir "$work" --dump "$work/test_dump.tmp.pkl" \
            --cfg-options "${opts[@]}"
        mv "$work/test_dump.tmp.pkl" "$work/test_dump.pkl"
    fi
    leaderboard+=(--model "$name" "$config" "$work/test_dump.pkl")
done

step "leaderboard (xsub_val of the synthetic dataset)"
"$PY" tools/analysis/leaderboard.py "${leaderboard[@]}" --chance \
    --out "$WORK/leaderboard.md"

for name in $MODELS; do
    [[ "$name" == *-* ]] || continue  # multi-modal models only
    work="$WORK/$name"
    model_opts "$name"
    if [[ ! -f "$work/missing_modality.md" ]]; then
        step "missing-modality test of $name (paper 001, Table 4)"
        "$PY" tools/analysis/missing_modality_eval.py \
            "configs/stfusion_synth_${name}.py" "$(cat "$work/last_checkpoint")" \
            --work-dir "$work/missing_modality" --out "$work/missing_modality.md" \
            --cfg-options "${opts[@]}" > "$work/missing_modality.log" 2>&1 \
            || { tail -20 "$work/missing_modality.log"; exit 1; }
    fi
    step "accuracy of $name with missing modalities"
    cat "$work/missing_modality.md"
done
