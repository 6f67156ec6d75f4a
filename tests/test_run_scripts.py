"""results/run_moleculenet.sh and results/run_ablations.sh: which datasets run folds and which run
seeds. ``python`` is replaced by a stub that records its arguments, so nothing trains."""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def training_calls(tmp_path, *datasets, script="run_moleculenet.sh", **env) -> list[list[str]]:
    calls = tmp_path / "calls.txt"
    stub = tmp_path / "bin" / "python"
    stub.parent.mkdir(parents=True)
    stub.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\n')
    stub.chmod(0o755)
    env = os.environ | {"PATH": f"{stub.parent}:{os.environ['PATH']}", "MODELS": "plstm"} | env
    subprocess.run(["bash", str(ROOT / "results" / script), *datasets], env=env,
                   check=True, cwd=tmp_path)
    lines = [line.split() for line in calls.read_text().splitlines()]
    return [line for line in lines if line[0] == "train.py"]


def test_tu_runs_folds_and_seeded_datasets_run_seeds(tmp_path):
    calls = training_calls(tmp_path, "MUTAG", "peptides-func", "bbbp", FOLDS="0 3", SEEDS="1-2")
    configs = [call[call.index("--config") + 1] for call in calls]
    assert configs == ["configs/MUTAG.yaml"] * 2 + ["configs/peptides-func.yaml",
                                                   "configs/ogbg-molbbbp.yaml"]
    assert [call[call.index("--data.fold") + 1] for call in calls[:2]] == ["0", "3"]
    for call in calls[2:]:
        assert "--data.fold" not in call
        assert call[call.index("--seeds") + 1] == "1-2"


def test_ablations_run_tu_folds_and_moleculenet_seeds(tmp_path):
    calls = training_calls(tmp_path / "tu", script="run_ablations.sh", DATASET="NCI1",
                           FOLDS="0 2", VARIANTS="pool-sum", EPOCHS="100")
    assert len(calls) == 2
    for call, fold in zip(calls, ["0", "2"]):
        assert call[call.index("--config") + 1] == "configs/NCI1.yaml"
        assert call[call.index("--plstm.pooling") + 1] == "sum"
        assert call[call.index("--name") + 1] == "pool-sum"
        assert call[call.index("--trainer.max_epochs") + 1] == "100"
        assert (call[call.index("--data.fold") + 1], call[call.index("--seeds") + 1]) == (fold, "0")
    (call,) = training_calls(tmp_path / "mol", script="run_ablations.sh", DATASET="hiv",
                             SEEDS="3", VARIANTS="default")
    assert call[call.index("--config") + 1] == "configs/ogbg-molhiv.yaml"
    assert call[call.index("--seeds") + 1] == "3" and "--data.fold" not in call
