#!/usr/bin/env bash
# The MoleculeNet / TU runs behind results/README.md, as run on a 2-core CPU machine.
# Same budget for both models on a dataset: max_epochs epochs, seeds 0-2, one CPU thread each.
#   [MODELS="plstm gine"] bash results/run_moleculenet.sh [datasets...]     (default: bbbp bace)
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${EPOCHS:-30}
SEEDS=${SEEDS:-0-2}
DATA_DIR=${DATA_DIR:-../shared/data}
for name in ${@:-bbbp bace}; do
  for model in ${MODELS:-plstm gine}; do
    python train.py --config "configs/ogbg-mol${name}.yaml" --model "$model" --seeds "$SEEDS" \
      --trainer.max_epochs "$EPOCHS" --num_threads 1 --data.data_dir "$DATA_DIR" \
      --trainer.enable_progress_bar false
    python results/summarize.py
  done
done
