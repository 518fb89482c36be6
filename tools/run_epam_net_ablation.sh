#!/usr/bin/env bash
# EPAM-Net's Table 3 (paper 002) in miniature, on the embedded synthetic
# dataset, over several seeds -- everything through MMAction2's runner:
#   1. Pose-X-ShiftNet      stage 1, pose stream  (configs/epam_net_synth_pose.py)
#   2. RGB-X-ShiftNet       stage 1, RGB stream   (configs/epam_net_synth_rgb.py)
#   3. score fusion         the two stage-1 models joined, no attention, no
#                           fine-tuning (tools/analysis/init_checkpoint.py)
#   3b. score fusion, fine-tuned   stage 2 without the attention block
#                           (configs/epam_net_synth.py, model.neck=None)
#   4. EPAM-Net             stage 2 with the attention block (configs/epam_net_synth.py)
# Each is tested (tools/test.py --dump) and the leaderboard prints every
# row as mean +- standard deviation over the seeds. Every step resumes.
#
#   bash tools/run_epam_net_ablation.sh
#
# Environment knobs (defaults in brackets):
#   SEEDS ["0 1 2"]  DATA [data/synthetic_ntu]  WORK [work_dirs/epam_net_ablation]
#   SYNTH_ARGS [""]  args for data_prep.synthetic_ntu (as tools/run_synthetic.sh)
#   OMP_NUM_THREADS [1]  one thread per process: EPAM-Net's many small ops
#       are ~20x slower when two OpenMP threads fight for a busy 2-core CPU
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEEDS=${SEEDS:-"0 1 2"}
DATA=${DATA:-data/synthetic_ntu}
WORK=${WORK:-work_dirs/epam_net_ablation}
SYNTH_ARGS=${SYNTH_ARGS:-}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

# shellcheck source=tools/lib/synthetic_data.sh
source tools/lib/synthetic_data.sh
start_main_job configs/epam_net_synth.py

board=()
for seed in $SEEDS; do
    w="$WORK/seed$seed"
    mkdir -p "$w"
    s=(randomness.seed="$seed")
    train_and_test configs/epam_net_synth_pose.py "$w/pose" "${s[@]}"
    train_and_test configs/epam_net_synth_rgb.py "$w/rgb" "${s[@]}"
    streams=(model.stream_checkpoints.rgb="$(cat "$w/rgb/last_checkpoint")"
             model.stream_checkpoints.pose="$(cat "$w/pose/last_checkpoint")")
    if [[ ! -f "$w/fusion/test_dump.pkl" ]]; then
        printf '\n==> score fusion of the stage-1 models -> %s\n' "$w/fusion"
        mkdir -p "$w/fusion"
        "$PY" tools/analysis/init_checkpoint.py configs/epam_net_synth.py \
            "$w/fusion/init.pth" --seed "$seed" \
            --cfg-options model.neck=None "${streams[@]}"
        test_and_dump configs/epam_net_synth.py "$w/fusion" "$w/fusion/init.pth" \
            model.neck=None
    fi
    train_and_test configs/epam_net_synth.py "$w/fusion_finetuned" "${s[@]}" \
        model.neck=None "${streams[@]}"
    train_and_test configs/epam_net_synth.py "$w/epam_net" "${s[@]}" "${streams[@]}"
    board+=(--model "1 Pose-X-ShiftNet" configs/epam_net_synth_pose.py "$w/pose/test_dump.pkl"
            --model "2 RGB-X-ShiftNet" configs/epam_net_synth_rgb.py "$w/rgb/test_dump.pkl"
            --model "3 score fusion (#1, #2)" configs/epam_net_synth.py "$w/fusion/test_dump.pkl"
            --model "3b score fusion, fine-tuned" configs/epam_net_synth.py "$w/fusion_finetuned/test_dump.pkl"
            --model "4 EPAM-Net (attention)" configs/epam_net_synth.py "$w/epam_net/test_dump.pkl")
done

printf '\n==> %s\n' "Table 3 in miniature (xsub_val of the synthetic dataset; seeds: $SEEDS)"
"$PY" tools/analysis/leaderboard.py "${board[@]}" --chance \
    --out "$WORK/ablation.md"
