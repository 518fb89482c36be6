#!/usr/bin/env bash
# M-Mixer's Table IV (paper 000) in miniature, on the embedded synthetic
# dataset, over several seeds -- everything through MMAction2's runner,
# R+D, ResNet18 from scratch (configs/m_mixer_synth_rgb-depth*.py):
#   MCU only      pooled content (eq. 21) + concatenation (the conference model)
#   + bank        pooled content + multi-modal feature bank
#   + CFEM        CFEM + concatenation
#   M-Mixer       CFEM + MCU + bank (the full model)
#   M-Mixer, W_u = I   the full model with the bank's update matrix started
#                 at the identity (MultiModalFeatureBank(update_init=...))
#   RGB / depth stream   per-stream classifiers (eq. 22-23) trained on the
#                 frozen full model, each stream tested alone (Table III)
# and the full model's robustness report (R+D, R, D;
# tools/analysis/missing_modality_eval.py). The leaderboard prints every row
# as mean +- standard deviation over the seeds and draws the robustness
# heatmap. Every step resumes.
#
#   bash tools/run_m_mixer_ablation.sh
#
# Environment knobs (defaults in brackets):
#   SEEDS ["0 1 2"]  DATA [data/synthetic_ntu]  WORK [work_dirs/m_mixer_ablation]
#   SYNTH_ARGS [""]  args for data_prep.synthetic_ntu (as tools/run_synthetic.sh)
#   ROWS ["mcu-only mcu-bank mcu-cfem full full-identity streams robustness"]
#        the steps to run and tabulate (streams and robustness need full)
#   OMP_NUM_THREADS [1]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEEDS=${SEEDS:-"0 1 2"}
DATA=${DATA:-data/synthetic_ntu}
WORK=${WORK:-work_dirs/m_mixer_ablation}
SYNTH_ARGS=${SYNTH_ARGS:-}
ROWS=" ${ROWS:-mcu-only mcu-bank mcu-cfem full full-identity streams robustness} "
want() { [[ $ROWS == *" $1 "* ]]; }
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

# shellcheck source=tools/lib/synthetic_data.sh
source tools/lib/synthetic_data.sh
full=configs/m_mixer_synth_rgb-depth.py
start_main_job "$full"

declare -A rows=(
    [mcu-only]="1 MCU only (pool + concat)"
    [mcu-bank]="2 + bank (pool + bank)"
    [mcu-cfem]="3 + CFEM (CFEM + concat)"
    [full]="4 M-Mixer (CFEM + MCU + bank)"
    [full-identity]="4b M-Mixer, bank W_u = I at start")
board=()
for seed in $SEEDS; do
    w="$WORK/seed$seed"
    s=(randomness.seed="$seed")
    for v in mcu-only mcu-bank mcu-cfem full; do
        # the full model also when its streams or its report are wanted
        want "$v" || { [[ $v == full ]] && { want streams || want robustness; }; } \
            || continue
        config=configs/m_mixer_synth_rgb-depth_$v.py
        [[ $v == full ]] && config=$full
        train_and_test "$config" "$w/$v" "${s[@]}"
        board+=(--model "${rows[$v]}" "$config" "$w/$v/test_dump.pkl")
    done
    if want full-identity; then
        train_and_test "$full" "$w/full-identity" "${s[@]}" \
            model.neck.fusion_cfg.update_init=identity
        board+=(--model "${rows[full-identity]}" "$full" "$w/full-identity/test_dump.pkl")
    fi
    # per-stream classifiers on the frozen full model, one stream at a time
    streams=configs/m_mixer_synth_rgb-depth_streams.py
    want streams && train_and_test "$streams" "$w/streams" "${s[@]}" \
        model.init_cfg.checkpoint="$(cat "$w/full/last_checkpoint")"
    for m in rgb depth; do
        want streams || break
        if [[ ! -f "$w/streams_$m/test_dump.pkl" ]]; then
            mkdir -p "$w/streams_$m"
            test_and_dump "$streams" "$w/streams_$m" \
                "$(cat "$w/streams/last_checkpoint")" \
                "model.neck.stream_outputs=['$m']"
        fi
    done
    want streams && board+=(
        --model "5 RGB stream of #4 (eq. 22)" "$streams" "$w/streams_rgb/test_dump.pkl"
        --model "6 depth stream of #4 (eq. 22)" "$streams" "$w/streams_depth/test_dump.pkl")
    want robustness || continue
    if [[ ! -f "$w/full/missing_modality.md" ]]; then
        printf '\n==> missing-modality test of %s\n' "$w/full"
        "$PY" tools/analysis/missing_modality_eval.py "$full" \
            "$(cat "$w/full/last_checkpoint")" --name "M-Mixer" \
            --work-dir "$w/full/missing_modality" --out "$w/full/missing_modality.md" \
            --cfg-options "${data_opts[@]}" > "$w/full/missing_modality.log" 2>&1 \
            || { tail -c 3000 "$w/full/missing_modality.log"; exit 1; }
    fi
    board+=(--robustness "${rows[full]}" "$w/full/missing_modality.csv")
done

printf '\n==> %s\n' "M-Mixer Table IV in miniature (xsub_val of the synthetic dataset; seeds: $SEEDS)"
heatmap=()
want robustness && heatmap=(--heatmap "$WORK/robustness.png")
"$PY" tools/analysis/leaderboard.py "${board[@]}" --chance \
    --out "$WORK/ablation.md" "${heatmap[@]}"
