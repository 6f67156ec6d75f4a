"""results/adopt.py: an adopted variant's runs become the main runs; the runs it replaced move."""
import json
from pathlib import Path

import pytest

import adopt as adopt_script
from report.rows import load_runs
from test_summarize import write_run


@pytest.fixture
def adopt():
    return adopt_script


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_learning_rate_adopted_on_bbbp(tmp_path, adopt):
    runs, ablations = tmp_path / "runs", tmp_path / "ablations"
    bbbp = "ogbg-molbbbp"
    for seed in range(3):
        write_run(runs, bbbp, "plstm", seed, "rocauc", 0.90, 0.80, pooling="sum", lr=1e-3)
        write_run(runs, bbbp, "gine", seed, "rocauc", 0.91, 0.81, lr=1e-3)  # optim: both models
        write_run(ablations, bbbp, "lr-3e-4", seed, "rocauc", 0.95, 0.70 + seed / 100,
                  pooling="sum", lr=3e-4)
        write_run(ablations, bbbp, "blocks-P", seed, "rocauc", 0.92, 0.82, pooling="sum",
                  lr=1e-3)
        # an ablation of an older default, marked already: history, it stays where it is
        write_run(ablations, bbbp, "blocks-D-mean-pooling", seed, "rocauc", 0.9, 0.8, lr=1e-3)
    (runs / bbbp / "plstm" / "summary.json").write_text("{}")  # moves with its folder

    adopt.main([bbbp, "lr-3e-4", "--runs", str(runs), "--ablations", str(ablations)])

    assert names(runs / bbbp) == {"plstm", "plstm-lr-1e-3", "gine-lr-1e-3"}
    assert names(runs / bbbp / "plstm-lr-1e-3") == {"seed0.json", "seed1.json", "seed2.json",
                                                      "summary.json"}
    assert names(ablations / bbbp) == {"lr-3e-4", "blocks-P-lr-1e-3", "blocks-D-mean-pooling"}
    for seed in range(3):
        source = ablations / bbbp / "lr-3e-4" / f"seed{seed}.json"
        copy = json.loads((runs / bbbp / "plstm" / f"seed{seed}.json").read_text())
        assert copy.pop("model") == "plstm"
        assert Path(adopt.ROOT, copy.pop("copied_from")).samefile(source)
        assert copy == {k: v for k, v in json.loads(source.read_text()).items() if k != "model"}

    labels = {label: [r["test_metric"] for r in group]
              for (_, label), group in load_runs(runs).items()}
    assert labels == {"plstm": [0.70, 0.71, 0.72], "plstm (lr 1e-3)": [0.80] * 3,
                      "gine (lr 1e-3)": [0.81] * 3}

    with pytest.raises(SystemExit, match="adopted on ogbg-molbbbp already"):
        adopt.main([bbbp, "lr-3e-4", "--runs", str(runs), "--ablations", str(ablations)])


def test_pooling_moves_only_the_runs_with_the_replaced_value(tmp_path, adopt):
    runs, ablations = tmp_path / "runs", tmp_path / "ablations"
    bace = "ogbg-molbace"
    write_run(runs, bace, "plstm", 0, "rocauc", 0.8, 0.7, pooling="mean")
    write_run(runs, bace, "plstm", 1, "rocauc", 0.8, 0.7, pooling="sum")  # made with sum already
    write_run(runs, bace, "gine", 0, "rocauc", 0.8, 0.7, pooling="mean")  # a plstm option
    for seed in range(2):
        write_run(ablations, bace, "pool-sum", seed, "rocauc", 0.9, 0.6, pooling="sum")
    with pytest.raises(SystemExit, match="plstm/seed1.json exists"):
        adopt.plan(bace, "pool-sum", runs, ablations)  # seed 0 moves away, seed 1 does not

    (runs / bace / "plstm" / "seed1.json").rename(runs / bace / "plstm" / "seed2.json")
    steps = adopt.plan(bace, "pool-sum", runs, ablations)
    assert [(src.relative_to(tmp_path), target.relative_to(tmp_path), run is not None)
            for src, target, run in steps] == [
        (Path(f"runs/{bace}/plstm/seed0.json"), Path(f"runs/{bace}/plstm-mean-pooling/seed0.json"),
         False),
        *[(Path(f"ablations/{bace}/pool-sum/seed{seed}.json"),
           Path(f"runs/{bace}/plstm/seed{seed}.json"), True) for seed in range(2)]]
    adopt.carry_out(steps, dry_run=True)
    assert names(runs / bace / "plstm") == {"seed0.json", "seed2.json"}  # a dry run moves nothing


def test_the_dag_order_moves_only_plstm_runs(tmp_path, adopt):
    runs, ablations = tmp_path / "runs", tmp_path / "ablations"
    peptides = "peptides-func"
    for seed in range(3):
        write_run(runs, peptides, "plstm", seed, "ap", 0.40, 0.38)
        # GINE runs record the canonical order too, but GINE does not orient its graphs
        write_run(runs, peptides, "gine", seed, "ap", 0.45, 0.43)
        write_run(ablations, peptides, "order-dfs", seed, "ap", 0.41, 0.39, dag_order="dfs")
    adopt.main([peptides, "order-dfs", "--runs", str(runs), "--ablations", str(ablations)])
    assert names(runs / peptides) == {"plstm", "plstm-canonical-order", "gine"}
    assert names(runs / peptides / "gine") == {"seed0.json", "seed1.json", "seed2.json"}


def test_a_variant_no_decision_adopts_is_refused(tmp_path, adopt):
    write_run(tmp_path / "ablations", "ogbg-molbace", "blocks-P", 0, "rocauc", 0.9, 0.6)
    with pytest.raises(SystemExit, match="`blocks-P` is not adopted on ogbg-molbace"):
        adopt.plan("ogbg-molbace", "blocks-P", tmp_path / "runs", tmp_path / "ablations")
    with pytest.raises(SystemExit, match="`pool-sum` is not adopted on ogbg-molhiv"):
        adopt.plan("ogbg-molhiv", "pool-sum", tmp_path / "runs", tmp_path / "ablations")
    with pytest.raises(SystemExit, match="`order-bfs` is not adopted on peptides-func"):
        adopt.plan("peptides-func", "order-bfs", tmp_path / "runs", tmp_path / "ablations")
