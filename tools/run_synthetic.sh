#!/usr/bin/env bash
# The main job on the embedded synthetic dataset, from a fresh machine:
#   1. install the stack into .venv (tools/setup_env.sh; idempotent),
#   2. generate the synthetic NTU-format dataset, build its annotation pkl and
#      check every file the configs will read (tools/analysis/check_data.py),
#   3. train each model of MODELS with MMAction2's runner (tools/train.py) on
#      the CPU and test it (tools/test.py --dump); by default the RGB and
#      depth space-time models, then the fused RGB+D (sum) model with its
#      encoders initialised from them (configs/stfusion_synth_*_unimodal-init),
#   4. test each multi-modal model with every subset of its modalities
#      (tools/analysis/missing_modality_eval.py; paper 001, Table 4),
#   5. print those tables, then the leaderboard (tools/analysis/leaderboard.py
#      --zoo --throughput: architecture, modalities, params, GFLOPs, clips/s
#      measured in this run, accuracies, each model's mean Δ with missing
#      modalities; WORK/leaderboard.md and .csv), and draw its figures: top-1
#      against GFLOPs (WORK/accuracy_gflops.png) and the robustness heatmap
#      (models x test-modality subsets; WORK/robustness.png).
# MODELS=all: the same for all six architectures, the default's three models
# included, each stage of the two-stage ones in order (below).
# Every step resumes: an existing dataset, a finished training, a test dump or
# a robustness report is reused, and an interrupted training continues from
# its last checkpoint.
#
# The console shows one line per model and epoch (loss, ETA of the model's
# schedule) and each test's accuracy. Everything else -- MMEngine's config
# dump, hook table, warnings -- goes to each model's work dir:
# WORK/<model>/train.log and test.log (the whole output of tools/train.py and
# tools/test.py; a failure prints its tail), WORK/<model>/<timestamp>/
# <timestamp>.log (MMEngine's own log; vis_data/scalars.json the curves),
# WORK/<model>/missing_modality.log.
#
# Environment knobs (defaults in brackets):
#   DATA [data/synthetic_ntu]  WORK [work_dirs/synthetic]
#   MODELS ["rgb depth rgb-depth_sum_unimodal-init"]  trained in this order;
#       each word is one of
#         NAME        configs/stfusion_synth_NAME.py (space-time fusion
#                     models); a *_unimodal-init model needs its modalities'
#                     models listed before it
#         actionmae   ActionMAE, R+D (configs/actionmae_synth_rgb-depth.py),
#                     encoders from the rgb and depth models (list them
#                     before it), fine-tuned 5 epochs at lr 1e-4 -- the
#                     recipe of tools/run_actionmae_robustness.sh
#         m_mixer     M-Mixer, R+D (configs/m_mixer_synth_rgb-depth.py)
#         epam_net    EPAM-Net's two stages: the RGB and pose X-ShiftNets
#                     (configs/epam_net_synth_{rgb,pose}.py), then EPAM-Net
#                     from them (configs/epam_net_synth.py)
#         tsmf        TSMF's two stages: the ST-GCN teacher
#                     (configs/tsmf_synth_teacher.py), then the student with
#                     the fixed teacher (configs/tsmf_synth.py; its score is
#                     the ensemble of both, eq. 1)
#         deformable_transformer   R+P (configs/deformable_transformer_synth.py;
#                     pose alone is not applicable in its robustness report)
#         all         rgb depth rgb-depth_sum_unimodal-init actionmae m_mixer
#                     epam_net tsmf deformable_transformer
#       Each model runs once (where it first appears); an unknown word stops
#       the job before the set-up. The stage-1 models (EPAM-Net's
#       X-ShiftNets, TSMF's teacher) have their own leaderboard rows.
#       The words other than stfusion NAMEs run with OMP_NUM_THREADS=1 unless
#       it is set (as in their tools/run_*_ablation.sh: their many small ops
#       are much slower when two OpenMP threads share a busy 2-core CPU).
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
ALL="rgb depth rgb-depth_sum_unimodal-init actionmae m_mixer epam_net tsmf"
ALL+=" deformable_transformer"
ARCHS=" actionmae m_mixer epam_net tsmf deformable_transformer "
models=()  # MODELS with "all" expanded, each word once, checked
for word in $MODELS; do
    [[ $word == all ]] && words=$ALL || words=$word
    for name in $words; do
        [[ " ${models[*]} " == *" $name "* ]] && continue
        if [[ "$ARCHS" != *" $name "* &&
              ! -f "configs/stfusion_synth_$name.py" ]]; then
            echo "MODELS: unknown model '$name' (neither" \
                "configs/stfusion_synth_$name.py nor one of${ARCHS% }, all)" >&2
            exit 1
        fi
        models+=("$name")
    done
done

# shellcheck source=tools/lib/synthetic_data.sh
source tools/lib/synthetic_data.sh
start_main_job configs/stfusion_synth_rgb-depth-ir_sum.py
# the pose-based architectures read the skeleton files too
declare -A main_config=(
    [epam_net]=configs/epam_net_synth.py [tsmf]=configs/tsmf_synth.py
    [deformable_transformer]=configs/deformable_transformer_synth.py)
for name in "${models[@]}"; do
    if [[ -n "${main_config[$name]:-}" ]]; then
        check_synthetic_data "${main_config[$name]}"
    fi
done

# The checkpoint of the model trained in WORK/$1, or a message naming it.
checkpoint_of() {
    local ckpt="$WORK/$1/last_checkpoint"
    [[ -f "$ckpt" ]] || { echo "$2 needs the trained $1 model ($ckpt):" \
        "list $1 before it in MODELS" >&2; exit 1; }
    cat "$ckpt"
}

