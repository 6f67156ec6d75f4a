#!/usr/bin/env bash
# Ablations of PLSTMNet (issue 5, item 5), decided on the validation metric only: DAG orientation,
# P only / D only / P+D blocks, the P-mode normalisation group, the number of blocks, both
# orientations in every layer, sum or attention pooling, the hidden width, the learning rate, the
# transition init, the degree encoding, batch norm on the graph embeddings, a virtual node and
# dropout.
# Each variant changes one option of the dataset's config (a MoleculeNet short name as in
# run_moleculenet.sh, or a TU name: folds FOLDS, seed 0); EPOCHS epochs (default 30), one CPU
# thread. VARIANTS picks some (default: all). Once a new variant has three runs on a dataset,
# results/summarize.py wants a decision for it in ABLATION_DECISIONS.
#   [DATASET=bbbp] [SEEDS=0] [FOLDS="0 1 2"] [EPOCHS=30] [VARIANTS="default lr-3e-4"] \
#     [DATA_DIR=../shared/data] bash results/run_ablations.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DATASET=${DATASET:-bbbp}
SEEDS=${SEEDS:-0}
EPOCHS=${EPOCHS:-30}
VARIANTS=${VARIANTS:-}
source results/cpu_training.sh
run() {
  local name=$1
  shift
  if [[ -n "$VARIANTS" && " $VARIANTS " != *" $name "* ]]; then
    return
  fi
  train_runs "$(config_of "$DATASET")" "$@" --model plstm --name "$name" \
    --trainer.max_epochs "$EPOCHS" --output_dir results/ablations
}
run default
run order-index --data.dag_order index
run order-bfs --data.dag_order bfs
run order-dfs --data.dag_order dfs
run blocks-P --plstm.block_modes P
run blocks-D --plstm.block_modes D
run norm-fanin --plstm.norm_group fanin
run blocks-1 --plstm.num_layers 1
run blocks-3 --plstm.num_layers 3
run bidirectional --plstm.bidirectional true
run pool-sum --plstm.pooling sum
run pool-attention --plstm.pooling attention
run width-192 --plstm.hidden_channels 192
run width-48 --plstm.hidden_channels 48
run width-32 --plstm.hidden_channels 32
run lr-3e-4 --optim.lr 3e-4
run transition-spread --plstm.transition_init spread
run degree-off --plstm.degree_encoding false
run virtual-node --plstm.virtual_node true
run dropout-0.2 --plstm.dropout 0.2
# results/ablations/*/readout-bn: run as `--plstm.readout_norm true` while the default was off
run readout-bn-off --plstm.readout_norm false
# results/ablations/*/default-<mark>: `default` with an adopted option set back to the value it
# replaced (`--plstm.pooling mean`, `--optim.lr 1e-3`), run with another --output_dir and moved
# here, to check an adoption again after a featurisation change
python results/summarize.py
