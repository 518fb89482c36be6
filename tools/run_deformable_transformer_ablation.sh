#!/usr/bin/env bash
# The 3D deformable transformer's Tables 4 and 5 (paper 004) in miniature, on
# the embedded synthetic dataset (R + COCO-17 2D joints), over several seeds,
# through MMAction2's runner (configs/deformable_transformer_synth*.py: C = 16,
# 8 frames of 64 x 64, k = 3, L = 2):
#   Table 4  (1) joint + temporal   (2) 3D deformable   (3) 3D def + temporal
#            (4) 3D def + joint     all three (the full model)
#   Table 5  no modal tokens   one shared token   cross-modal tokens (= full)
# and the full model's robustness report (R+P, R; P alone is not applicable:
# the joint tokens pool RGB features). The leaderboard prints each row as
# mean +- standard deviation over the seeds. Every step resumes.
#
#   bash tools/run_deformable_transformer_ablation.sh
#
# Environment knobs (defaults in brackets):
#   SEEDS ["0 1 2"]  VARIANTS [all seven rows: joint-temporal deformable
#   deformable-temporal deformable-joint full no-tokens single-token]
#   DATA [data/synthetic_ntu]
#   WORK [work_dirs/deformable_transformer_ablation]
#   SYNTH_ARGS [""]  args for data_prep.synthetic_ntu (as tools/run_synthetic.sh)
#   OMP_NUM_THREADS [1]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEEDS=${SEEDS:-"0 1 2"}
DATA=${DATA:-data/synthetic_ntu}
WORK=${WORK:-work_dirs/deformable_transformer_ablation}
SYNTH_ARGS=${SYNTH_ARGS:-}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

# shellcheck source=tools/lib/synthetic_data.sh
source tools/lib/synthetic_data.sh
full=configs/deformable_transformer_synth.py
start_main_job "$full"

all_variants="joint-temporal deformable deformable-temporal deformable-joint"
all_variants+=" full no-tokens single-token"
read -r -a variants <<< "${VARIANTS:-$all_variants}"
declare -A rows=(
    [joint-temporal]="T4 (1) joint + temporal"
    [deformable]="T4 (2) 3D deformable"
    [deformable-temporal]="T4 (3) 3D def + temporal"
    [deformable-joint]="T4 (4) 3D def + joint"
    [full]="T4 all = T5 cross-modal tokens"
    [no-tokens]="T5 no modal tokens"
    [single-token]="T5 one shared token")
board=()
for seed in $SEEDS; do
    w="$WORK/seed$seed"
    for v in "${variants[@]}"; do
        config=configs/deformable_transformer_synth_$v.py
        [[ $v == full ]] && config=$full
        train_and_test "$config" "$w/$v" randomness.seed="$seed"
        board+=(--model "${rows[$v]}" "$config" "$w/$v/test_dump.pkl")
    done
    [[ " ${variants[*]} " == *" full "* ]] || continue
    if [[ ! -f "$w/full/missing_modality.md" ]]; then
        printf '\n==> missing-modality test of %s\n' "$w/full"
        "$PY" tools/analysis/missing_modality_eval.py "$full" \
            "$(cat "$w/full/last_checkpoint")" --name "3D deformable" \
            --decode all --work-dir "$w/full/missing_modality" \
            --out "$w/full/missing_modality.md" \
            --cfg-options "${data_opts[@]}" > "$w/full/missing_modality.log" 2>&1 \
            || { tail -c 3000 "$w/full/missing_modality.log"; exit 1; }
    fi
    board+=(--robustness "${rows[full]}" "$w/full/missing_modality.csv")
done

printf '\n==> %s\n' "3D deformable transformer, Tables 4-5 in miniature (xsub_val of the synthetic dataset; seeds: $SEEDS)"
"$PY" tools/analysis/leaderboard.py "${board[@]}" --chance \
    --out "$WORK/ablation.md" --heatmap "$WORK/robustness.png"
