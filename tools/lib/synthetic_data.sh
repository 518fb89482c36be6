# Sourced by the main jobs (tools/run_synthetic.sh, tools/run_epam_net_ablation.sh):
# the embedded synthetic NTU-format dataset, ready for MMAction2's tools.
#
#   prepare_synthetic_data DATA [SYNTH_ARGS...]
#       generates (or extends; resumes) DATA/raw with data_prep.synthetic_ntu
#       and rebuilds DATA/annotations.pkl (seconds), then sets the array
#       data_opts: the --cfg-options that point a config's three dataloaders
#       at them.
#   check_synthetic_data CONFIG
#       pre-flight check (tools/analysis/check_data.py) of every file CONFIG
#       reads.
# Needs PY (the environment's python) and the current directory at the root.
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
