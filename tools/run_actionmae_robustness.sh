#!/usr/bin/env bash
# Paper 001's central claim in miniature, on the embedded synthetic dataset,
# over several seeds -- everything through MMAction2's runner: ActionMAE
# (configs/actionmae_synth_rgb-depth.py) against the transformer-fusion
# baseline without it (configs/stfusion_synth_rgb-depth_transformer.py),
# both trained on R+D and tested with R+D, R and D
# (tools/analysis/missing_modality_eval.py). The leaderboard prints each
# model's accuracy and mean Δ as mean ± standard deviation over the seeds
# and draws the robustness heatmap. Every step resumes.
#
#   bash tools/run_actionmae_robustness.sh
#
# Environment knobs (defaults in brackets):
#   SEEDS ["0 1 2"]  DATA [data/synthetic_ntu]  WORK [work_dirs/actionmae_robustness]
#   MODALITIES [rgb-depth]  (rgb-depth-ir: the R+D+I models)
#   SYNTH_ARGS [""]  args for data_prep.synthetic_ntu (as tools/run_synthetic.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEEDS=${SEEDS:-"0 1 2"}
DATA=${DATA:-data/synthetic_ntu}
WORK=${WORK:-work_dirs/actionmae_robustness}
MODALITIES=${MODALITIES:-rgb-depth}
SYNTH_ARGS=${SYNTH_ARGS:-}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

# shellcheck source=tools/lib/synthetic_data.sh
source tools/lib/synthetic_data.sh
start_main_job "configs/actionmae_synth_$MODALITIES.py"

declare -A configs=(
    [transformer]="configs/stfusion_synth_${MODALITIES}_transformer.py"
    [actionmae]="configs/actionmae_synth_$MODALITIES.py")
board=()
for seed in $SEEDS; do
    for name in transformer actionmae; do
        config=${configs[$name]}
        w="$WORK/seed$seed/$name"
        train_and_test "$config" "$w" randomness.seed="$seed"
        if [[ ! -f "$w/missing_modality.md" ]]; then
            printf '\n==> missing-modality test of %s\n' "$w"
            "$PY" tools/analysis/missing_modality_eval.py "$config" \
                "$(cat "$w/last_checkpoint")" --name "$name" \
                --work-dir "$w/missing_modality" --out "$w/missing_modality.md" \
                --cfg-options "${data_opts[@]}" > "$w/missing_modality.log" 2>&1 \
                || { tail -c 3000 "$w/missing_modality.log"; exit 1; }
        fi
        board+=(--model "$name" "$config" "$w/test_dump.pkl"
                --robustness "$name" "$w/missing_modality.csv")
    done
done

printf '\n==> %s\n' "ActionMAE vs transformer fusion, ${MODALITIES} (seeds: $SEEDS)"
"$PY" tools/analysis/leaderboard.py "${board[@]}" --chance \
    --out "$WORK/leaderboard.md" --heatmap "$WORK/robustness.png"
echo "heatmap: $WORK/robustness.png"
