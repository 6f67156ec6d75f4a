"""The Python examples of README.md run as written (a user copies them) and give what their
comments say. Oracles: the shared data's manifest, the molecule's atom and bond counts."""
from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

README = Path(__file__).resolve().parents[1] / "README.md"


def run_example(marker: str) -> dict:
    """Runs the one README Python example that contains ``marker``; returns its names."""
    examples = [code for code in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
                if marker in code]
    assert len(examples) == 1, f"{len(examples)} README examples contain {marker!r}"
    names: dict = {}
    exec(compile(examples[0], f"README.md example with {marker!r}", "exec"), names)
    return names


def data_root_with(folder: str, shared_data: Path, data_cache: Path, root: Path) -> Path:
    """``root`` as a data root holding the shared dataset ``folder``, its files linked and its
    processed datasets those of the session cache: the README loads from a data root, and so
    writes nothing into the shared data and featurises nothing other tests have cached."""
    (root / folder).mkdir()
    for entry in (shared_data / folder).iterdir():
        (root / folder / entry.name).symlink_to(entry)
    processed = data_cache / folder / "processed"
    processed.mkdir(parents=True, exist_ok=True)
    (root / folder / "processed").symlink_to(processed)
    return root


def test_layer_example(shared_data, data_cache, tmp_path, monkeypatch):
    root = data_root_with("ogbg_molfreesolv", shared_data, data_cache, tmp_path)
    monkeypatch.setenv("PLSTM_DATA_DIR", str(root))
    names = run_example("PLSTMConv(")
    out, batch = names["out"], names["batch"]
    assert out.shape == (batch.num_nodes, 64) and torch.isfinite(out).all()
    assert batch.num_graphs == 32


@pytest.mark.slow  # reads ogbg-molhiv from the session cache, which hiv_loads makes
def test_data_example(hiv_loads, shared_data, data_cache, manifest, tmp_path, monkeypatch):
    root = data_root_with("ogbg_molhiv", shared_data, data_cache, tmp_path)
    monkeypatch.setenv("PLSTM_DATA_DIR", str(root))
    names = run_example("smiles_to_data(")
    ds, split = names["ds"], names["split"]
    expected = manifest["ogbg-molhiv"]
    assert (ds.num_tasks, ds.task_type, ds.eval_metric) == (
        expected["num_tasks"], expected["task_type"], expected["eval_metric"])
    assert len(ds) == expected["num_graphs"]
    assert {name: len(index) for name, index in split.items()} == expected["split_sizes"]
    mol = names["mol"]  # paracetamol: 11 heavy atoms, 11 bonds
    assert mol.x.shape == (11, 9) and mol.edge_attr.shape == (22, 3)
    assert mol.canonical_rank.shape == (11,)


def test_prediction_example(freesolv_model_file, tmp_path, monkeypatch):
    model_path = tmp_path / "runs/ogbg-molfreesolv/plstm/seed0/version_0/best.pt"
    model_path.parent.mkdir(parents=True)
    shutil.copy(freesolv_model_file, model_path)
    monkeypatch.chdir(tmp_path)
    names = run_example("load_model(")
    predictions = names["model"].predict(["CCO", "c1ccccc1O"])
    assert isinstance(predictions, np.ndarray) and predictions.shape == (2, 1)
    assert np.isfinite(predictions).all()


def readme_train_commands() -> list[list[str]]:
    """The arguments of every ``python train.py`` line in README.md's shell examples, with
    the comment after each as the last item."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README.read_text(), re.S):
        for line in block.splitlines():
            command, _, comment = line.partition("#")
            words = shlex.split(command)
            if words[:2] == ["python", "train.py"]:
                commands.append([*words[2:], comment.strip()])
    return commands


def test_train_commands_parse_and_pick_the_models_their_comments_name(monkeypatch):
    """Each README ``train.py`` line is a valid command line from the repository root (configs
    found, option names and values accepted), and the GINE lines train the model their comment
    names (run names ``gine-vn`` and ``gine``)."""
    from plstm_graph.cli.train import build_parser, run_name

    monkeypatch.chdir(README.parent)
    names = {}
    for *argv, comment in readme_train_commands():
        names[comment] = run_name(build_parser().parse_args(argv))
    assert len(names) >= 7
    assert names["baseline: GINE + virtual node"] == "gine-vn"
    assert names["plain GINE"] == "gine"
    assert names["pLSTM, OGB protocol"] == "plstm"
