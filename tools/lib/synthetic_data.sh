# Sourced by the main jobs (tools/run_synthetic.sh, tools/run_epam_net_ablation.sh,
# tools/run_actionmae_robustness.sh): the embedded synthetic NTU-format
# dataset, ready for MMAction2's tools, and resumable train + test steps.
#
#   start_main_job CONFIG
#       tools/setup_env.sh, PY, then prepare_synthetic_data "$DATA"
#       $SYNTH_ARGS and check_synthetic_data CONFIG (the callers set DATA and
#       SYNTH_ARGS).
#   prepare_synthetic_data DATA [SYNTH_ARGS...]
#       generates (or extends; resumes) DATA/raw with data_prep.synthetic_ntu
#       and rebuilds DATA/annotations.pkl (seconds), then sets the array
#       data_opts: the --cfg-options that point a config's three dataloaders
#       at them.
#   check_synthetic_data CONFIG
#       pre-flight check (tools/analysis/check_data.py) of every file CONFIG
#       reads.
#   train_and_test / test_and_dump / missing_modality_test / logged: below.
# Needs the current directory at the repository root (and PY, the
# environment's python, which start_main_job sets).
start_main_job() {
    bash tools/setup_env.sh
    PY="$PWD/.venv/bin/python"
    # shellcheck disable=SC2086
    prepare_synthetic_data "$DATA" $SYNTH_ARGS
    check_synthetic_data "$1"
}

prepare_synthetic_data() {
    local data=$1
    shift
    printf '\n==> %s\n' "synthetic dataset -> $data/raw"
    "$PY" -m data_prep.synthetic_ntu --out "$data/raw" "$@"
    # Always rebuilt (seconds): the raw tree may have grown since the last run.
    printf '\n==> %s\n' "annotations -> $data/annotations.pkl"
    "$PY" -m data_prep.ntu.build_annotations --raw-root "$data/raw" \
        --dataset ntu60 --out "$data/annotations.pkl"
    data_opts=()
    local split
    for split in train val test; do
        data_opts+=("${split}_dataloader.dataset.ann_file=$data/annotations.pkl"
                    "${split}_dataloader.dataset.data_root=$data/raw")
    done
}

check_synthetic_data() {
    printf '\n==> %s\n' "pre-flight check of the files $1 reads"
    "$PY" tools/analysis/check_data.py "$1" --no-progress \
        --cfg-options "${data_opts[@]}"
}

# train_and_test CONFIG WORK_DIR [OPTION...]: tools/train.py (resumed), then
# tools/test.py --dump WORK_DIR/test_dump.pkl; skipped once the dump exists.
# OPTIONs are --cfg-options for both (after data_opts); the words of
# $TRAIN_ARGS (e.g. "--cfg-options train_cfg.max_epochs=1"; default none) go
# to tools/train.py only. The console gets one line per epoch (loss, ETA) and
# the test accuracy; the whole output (config dump, hooks, warnings) goes to
# WORK_DIR/train.log and WORK_DIR/test.log (see logged), MMEngine's own log
# to WORK_DIR/<timestamp>/<timestamp>.log.
train_and_test() {
    local config=$1 work=$2
    shift 2
    [[ -f "$work/test_dump.pkl" ]] && return 0
    printf '\n==> train %s -> %s\n' "$config" "$work"
    # shellcheck disable=SC2086
    logged "$work/train.log" tools/train.py "$config" --work-dir "$work" \
        --resume --cfg-options "${data_opts[@]}" "$@" ${TRAIN_ARGS:-}
    test_and_dump "$config" "$work" "$(cat "$work/last_checkpoint")" "$@"
}

# test_and_dump CONFIG WORK_DIR CHECKPOINT [OPTION...]
test_and_dump() {
    local config=$1 work=$2 ckpt=$3
    shift 3
    logged --no-done "$work/test.log" tools/test.py "$config" "$ckpt" \
        --work-dir "$work" --dump "$work/test_dump.tmp.pkl" \
        --cfg-options "${data_opts[@]}" "$@"
    mv "$work/test_dump.tmp.pkl" "$work/test_dump.pkl"
}

# missing_modality_test CONFIG WORK_DIR NAME [EVAL_ARG...] [-- OPTION...]:
# tools/analysis/missing_modality_eval.py of WORK_DIR's last checkpoint
# (EVAL_ARGs, e.g. --decode all; OPTIONs: --cfg-options after data_opts) ->
# WORK_DIR/missing_modality.{md,csv,png}, named NAME; skipped once the
# report exists. Log: WORK_DIR/missing_modality.log.
missing_modality_test() {
    local config=$1 work=$2 name=$3
    shift 3
    local eval_args=()
    while (( $# )) && [[ $1 != -- ]]; do eval_args+=("$1"); shift; done
    (( $# )) && shift
    [[ -f "$work/missing_modality.md" ]] && return 0
    printf '\n==> missing-modality test of %s (%s)\n' "$name" "$work"
    logged --quiet "$work/missing_modality.log" \
        tools/analysis/missing_modality_eval.py "$config" \
        "$(cat "$work/last_checkpoint")" --name "$name" "${eval_args[@]}" \
        --work-dir "$work/missing_modality" --out "$work/missing_modality.md" \
        --cfg-options "${data_opts[@]}" "$@"
}

# logged [--quiet | --no-done] LOG SCRIPT [ARG...]: "$PY" SCRIPT ARG... with
# its whole output appended to LOG and, on the console, one line per training
# epoch and per val / test pass, then "done in ..." and LOG's path
# (tools/lib/progress_filter.py; --quiet: only that last line, --no-done:
# without it), each line starting with the run's name (LOG's folder relative
# to $WORK). On failure: the output's tail, then the script exits.
logged() {
    local flags=()
    [[ $1 == --* ]] && { flags+=("$1"); shift; }
    local log=$1 label
    shift
    label=$(dirname "$log")
    label=${label#"${WORK:-}/"}
    mkdir -p "$(dirname "$log")"
    "$PY" tools/lib/progress_filter.py --log "$log" --label "$label" \
        "${flags[@]}" -- "$PY" "$@" || exit $?
}
