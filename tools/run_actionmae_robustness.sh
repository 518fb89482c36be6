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
# INIT=unimodal (default): both models start their encoders from the same
# uni-modal synthetic models (the counterpart of the paper's pre-trained
# encoders, Table 7d "PT (S+T)"; model.stream_checkpoints) and are
# fine-tuned for 5 epochs at lr 1e-4 -- the recipe of
# configs/stfusion_synth_rgb-depth_sum_unimodal-init.py; the seeds vary the
# fine-tuning. The uni-modal models are those of tools/run_synthetic.sh
# (UNIMODAL_WORK), trained here (seed 0) when absent.
# INIT=scratch: the synthetic configs as they are (15 epochs from scratch).
#
#   bash tools/run_actionmae_robustness.sh
#
# Environment knobs (defaults in brackets):
#   SEEDS ["0 1 2"]  DATA [data/synthetic_ntu]  WORK [work_dirs/actionmae_robustness_$INIT]
#   MODALITIES [rgb-depth]  (rgb-depth-ir: the R+D+I models)
#   INIT [unimodal]  UNIMODAL_WORK [work_dirs/synthetic]
#   SYNTH_ARGS [""]  args for data_prep.synthetic_ntu (as tools/run_synthetic.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEEDS=${SEEDS:-"0 1 2"}
DATA=${DATA:-data/synthetic_ntu}
INIT=${INIT:-unimodal}
WORK=${WORK:-work_dirs/actionmae_robustness_$INIT}
MODALITIES=${MODALITIES:-rgb-depth}
UNIMODAL_WORK=${UNIMODAL_WORK:-work_dirs/synthetic}
SYNTH_ARGS=${SYNTH_ARGS:-}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

# shellcheck source=tools/lib/synthetic_data.sh
source tools/lib/synthetic_data.sh
start_main_job "configs/actionmae_synth_$MODALITIES.py"

init=()
if [[ "$INIT" == unimodal ]]; then
    for m in ${MODALITIES//-/ }; do
        if [[ ! -f "$UNIMODAL_WORK/$m/last_checkpoint" ]]; then
            train_and_test "configs/stfusion_synth_$m.py" "$UNIMODAL_WORK/$m"
        fi
        init+=("model.stream_checkpoints.$m=$(cat "$UNIMODAL_WORK/$m/last_checkpoint")")
    done
    # the fine-tuning schedule of stfusion_synth_rgb-depth_sum_unimodal-init.py
    init+=(train_cfg.max_epochs=5 train_cfg.val_interval=5
           optim_wrapper.optimizer.lr=1e-4 param_scheduler.1.T_max=4
           param_scheduler.1.end=5 param_scheduler.1.eta_min=1e-6
           default_hooks.checkpoint.interval=5)
fi
declare -A configs=(
    [transformer]="configs/stfusion_synth_${MODALITIES}_transformer.py"
    [actionmae]="configs/actionmae_synth_$MODALITIES.py")
board=()
for seed in $SEEDS; do
    for name in transformer actionmae; do
        config=${configs[$name]}
        w="$WORK/seed$seed/$name"
        train_and_test "$config" "$w" randomness.seed="$seed" "${init[@]}"
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

printf '\n==> %s\n' "ActionMAE vs transformer fusion, ${MODALITIES}, $INIT init (seeds: $SEEDS)"
"$PY" tools/analysis/leaderboard.py "${board[@]}" --chance \
    --out "$WORK/leaderboard.md" --heatmap "$WORK/robustness.png"
echo "heatmap: $WORK/robustness.png"