board=()      # leaderboard.py's --model / --robustness arguments
reports=()    # robustness reports, printed at the end

# One stfusion model: configs/stfusion_synth_NAME.py in WORK/NAME.
run_stfusion() {
    local name=$1 m ckpt config="configs/stfusion_synth_$1.py"
    local opts=()
    if [[ "$name" == *_unimodal-init ]]; then
        for m in $(tr '-' ' ' <<< "${name%%_*}"); do
            ckpt=$(checkpoint_of "$m" "$name")
            opts+=("model.backbone.$m.init_cfg.checkpoint=$ckpt")
        done
    fi
    train_and_test "$config" "$WORK/$name" "${opts[@]}"
    board+=(--model "$name" "$config" "$WORK/$name/test_dump.pkl")
    [[ "$name" == *-* ]] || return 0  # multi-modal models only
    missing_modality_test "$config" "$WORK/$name" "$name" -- "${opts[@]}"
    board+=(--robustness "$name" "$WORK/$name/missing_modality.csv")
    reports+=("$WORK/$name")
}

# One model of another architecture: train, test, robustness report.
# model ROW CONFIG DIR [EVAL_ARG...] [-- OPTION...]
model() {
    local row=$1 config=$2 work="$WORK/$3"
    shift 3
    local eval_args=()
    while (( $# )) && [[ $1 != -- ]]; do eval_args+=("$1"); shift; done
    (( $# )) && shift
    train_and_test "$config" "$work" "$@"
    board+=(--model "$row" "$config" "$work/test_dump.pkl")
    missing_modality_test "$config" "$work" "$row" "${eval_args[@]}" -- "$@"
    board+=(--robustness "$row" "$work/missing_modality.csv")
    reports+=("$work")
}

# A stage that feeds the next one: trained and tested, in the leaderboard.
stage() {
    local row=$1 config=$2 work="$WORK/$3"
    train_and_test "$config" "$work"
    board+=(--model "$row" "$config" "$work/test_dump.pkl")
}

run_arch() {
    local -x OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
    local rgb depth pose teacher
    case $1 in
    actionmae)
        rgb=$(checkpoint_of rgb actionmae)
        depth=$(checkpoint_of depth actionmae)
        model "ActionMAE" configs/actionmae_synth_rgb-depth.py actionmae -- \
            "model.stream_checkpoints.rgb=$rgb" \
            "model.stream_checkpoints.depth=$depth" \
            train_cfg.max_epochs=5 train_cfg.val_interval=5 \
            optim_wrapper.optimizer.lr=1e-4 param_scheduler.1.T_max=4 \
            param_scheduler.1.end=5 param_scheduler.1.eta_min=1e-6 \
            default_hooks.checkpoint.interval=5 ;;
    m_mixer)
        model "M-Mixer" configs/m_mixer_synth_rgb-depth.py m_mixer ;;
    epam_net)
        stage "EPAM-Net stage 1: RGB-X-ShiftNet" configs/epam_net_synth_rgb.py \
            epam_net_rgb
        stage "EPAM-Net stage 1: Pose-X-ShiftNet" \
            configs/epam_net_synth_pose.py epam_net_pose
        rgb=$(cat "$WORK/epam_net_rgb/last_checkpoint")
        pose=$(cat "$WORK/epam_net_pose/last_checkpoint")
        model "EPAM-Net" configs/epam_net_synth.py epam_net -- \
            "model.stream_checkpoints.rgb=$rgb" \
            "model.stream_checkpoints.pose=$pose" ;;
    tsmf)
        stage "TSMF stage 1: ST-GCN teacher" configs/tsmf_synth_teacher.py \
            tsmf_teacher
        teacher=$(cat "$WORK/tsmf_teacher/last_checkpoint")
        model "TSMF (teacher + student)" configs/tsmf_synth.py tsmf -- \
            "model.teacher_checkpoint=$teacher" ;;
    deformable_transformer)  # pose alone: not applicable (in the report)
        model "3D deformable transformer" \
            configs/deformable_transformer_synth.py deformable_transformer \
            --decode all ;;
    esac
}

for name in "${models[@]}"; do
    if [[ "$ARCHS" == *" $name "* ]]; then
        run_arch "$name"
    else
        run_stfusion "$name"
    fi
done

for work in "${reports[@]}"; do
    printf '\n==> accuracy of %s with missing modalities\n' "${work#"$WORK/"}"
    cat "$work/missing_modality.md"
done

figures=(--scatter "$WORK/accuracy_gflops.png")
heatmap=""
if (( ${#reports[@]} )); then
    figures+=(--heatmap "$WORK/robustness.png")
    heatmap=", $WORK/robustness.png (robustness heatmap),"
    heatmap+=" $WORK/<model>/missing_modality.png"
fi
printf '\n==> where the files are (<model>: a folder of %s)\n' "$WORK"
printf '    logs:    %s\n' "<model>/train.log, test.log, missing_modality.log"\
" (whole output), <model>/<timestamp>/<timestamp>.log (MMEngine's log)"
printf '    figures: %s\n' \
    "$WORK/accuracy_gflops.png (top-1 against GFLOPs)$heatmap"
printf '    tables:  %s\n' "$WORK/leaderboard.md, .csv"
printf '\n==> leaderboard (xsub_val of the synthetic dataset; %s)\n' \
    "clips/s measured now, on this machine"
"$PY" tools/analysis/leaderboard.py "${board[@]}" --chance --zoo \
    --throughput --out "$WORK/leaderboard.md" --csv "$WORK/leaderboard.csv" \
    "${figures[@]}"
