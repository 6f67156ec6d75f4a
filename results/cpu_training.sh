# Sourced by the run scripts: where the data are read and cached, one training on one CPU thread
# (the config comes first among the arguments: options after it override its values), and the
# runs of one dataset.
DATA_DIR=${DATA_DIR:-../shared/data}
CACHE_DIR=${CACHE_DIR:-datasets/cache}  # processed datasets: not inside the shared data
SEEDS=${SEEDS:-0-2}
FOLDS=${FOLDS:-0 1 2 3 4 5 6 7 8 9}
train_one_thread() {
  python train.py "$@" --num_threads 1 --data.data_dir "$DATA_DIR" --data.cache_dir "$CACHE_DIR" \
    --trainer.enable_progress_bar false
}
# The config of a dataset name: configs/NAME.yaml (TU, peptides-func, or an OGB name), else
# configs/ogbg-molNAME.yaml (MoleculeNet short names: bbbp, hiv, ...).
config_of() {
  local config="configs/$1.yaml"
  [[ -f "$config" ]] || config="configs/ogbg-mol$1.yaml"
  echo "$config"
}
# All runs of a config: a TU config (it sets a fold) runs the paper's protocol, folds FOLDS with
# seed 0; any other runs seeds SEEDS on its official split.
train_runs() {
  local config=$1
  shift
  if grep -q '^ *fold:' "$config"; then
    for fold in $FOLDS; do
      train_one_thread --config "$config" "$@" --data.fold "$fold" --seeds 0
    done
  else
    train_one_thread --config "$config" "$@" --seeds "$SEEDS"
  fi
}
