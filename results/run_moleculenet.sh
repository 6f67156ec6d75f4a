#!/usr/bin/env bash
# The MoleculeNet / TU runs behind results/README.md, as run on a 2-core CPU machine.
# Same budget for both models on a dataset: the config's max_epochs (or EPOCHS), one CPU thread.
# MoleculeNet names (bbbp, bace, ...) and peptides-func run seeds SEEDS on the official split; TU
# names (MUTAG, NCI1, PROTEINS, PTC_FM: their configs set a fold) run the paper's 10-fold
# protocol: folds FOLDS, seed 0. Runs go one after another, so each result lands as it finishes;
# on a GPU (Lightning's accelerator "auto" picks it) nine pLSTM trainings sharing one H200 each
# stepped 7.6x slower, barely more throughput than one (benchmarks/README.md).
#   [MODELS="plstm gine"] [EPOCHS=30] bash results/run_moleculenet.sh [datasets...]  (default: bbbp bace)
#   (Peptides-func as LRGB, on a GPU, seeds 0-2 of both models: bash results/run_moleculenet.sh peptides-func)
# (ogbg-molmuv at 10 epochs, both models: a GINE epoch takes about 10 min on one thread, a pLSTM
#  epoch about 3 min: EPOCHS=10 bash results/run_moleculenet.sh muv)
# (bbbp and bace were run with EPOCHS=30; ogbg-molhiv one seed at a time, one loop per model:
#  for s in 0 1 2 3 4 5 6 7 8 9; do MODELS=plstm SEEDS=$s EPOCHS=15 bash results/run_moleculenet.sh hiv; done)
# (PROTEINS folds 3 on of plstm-no-readout-bn, run after readout batch norm became the default:
#  source results/cpu_training.sh; train_one_thread --config configs/PROTEINS.yaml --data.fold $k \
#    --seeds 0 --model plstm --plstm.readout_norm false --output_dir results/noBN --log_dir runs-noBN
#  with the JSON then moved to results/runs/PROTEINS/plstm-no-readout-bn/)
# (gine-pool-sum, GINE with the sum pooling that pLSTM's bbbp, bace, ESOL and lipo configs chose,
#  run to give the baseline the same choice: source results/cpu_training.sh; for d in bbbp bace
#  esol lipo; do
#  train_runs configs/ogbg-mol$d.yaml --model gine --gine.pooling sum --name gine-pool-sum \
#    --trainer.max_epochs 30; done)
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${EPOCHS:-}
source results/cpu_training.sh
for name in ${@:-bbbp bace}; do
  for model in ${MODELS:-plstm gine}; do
    train_runs "$(config_of "$name")" --model "$model" ${EPOCHS:+--trainer.max_epochs "$EPOCHS"}
    python results/summarize.py
  done
done
