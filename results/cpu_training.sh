# Sourced by the run scripts: where the data are read and cached, and one training on one CPU
# thread (the config comes first among the arguments: options after it override its values).
DATA_DIR=${DATA_DIR:-../shared/data}
CACHE_DIR=${CACHE_DIR:-datasets/cache}  # processed datasets: not inside the shared data
train_one_thread() {
  python train.py "$@" --num_threads 1 --data.data_dir "$DATA_DIR" --data.cache_dir "$CACHE_DIR" \
    --trainer.enable_progress_bar false
}
