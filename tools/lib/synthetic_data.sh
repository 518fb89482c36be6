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
#   train_and_test / test_and_dump: below.
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
# OPTIONs are --cfg-options for both (after data_opts). Logs: WORK_DIR.log.
train_and_test() {
    local config=$1 work=$2
    shift 2
    [[ -f "$work/test_dump.pkl" ]] && return 0
    printf '\n==> train %s -> %s\n' "$config" "$work"
    mkdir -p "$(dirname "$work")"
    "$PY" tools/train.py "$config" --work-dir "$work" --resume \
        --cfg-options "${data_opts[@]}" "$@" > "$work.log" 2>&1 \
        || { tail -c 3000 "$work.log"; exit 1; }
    test_and_dump "$config" "$work" "$(cat "$work/last_checkpoint")" "$@"
}

# test_and_dump CONFIG WORK_DIR CHECKPOINT [OPTION...]
test_and_dump() {
    local config=$1 work=$2 ckpt=$3
    shift 3
    "$PY" tools/test.py "$config" "$ckpt" --work-dir "$work" \
        --dump "$work/test_dump.tmp.pkl" --cfg-options "${data_opts[@]}" "$@" \
        > "$work/test.log" 2>&1 || { tail -c 3000 "$work/test.log"; exit 1; }
    mv "$work/test_dump.tmp.pkl" "$work/test_dump.pkl"
}
