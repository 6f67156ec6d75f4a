#!/usr/bin/env bash
# Ablations of PLSTMNet (issue 5, item 5), decided on the validation metric only: DAG orientation,
# P only / D only / P+D blocks, the P-mode normalisation group, the number of blocks, both
# orientations in every layer, sum or attention pooling, the hidden width, the learning rate, the
# transition init, the degree encoding, batch norm on the graph embeddings, a virtual node and
# dropout.
# Each variant changes one option of the dataset's config (a MoleculeNet short name as in
# run_moleculenet.sh, or a TU name: folds FOLDS, seed 0); EPOCHS epochs (default 30), one CPU
# thread. VARIANTS picks some (default: all but the replaced defaults below). Once a new variant
# has three runs on a dataset, results/summarize.py wants a decision for it in ABLATION_DECISIONS
# (results/report/decisions.py).
# Options given to the script go to every training (peptides-func's CPU budget:
# `DATASET=peptides-func EPOCHS=3 bash results/run_ablations.sh --optim.warmup_epochs 1`).
#   [DATASET=bbbp] [SEEDS=0] [FOLDS="0 1 2"] [EPOCHS=30] [VARIANTS="default lr-3e-4"] \
#     [DATA_DIR=../shared/data] bash results/run_ablations.sh [train.py options...]
set -euo pipefail
cd "$(dirname "$0")/.."
DATASET=${DATASET:-bbbp}
SEEDS=${SEEDS:-0}
EPOCHS=${EPOCHS:-30}
VARIANTS=${VARIANTS:-}
ABLATIONS=${ABLATIONS:-results/ablations}
COMMON=("$@")
source results/cpu_training.sh
# train NAME OUTPUT_DIR [options...]: the dataset's pLSTM runs with the options, named NAME
train() {
  local name=$1 output=$2
  shift 2
  train_runs "$(config_of "$DATASET")" "$@" --model plstm --name "$name" \
    --trainer.max_epochs "$EPOCHS" ${COMMON[@]+"${COMMON[@]}"} --output_dir "$output"
}
run() {
  local name=$1
  shift
  if [[ -n "$VARIANTS" && " $VARIANTS " != *" $name "* ]]; then
    return
  fi
  train "$name" "$ABLATIONS" "$@"
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
run readout-bn --plstm.readout_norm true
# `default` with an adopted option set back to the value it replaced, into <dataset>/default-<mark>
# (results/replaced_default.py): the runs an adopted variant is compared with, made again to check
# the adoption, after a featurisation change say. Only where VARIANTS names them, and only on a
# dataset that adopted the option: elsewhere they would be runs of today's default.
replaced() {
  local name=$1 options output runs target
  if [[ " $VARIANTS " != *" $name "* ]]; then
    return
  fi
  options=$(python results/replaced_default.py "$(config_of "$DATASET")" "$name")
  output=$(mktemp -d)
  # shellcheck disable=SC2086  # options holds an option and its value
  train default "$output" $options
  for runs in "$output"/*/default; do  # <dataset>/default: the run files and their summary
    target="$ABLATIONS/$(basename "$(dirname "$runs")")/$name"
    mkdir -p "$target"
    mv "$runs"/* "$target/"
  done
  rm -r "$output"
}
replaced default-canonical-order
replaced default-lr-1e-3
replaced default-mean-pooling
replaced default-no-readout-bn
python results/summarize.py
