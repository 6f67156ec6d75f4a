"""results/run_moleculenet.sh and results/run_ablations.sh: which datasets run folds and which run
seeds. ``python`` is replaced by a stub that records its arguments, so nothing trains: given an
``--output_dir``, it writes an empty run file where ``train.py`` would write the first seed's."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import replaced_default

ROOT = Path(__file__).resolve().parents[1]

STUB = """#!{python}
import os, sys
from pathlib import Path
import yaml
args = sys.argv[1:]
if args[0] == "results/replaced_default.py":
    os.execv(sys.executable, [sys.executable, *args])
with open({calls!r}, "a") as calls:
    calls.write(" ".join(args) + "\\n")
if args[0] == "train.py" and "--output_dir" in args:
    def value(option):
        return args[args.index(option) + 1]
    dataset = yaml.safe_load(Path(value("--config")).read_text())["data"]["dataset"]
    run = Path(value("--output_dir"), dataset, value("--name"), f"seed{{value('--seeds')[0]}}.json")
    run.parent.mkdir(parents=True, exist_ok=True)
    run.write_text("{{}}")
"""


def run_script(tmp_path, *arguments, script="run_moleculenet.sh",
               **env) -> subprocess.CompletedProcess:
    stub = tmp_path / "bin" / "python"
    stub.parent.mkdir(parents=True)
    stub.write_text(STUB.format(python=sys.executable, calls=str(tmp_path / "calls.txt")))
    stub.chmod(0o755)
    env = os.environ | {"PATH": f"{stub.parent}:{os.environ['PATH']}", "MODELS": "plstm",
                        "ABLATIONS": str(tmp_path / "ablations")} | env
    return subprocess.run(["bash", str(ROOT / "results" / script), *arguments], env=env,
                          cwd=tmp_path, capture_output=True, text=True)


def training_calls(tmp_path, *arguments, script="run_moleculenet.sh", **env) -> list[list[str]]:
    result = run_script(tmp_path, *arguments, script=script, **env)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in (tmp_path / "calls.txt").read_text().splitlines()]
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


def test_replaced_defaults_run_only_when_named_and_only_where_adopted(tmp_path):
    calls = training_calls(tmp_path / "all", script="run_ablations.sh", DATASET="bbbp")
    assert "default" in {call[call.index("--name") + 1] for call in calls}
    assert not [call for call in calls if "--plstm.pooling" in call
                and call[call.index("--plstm.pooling") + 1] == "mean"]

    (call,) = training_calls(tmp_path / "bbbp", "--optim.warmup_epochs", "1",
                             script="run_ablations.sh", DATASET="bbbp", SEEDS="1",
                             VARIANTS="default-mean-pooling")
    assert call[call.index("--plstm.pooling") + 1] == "mean"
    assert call[call.index("--optim.warmup_epochs") + 1] == "1"  # the script's own options
    assert call[call.index("--name") + 1] == "default"
    # the `default` run file lands in the variant's folder, not in the default's
    ablations = tmp_path / "bbbp" / "ablations" / "ogbg-molbbbp"
    assert [p.relative_to(ablations) for p in ablations.rglob("*.json")] == [
        Path("default-mean-pooling/seed1.json")]


def test_a_replaced_default_is_refused_where_its_option_was_not_adopted():
    configs = ROOT / "configs"
    assert replaced_default.replaced_options(configs / "ogbg-moltox21.yaml",
                                             "default-no-readout-bn") == [
        "--plstm.readout_norm", "false"]  # adopted on every dataset
    assert replaced_default.replaced_options(configs / "peptides-func.yaml",
                                             "default-canonical-order") == [
        "--data.dag_order", "canonical"]
    with pytest.raises(SystemExit, match="`plstm.pooling` is not adopted on ogbg-moltox21"):
        replaced_default.replaced_options(configs / "ogbg-moltox21.yaml", "default-mean-pooling")
    with pytest.raises(SystemExit, match="the variants are default-canonical-order"):
        replaced_default.replaced_options(configs / "ogbg-moltox21.yaml", "default-sum-pooling")
