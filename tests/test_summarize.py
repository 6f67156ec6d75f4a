"""results/summarize.py and its report package: tables from run files, the README block,
ablations sorted by validation."""
import inspect
import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from plstm_graph.data import FEATURIZATION_VERSION, mol_from_smiles, smiles_to_data
from plstm_graph.models.datamodule import PropertyDataModule

from report.ablations import ablation_tables, default_for, stale_decisions, with_main_defaults
from report.agreement import agreement_table, validation_agreement
from report.datasets import GROUPS
from report.decisions import ADOPTIONS
from report.featurization import CHIRAL_DATASETS, CIS_TRANS_CHANGED
from report.intro import intro, longer_budget_note
from report.marks import ADOPTED
from report.rows import format_paired, gain, load_runs, paired, summary_rows
from report.tables import featurization_table, headline_table

SCRIPT = Path(__file__).resolve().parents[1] / "results" / "summarize.py"
CONFIGS = SCRIPT.parents[1] / "configs"


def config_lr(dataset):
    """The learning rate of the dataset's config (1e-3, the others', where it has none)."""
    path = CONFIGS / f"{dataset}.yaml"
    return yaml.safe_load(path.read_text())["optim"]["lr"] if path.exists() else 1e-3


def write_run(folder, dataset, model, seed, metric, val, test, readout_norm=True,
              pooling="mean", lr=None, epochs=30, dag_order="canonical",
              featurizer=FEATURIZATION_VERSION):
    """A run file; its learning rate is that of the dataset's config unless ``lr`` is given.
    ``featurizer=None`` leaves the key out, as in the files written before it was recorded."""
    path = folder / dataset / model / f"seed{seed}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    network = "gine" if model.startswith("gine") else "plstm"
    path.write_text(json.dumps({
        "dataset": dataset, "model": model, "seed": seed, "fold": None, "metric": metric,
        "val_metric": val, "test_metric": test, "params": 1000, "epochs": epochs,
        "wall_time_s": 60.0, "hardware": "cpu",
        **({} if featurizer is None else {"featurizer": featurizer}),
        "config": {"model": network,
                   "plstm": {"readout_norm": readout_norm, "pooling": pooling},
                   "data": {"dag_order": dag_order},
                   "optim": {"lr": config_lr(dataset) if lr is None else lr}}}))


def test_tables_readme_block_and_ablations(tmp_path):
    runs, ablations, out = tmp_path / "runs", tmp_path / "ablations", tmp_path / "out"
    out.mkdir()
    tests = [0.70, 0.74, 0.66]
    for seed, test in enumerate(tests):
        write_run(runs, "ogbg-moltox21", "plstm", seed, "rocauc", 0.9, test)
    write_run(ablations, "ogbg-moltox21", "order-index", 0, "rocauc", 0.91, 0.5)
    write_run(ablations, "ogbg-moltox21", "default", 0, "rocauc", 0.93, 0.4)
    write_run(ablations, "ogbg-molesol", "blocks-P", 0, "rmse", 1.5, 1.0)
    write_run(ablations, "ogbg-molesol", "default", 0, "rmse", 1.2, 1.1)
    readme = tmp_path / "README.md"
    readme.write_text("top\n<!-- RESULTS -->\nSTALE BLOCK\n<!-- /RESULTS -->\nbottom\n")
    subprocess.run([sys.executable, str(SCRIPT), "--runs", str(runs), "--ablations",
                    str(ablations), "--out", str(out), "--readme", str(readme)], check=True)
    text = (out / "README.md").read_text()
    expected = f"{statistics.mean(tests):.4f} ± {statistics.stdev(tests):.4f}"
    assert f"| ogbg-moltox21 | plstm | rocauc | {expected} |" in text
    # best validation first: higher ROC-AUC, lower RMSE
    assert text.index("| ogbg-moltox21 | default") < text.index("| ogbg-moltox21 | order-index")
    assert text.index("| ogbg-molesol | default") < text.index("| ogbg-molesol | blocks-P")
    assert "- ogbg-molpcba: its molecules are not in the offline data" in text  # no runs: why
    block = readme.read_text()
    assert block.startswith("top\n<!-- RESULTS -->\n") and block.endswith("bottom\n")
    assert "STALE BLOCK" not in block and expected in block


def test_headline_sets_todays_plstm_beside_its_baseline(tmp_path):
    for seed in range(2):
        write_run(tmp_path, "ogbg-molhiv", "plstm", seed, "rocauc", 0.8, 0.75)
        write_run(tmp_path, "ogbg-molhiv", "gine", seed, "rocauc", 0.8, 0.90)  # not molhiv's
        write_run(tmp_path, "ogbg-molhiv", "gine-vn", seed, "rocauc", 0.8, 0.70)
        write_run(tmp_path, "ogbg-molesol", "plstm", seed, "rmse", 1.0, 1.10, pooling="sum")
        write_run(tmp_path, "ogbg-molesol", "gine", seed, "rmse", 1.0, 0.90)
        write_run(tmp_path, "ogbg-molesol", "plstm", seed + 2, "rmse", 1.0, 0.50,
                  pooling="sum", featurizer=None)  # no chiral tags in ESOL: unmarked
        write_run(tmp_path, "ogbg-molbace", "plstm", seed, "rocauc", 0.8, 0.60,
                  pooling="mean")  # the replaced pooling: a marked row, not today's
    write_run(tmp_path, "MUTAG", "plstm", 0, "acc", 0.8, 0.85)
    lines = headline_table(summary_rows(load_runs(tmp_path))).splitlines()
    rows = {line.split(" | ")[0].strip("| "): line for line in lines if line.startswith("| ")}
    assert rows["ogbg-molhiv"].startswith(
        "| ogbg-molhiv | rocauc ↑ | **0.7500 ± 0.0000** | 0.7000 ± 0.0000 | 2 / 2 | 30 | "
        "GIN + virtual node (OGB) 0.7707 ± 0.0149; GatedGCN+")
    # lower is better for RMSE; ESOL's SMILES have no chiral tags, so all four runs count
    assert rows["ogbg-molesol"] == ("| ogbg-molesol | rmse ↓ | **0.8000 ± 0.3464** | "
                                    "0.9000 ± 0.0000 | 4 / 2 | 30 |  |")
    assert "ogbg-molbace" not in rows
    assert rows["MUTAG"].startswith("| MUTAG | acc ↑ | 0.8500 | not run | 1 | 30 | pLSTM (paper)")


def test_rows_give_mean_and_unbiased_std(tmp_path):
    tests = [0.70, 0.74]
    for seed, test in enumerate(tests):
        write_run(tmp_path, "ogbg-moltox21", "plstm", seed, "rocauc", 0.9, test)
    write_run(tmp_path, "ogbg-molesol", "gine", 0, "rmse", 1.2, 1.0)
    rows = {r["dataset"]: r for r in summary_rows(load_runs(tmp_path))}
    several, one = rows["ogbg-moltox21"], rows["ogbg-molesol"]
    assert several["test_mean"] == pytest.approx(statistics.mean(tests))
    assert several["test_std"] == pytest.approx(statistics.stdev(tests))
    assert several["test"] == f"{statistics.mean(tests):.4f} ± {statistics.stdev(tests):.4f}"
    assert (one["test"], one["val"], one["test_std"]) == ("1.0000", "1.2000", 0.0)


def test_ablations_without_default_runs_compare_with_the_main_runs(tmp_path):
    write_run(tmp_path / "runs", "ogbg-molhiv", "plstm", 0, "rocauc", 0.72, 0.70)
    write_run(tmp_path / "runs", "ogbg-moltox21", "plstm", 0, "rocauc", 0.93, 0.60)
    write_run(tmp_path / "ablations", "ogbg-molhiv", "degree-off", 0, "rocauc", 0.74, 0.73)
    write_run(tmp_path / "ablations", "ogbg-moltox21", "default", 0, "rocauc", 0.92, 0.61)
    main = summary_rows(load_runs(tmp_path / "runs"))
    rows = with_main_defaults(summary_rows(load_runs(tmp_path / "ablations")), main)
    labels = sorted((r["dataset"], r["model"]) for r in rows)
    assert labels == [("ogbg-molhiv", "default (main plstm runs)"),
                      ("ogbg-molhiv", "degree-off"), ("ogbg-moltox21", "default")]


def test_a_variant_is_compared_with_the_default_of_its_budget(tmp_path):
    """A variant run at the main runs' 30 epochs, on a dataset whose other ablations ran at 10,
    is compared with the main runs, not with the 10-epoch default."""
    runs, ablations = tmp_path / "runs", tmp_path / "ablations"
    for seed in (0, 1, 2):
        write_run(runs, "ogbg-moltox21", "plstm", seed, "rocauc", 0.80, 0.7)
        write_run(ablations, "ogbg-moltox21", "default", seed, "rocauc", 0.70, 0.6, epochs=10)
        write_run(ablations, "ogbg-moltox21", "blocks-1", seed, "rocauc", 0.70, 0.6, epochs=10)
        write_run(ablations, "ogbg-moltox21", "lr-3e-4", seed, "rocauc", 0.79 + seed / 1000,
                  0.7, lr=3e-4)
    rows = with_main_defaults(summary_rows(load_runs(ablations)), summary_rows(load_runs(runs)))
    by_label = {r["model"]: r for r in rows}
    assert default_for(by_label["lr-3e-4"], rows) is by_label["default (main plstm runs)"]
    assert default_for(by_label["blocks-1"], rows) is by_label["default"]
    assert stale_decisions(rows) == []  # 0.79 is below 0.80, not above 0.70


def test_runs_without_readout_batch_norm_are_marked(tmp_path):
    """pLSTM runs from before batch norm on the graph embeddings became the default (configs
    without ``readout_norm``, or with it off) form their own rows, in both tables."""
    write_run(tmp_path / "runs", "ogbg-moltox21", "plstm", 0, "rocauc", 0.93, 0.60)
    write_run(tmp_path / "runs", "ogbg-moltox21", "plstm", 1, "rocauc", 0.92, 0.62,
              readout_norm=False)
    write_run(tmp_path / "runs", "ogbg-moltox21", "gine", 0, "rocauc", 0.94, 0.64,
              readout_norm=False)
    write_run(tmp_path / "ablations", "ogbg-moltox21", "default", 0, "rocauc", 0.92, 0.61,
              readout_norm=False)
    write_run(tmp_path / "ablations", "ogbg-moltox21", "readout-bn", 0, "rocauc", 0.94, 0.65)
    main = summary_rows(load_runs(tmp_path / "runs"))
    assert sorted(r["model"] for r in main) == ["gine", "plstm", "plstm (no readout BN)"]
    rows = with_main_defaults(summary_rows(load_runs(tmp_path / "ablations")), main)
    # the main seed-0 run has the adopted variant's config and seed: one row, marked the default
    assert sorted(r["model"] for r in rows) == [
        "default (no readout BN)", "readout-bn (now the default)"]
    write_run(tmp_path / "runs", "ogbg-moltox21", "plstm", 2, "rocauc", 0.93, 0.60)
    main = summary_rows(load_runs(tmp_path / "runs"))
    rows = with_main_defaults(summary_rows(load_runs(tmp_path / "ablations")), main)
    assert sorted(r["model"] for r in rows) == [
        "default (main plstm runs)", "default (no readout BN)", "readout-bn (now the default)"]


def test_paired_seeds_respect_the_metric_direction(tmp_path):
    for seed, (mine, theirs) in enumerate([(0.80, 0.70), (0.60, 0.70), (0.70001, 0.70)]):
        write_run(tmp_path / "a", "ogbg-molhiv", "variant", seed, "rocauc", mine, 0.5)
        write_run(tmp_path / "b", "ogbg-molhiv", "default", seed, "rocauc", theirs, 0.5)
        write_run(tmp_path / "a", "ogbg-molesol", "variant", seed, "rmse", mine, 0.5)
        write_run(tmp_path / "b", "ogbg-molesol", "default", seed, "rmse", theirs, 0.5)
    write_run(tmp_path / "a", "ogbg-molhiv", "variant", 7, "rocauc", 0.9, 0.5)  # no partner
    a = {r["dataset"]: r for r in summary_rows(load_runs(tmp_path / "a"))}
    b = {r["dataset"]: r for r in summary_rows(load_runs(tmp_path / "b"))}
    higher = paired(a["ogbg-molhiv"], b["ogbg-molhiv"])
    assert higher == {"better": [0], "worse": [1], "tied": [2]}
    assert paired(a["ogbg-molesol"], b["ogbg-molesol"]) == {
        "better": [1], "worse": [0], "tied": [2]}
    assert format_paired(higher) == "better on 0; worse on 1; tied on 2"


def test_ablation_rows_are_paired_with_the_default_of_their_setting(tmp_path):
    """A variant is compared seed by seed with the default of its readout batch norm setting;
    the adopted variant, which is the default where no `default` runs have batch norm, with
    the default it replaced."""
    ablations = tmp_path / "ablations"
    for seed in (0, 1):
        write_run(ablations, "ogbg-moltox21", "default", seed, "rocauc", 0.90, 0.6,
                  readout_norm=False)
        write_run(ablations, "ogbg-moltox21", "readout-bn", seed, "rocauc", 0.91 - seed / 50, 0.6)
        write_run(ablations, "ogbg-moltox21", "blocks-1", seed, "rocauc", 0.90 + seed / 50, 0.6)
        write_run(ablations, "ogbg-moltox21", "blocks-3", seed, "rocauc", 0.95, 0.6,
                  readout_norm=False)
    rows = with_main_defaults(summary_rows(load_runs(ablations)), [])
    table = ablation_tables(rows)
    cells = [[cell.strip() for cell in line.strip("|").split("|")]
             for line in table.splitlines() if line.startswith("| ogbg-moltox21")]
    assert {cell[1]: cell[-1] for cell in cells} == {
        "readout-bn (now the default)": "better on 0; worse on 1",
        "blocks-1": "better on 1; worse on 0",
        "blocks-3 (no readout BN)": "better on 0, 1",
        "default (no readout BN)": ""}
    assert {cell[1]: cell[-2] for cell in cells} == {
        "readout-bn (now the default)": "+0.0000, within the spread (0.0141)",
        "blocks-1": "+0.0100, within the spread (0.0141)",
        "blocks-3 (no readout BN)": "+0.0500, more than the spread (0.0000)",
        "default (no readout BN)": ""}


def test_gain_is_measured_in_the_metrics_better_direction(tmp_path):
    for seed, (mine, theirs) in enumerate([(1.0, 1.3), (1.2, 1.5)]):
        write_run(tmp_path / "a", "ogbg-molesol", "variant", seed, "rmse", mine, 1.0)
        write_run(tmp_path / "b", "ogbg-molesol", "default", seed, "rmse", theirs, 1.0)
    (a,), (b,) = (summary_rows(load_runs(tmp_path / d)) for d in "ab")
    spread = statistics.stdev([1.0, 1.2])
    assert gain(a, b) == f"+0.3000, more than the spread ({spread:.4f})"
    assert gain(b, a) == f"-0.3000, below by more than the spread ({spread:.4f})"


def test_one_run_each_has_no_spread_to_judge_a_gain_by(tmp_path):
    write_run(tmp_path / "a", "peptides-func", "order-dfs", 0, "ap", 0.41, 0.39, epochs=3)
    write_run(tmp_path / "b", "peptides-func", "plstm", 0, "ap", 0.39, 0.37, epochs=3)
    (a,), (b,) = (summary_rows(load_runs(tmp_path / d)) for d in "ab")
    assert gain(a, b) == "+0.0200, one run each, no spread to judge it by"
    write_run(tmp_path / "b", "peptides-func", "plstm", 1, "ap", 0.40, 0.37, epochs=3)
    (b,) = summary_rows(load_runs(tmp_path / "b"))
    assert gain(a, b) == "+0.0150, more than the spread (0.0071)"


def test_longer_budget_note_is_computed_from_the_runs(tmp_path):
    for seed, (val15, val30, test15, test30) in enumerate([(0.70, 0.75, 0.74, 0.73),
                                                          (0.72, 0.71, 0.75, 0.78)]):
        write_run(tmp_path, "ogbg-molhiv", "plstm", seed, "rocauc", val15, test15, epochs=15)
        write_run(tmp_path, "ogbg-molhiv", "plstm-30-epochs", seed, "rocauc", val30, test30)
    rows = summary_rows(load_runs(tmp_path))
    note = longer_budget_note(rows)
    assert "by +0.0200" in note and "better on 1 of 2 paired seeds" in note
    assert "test mean by +0.0100 (better on 1 of 2)" in note
    assert "stays below the bar, GIN + virtual node (OGB) at 0.7707" in note
    assert "no runs at 30 epochs" in note
    (molhiv,) = [p for p in intro(rows).split("\n\n") if note in p]
    assert molhiv.startswith("**ogbg-molhiv**") and molhiv.endswith(note)
    assert longer_budget_note([r for r in rows if r["model"] == "plstm"]) == ""
    for seed in range(2):
        write_run(tmp_path, "ogbg-molhiv", "gine-vn", seed, "rocauc", 0.8, 0.74, epochs=15)
    write_run(tmp_path, "ogbg-molhiv", "gine-vn-30-epochs", 1, "rocauc", 0.8, 0.79)
    note = longer_budget_note(summary_rows(load_runs(tmp_path)))
    assert "no runs at" not in note
    assert note.endswith(
        " `gine-vn-30-epochs` is the `gine-vn` baseline at 30 epochs (about 0.0 h a seed, two "
        "trainings sharing the two cores); on the seeds it has run so far (1), pLSTM's test "
        "mean against the baseline's is at 15 epochs 0.7500 against "
        "0.7400 (better on 1 of 1); at 30 epochs 0.7800 against 0.7900 (better on 0 of 1).")


def test_stale_decisions_name_the_rows_that_contradict_them(tmp_path):
    """A kept default that a variant now beats by more than the spread over three runs (sum
    pooling on sider, where mean stays), a variant no decision covers and an adopted variant
    below the default it replaced (readout batch norm on tox21, sum pooling on bbbp), one
    adopted on named datasets within the spread on one of them (sum pooling on ESOL), or with
    no lead anywhere, are reported; fewer runs, an excluded variant, a lead within the spread,
    the lead of a variant adopted there (sum pooling on bace) and the marked rows of an older
    default are not; nor is a variant adopted on a dataset that leads there within the spread
    with today's featurisation after leading by more with the older one (3e-4 on bbbp), while
    one that now scores below (sum pooling on bbbp) still is."""
    folder = tmp_path / "ablations"
    for seed in range(3):
        write_run(folder, "ogbg-molhiv", "default", seed, "rocauc", 0.70 + seed / 100, 0.6)
        write_run(folder / "old", "ogbg-molhiv", "default", seed, "rocauc", 0.60 + seed / 100,
                  0.6, readout_norm=False)
        write_run(folder, "ogbg-molhiv", "readout-bn", seed, "rocauc", 0.605 + seed / 100, 0.6)
        write_run(folder, "ogbg-molhiv", "norm-fanin", seed, "rocauc", 0.80 + seed / 100, 0.6)
        write_run(folder, "ogbg-molhiv", "lr-3e-4", seed, "rocauc", 0.705 + seed / 100, 0.6)
        write_run(folder, "ogbg-molhiv", "order-index", seed, "rocauc", 0.90, 0.6)
        write_run(folder, "ogbg-molhiv", "mystery", seed, "rocauc", 0.70, 0.6)
        write_run(folder / "old", "ogbg-moltox21", "default", seed, "rocauc",
                  0.90 + seed / 100, 0.6, readout_norm=False)
        write_run(folder, "ogbg-moltox21", "readout-bn", seed, "rocauc", 0.50, 0.6)
        write_run(folder / "old", "ogbg-molhiv", "norm-fanin", seed, "rocauc", 0.90, 0.6,
                  readout_norm=False)  # against the older default: history, not checked
        for dataset, mean, summed in [("ogbg-molbbbp", 0.90, 0.80), ("ogbg-molbace", 0.70, 0.80),
                                      ("ogbg-molsider", 0.70, 0.80), ("ogbg-molesol", 0.70, 0.705)]:
            write_run(folder, dataset, "default", seed, "rocauc", mean + seed / 100, 0.6)
            write_run(folder, dataset, "pool-sum", seed, "rocauc", summed + seed / 100, 0.6,
                      pooling="sum")
        write_run(folder, "ogbg-molbbbp", "blocks-1", seed, "rocauc", 0.99, 0.6)  # history
        write_run(folder / "lr", "ogbg-molbbbp", "default", seed, "rocauc", 0.80 + seed / 100,
                  0.6, pooling="sum", lr=1e-3)
        write_run(folder, "ogbg-molbbbp", "lr-3e-4", seed, "rocauc", 0.805 + seed / 100, 0.6,
                  pooling="sum")
        for older, (variant, value, option) in enumerate([
                ("lr-3e-4", 0.90, {"pooling": "sum"}),
                ("default", 0.80, {"pooling": "sum", "lr": 1e-3}),
                ("pool-sum", 0.90, {"pooling": "sum"}),
                ("default", 0.80, {"pooling": "mean"})]):
            write_run(folder / "v1" / str(older), "ogbg-molbbbp", variant, seed, "rocauc",
                      value + seed / 100, 0.6, featurizer="ogb9x3-rank-v1", **option)
    for seed in range(2):
        write_run(folder, "ogbg-molhiv", "width-32", seed, "rocauc", 0.90, 0.6)
    rows = with_main_defaults(summary_rows(load_runs(folder)), [])
    stale = stale_decisions(rows)
    assert len(stale) == 7, stale
    assert stale[0].startswith("ogbg-molbbbp `pool-sum` (3 runs): -0.1000, below by more")
    assert stale[0].endswith("but the decision adopted it")
    # adopted on ESOL alone among the datasets with a lead within the spread
    assert stale.pop(1).startswith("ogbg-molesol `pool-sum` (3 runs): +0.0050, within the spread")
    assert stale[1].startswith("ogbg-molhiv `mystery` (3 runs): ")
    assert stale[1].endswith("but no decision covers `mystery`")
    assert stale[2].startswith("ogbg-molhiv `norm-fanin` (3 runs): +0.1000, more than the spread")
    assert stale[2].endswith("but the decision keeps the default")
    assert stale[3].startswith("ogbg-molsider `pool-sum` (3 runs): +0.1000, more than the spread")
    assert stale[3].endswith("but the decision keeps the default")
    assert stale[4].startswith("ogbg-moltox21 `readout-bn` (3 runs): -0.4100, below by more")
    assert stale[4].endswith("but the decision adopted it")
    assert stale[5] == ("`readout-bn` was adopted, but beats the default it replaced by more "
                        "than the spread on no dataset, with today's featurisation or an older "
                        "one")


def test_runs_of_a_replaced_option_are_marked_where_it_was_replaced(tmp_path):
    """Sum pooling is the default of bbbp only (of these datasets): there, mean-pooling runs
    carry the `(mean pooling)` mark beside `(no readout BN)`, the `pool-sum` runs are today's
    default and compare with the mean-pooling default they replaced; on sider `pool-sum` is a
    variant of the unmarked default."""
    runs, ablations = tmp_path / "runs", tmp_path / "ablations"
    for seed in range(2):
        write_run(runs, "ogbg-molbbbp", "plstm", seed, "rocauc", 0.90, 0.6)
        write_run(runs, "ogbg-molbbbp", "plstm", seed + 2, "rocauc", 0.80, 0.6,
                  readout_norm=False)
        write_run(runs, "ogbg-molsider", "plstm", seed, "rocauc", 0.60, 0.6)
        for dataset in ("ogbg-molbbbp", "ogbg-molsider"):
            write_run(ablations, dataset, "pool-sum", seed, "rocauc", 0.95 - seed / 10, 0.6,
                      pooling="sum")
    write_run(runs, "ogbg-molbbbp", "plstm", 5, "rocauc", 0.95, 0.6, pooling="sum")
    main = summary_rows(load_runs(runs))
    assert sorted((r["dataset"], r["model"], r["runs"]) for r in main) == [
        ("ogbg-molbbbp", "plstm", 1), ("ogbg-molbbbp", "plstm (mean pooling)", 2),
        ("ogbg-molbbbp", "plstm (mean pooling) (no readout BN)", 2),
        ("ogbg-molsider", "plstm", 2)]
    rows = with_main_defaults(summary_rows(load_runs(ablations)), main)
    labels = {(r["dataset"], r["model"]): r for r in rows}
    assert sorted(labels) == [
        ("ogbg-molbbbp", "default (main plstm runs)"),  # seed 5: not a copy of the ablation
        ("ogbg-molbbbp", "default (main plstm runs) (mean pooling)"),
        ("ogbg-molbbbp", "default (main plstm runs) (mean pooling) (no readout BN)"),
        ("ogbg-molbbbp", "pool-sum (now the default)"),
        ("ogbg-molsider", "default (main plstm runs)"), ("ogbg-molsider", "pool-sum")]
    for dataset, variant, reference in [
            ("ogbg-molbbbp", "pool-sum (now the default)",
             "default (main plstm runs) (mean pooling)"),
            ("ogbg-molsider", "pool-sum", "default (main plstm runs)")]:
        assert default_for(labels[dataset, variant], rows)["model"] == reference


def test_a_shared_option_marks_the_runs_of_every_model(tmp_path):
    """The learning rate (``optim.lr``, shared by the models) was replaced on bbbp only: runs of
    either model at the old rate carry its mark there and nowhere else, while an adopted
    ``plstm`` option marks pLSTM runs only."""
    for model in ("plstm", "gine"):
        for dataset in ("ogbg-molbbbp", "ogbg-molhiv"):
            write_run(tmp_path, dataset, model, 0, "rocauc", 0.9, 0.6, lr=1e-3)
        write_run(tmp_path, "ogbg-molbbbp", model, 1, "rocauc", 0.9, 0.6, pooling="sum")
        write_run(tmp_path, "ogbg-moltox21", model, 0, "rocauc", 0.9, 0.6, readout_norm=False)
    labels = sorted((r["dataset"], r["model"], r["seeds"])
                    for r in summary_rows(load_runs(tmp_path)))
    assert labels == [
        ("ogbg-molbbbp", "gine", [1]), ("ogbg-molbbbp", "gine (lr 1e-3)", [0]),
        ("ogbg-molbbbp", "plstm", [1]), ("ogbg-molbbbp", "plstm (lr 1e-3) (mean pooling)", [0]),
        ("ogbg-molhiv", "gine", [0]), ("ogbg-molhiv", "plstm", [0]),
        ("ogbg-moltox21", "gine", [0]), ("ogbg-moltox21", "plstm (no readout BN)", [0])]


def test_a_shared_section_option_of_one_model_marks_only_its_runs(tmp_path):
    """The DAG order sits in the data section, which both models share, but only pLSTM orients
    its graphs: on peptides-func, where `dfs` replaced `canonical`, pLSTM runs in the canonical
    order carry the mark and GINE runs (recorded with the canonical order) do not."""
    for model in ("plstm", "gine"):
        for dataset in ("peptides-func", "ogbg-molhiv"):
            write_run(tmp_path, dataset, model, 0, "ap", 0.4, 0.4)
    write_run(tmp_path, "peptides-func", "plstm", 1, "ap", 0.4, 0.4, dag_order="dfs")
    labels = sorted((r["dataset"], r["model"], r["seeds"])
                    for r in summary_rows(load_runs(tmp_path)))
    assert labels == [
        ("ogbg-molhiv", "gine", [0]), ("ogbg-molhiv", "plstm", [0]),
        ("peptides-func", "gine", [0]), ("peptides-func", "plstm", [1]),
        ("peptides-func", "plstm (canonical order)", [0])]


def test_runs_of_the_old_chiral_tags_are_marked_where_they_changed_the_graphs(tmp_path):
    """Runs made with ``ogb9x3-rank-v1`` (or before run files recorded the featurisation) carry
    its mark on datasets with chiral tags, of either model, and on no other dataset; runs made
    with ``ogb9x3-rank-v2`` carry its mark on the datasets whose cis/trans tags v3 changed
    (clintox), not on the others with chiral tags (sider). On bbbp
    the old `lr-3e-4` runs are still the adopted variant and compare with the old `(lr 1e-3)`
    default of the same featurisation; the old main runs copied from them add no row, and
    the main runs made with today's featurisation are a default of their own."""
    runs = tmp_path / "runs"
    for model in ("plstm", "gine"):
        for dataset in ("ogbg-molclintox", "ogbg-molhiv", "ogbg-molsider"):
            write_run(runs, dataset, model, 0, "rocauc", 0.9, 0.6, featurizer=None)
            write_run(runs, dataset, model, 1, "rocauc", 0.9, 0.6, featurizer="ogb9x3-rank-v1")
            write_run(runs, dataset, model, 2, "rocauc", 0.9, 0.6, featurizer="ogb9x3-rank-v2")
            write_run(runs, dataset, model, 3, "rocauc", 0.9, 0.6)
    labels = sorted((r["dataset"], r["model"], r["seeds"])
                    for r in summary_rows(load_runs(runs)))
    assert labels == [
        ("ogbg-molclintox", "gine", [3]), ("ogbg-molclintox", "gine (v1 chiral tags)", [0, 1]),
        ("ogbg-molclintox", "gine (v2 chiral tags)", [2]),
        ("ogbg-molclintox", "plstm", [3]), ("ogbg-molclintox", "plstm (v1 chiral tags)", [0, 1]),
        ("ogbg-molclintox", "plstm (v2 chiral tags)", [2]),
        ("ogbg-molhiv", "gine", [0, 1, 2, 3]), ("ogbg-molhiv", "plstm", [0, 1, 2, 3]),
        ("ogbg-molsider", "gine", [2, 3]), ("ogbg-molsider", "gine (v1 chiral tags)", [0, 1]),
        ("ogbg-molsider", "plstm", [2, 3]), ("ogbg-molsider", "plstm (v1 chiral tags)", [0, 1])]

    bbbp = tmp_path / "bbbp"
    for seed in range(3):
        write_run(bbbp / "ablations", "ogbg-molbbbp", "lr-3e-4", seed, "rocauc", 0.9, 0.6,
                  featurizer=None, pooling="sum")
        write_run(bbbp / "ablations", "ogbg-molbbbp", "default", seed, "rocauc", 0.8, 0.6,
                  featurizer=None, pooling="sum", lr=1e-3)
        write_run(bbbp / "runs", "ogbg-molbbbp", "plstm", seed, "rocauc", 0.9, 0.6,
                  featurizer=None, pooling="sum")  # copies of the lr-3e-4 runs
        write_run(bbbp / "runs", "ogbg-molbbbp", "plstm", seed + 3, "rocauc", 0.7, 0.6,
                  pooling="sum")
    rows = with_main_defaults(
        summary_rows(load_runs(bbbp / "ablations")),
        summary_rows(load_runs(bbbp / "runs")))
    by_label = {r["model"]: r for r in rows}
    assert sorted(by_label) == ["default (lr 1e-3) (v1 chiral tags)",
                                "default (main plstm runs)",
                                "lr-3e-4 (v1 chiral tags)" + ADOPTED]
    adopted = by_label["lr-3e-4 (v1 chiral tags)" + ADOPTED]
    assert default_for(adopted, rows)["model"] == "default (lr 1e-3) (v1 chiral tags)"
    assert stale_decisions(rows) == []  # history: no decision is checked on it


def test_the_featurisation_table_pairs_each_main_row_with_its_old_featurisation_row(tmp_path):
    """A main row and the same model's row of the replaced featurisation, seed by seed, also
    where both carry a replaced default's mark (lipo's mean pooling), on the seeds both ran
    (clintox's seed 7 has no older run); a row without a partner (an older default with the
    older featurisation only) gives no line."""
    write_run(tmp_path, "ogbg-molclintox", "plstm", 7, "rocauc", 0.1, 0.1)
    for seed, (new, old) in enumerate([(0.80, 0.70), (0.70, 0.75), (0.90, 0.80)]):
        write_run(tmp_path, "ogbg-molclintox", "plstm", seed, "rocauc", new, new - 0.1)
        write_run(tmp_path / "old", "ogbg-molclintox", "plstm", seed, "rocauc", old, old + 0.1,
                  featurizer=None)
        write_run(tmp_path / "old", "ogbg-molclintox", "plstm", seed + 5, "rocauc", 0.5, 0.5,
                  featurizer=None, readout_norm=False)
        write_run(tmp_path, "ogbg-molhiv", "plstm", seed, "rocauc", 0.8, 0.8)
        write_run(tmp_path, "ogbg-mollipo", "plstm", seed, "rmse", 0.7, 0.7, pooling="mean")
        write_run(tmp_path / "old", "ogbg-mollipo", "plstm", seed, "rmse", 0.8 + seed / 100,
                  0.75, featurizer=None, pooling="mean")
    rows = summary_rows(load_runs(tmp_path))
    table = featurization_table(rows)
    lines = [line for line in table.splitlines() if line.startswith("| ogbg-")]
    assert lines == ["| ogbg-molclintox | plstm | rocauc | +0.0500, within the spread (0.1000) | "
                     "better on 0, 2; worse on 1 | -0.1500 | worse on 0, 1, 2 |",
                     "| ogbg-mollipo | plstm (mean pooling) | rmse | +0.1100, more than the "
                     "spread (0.0100) | better on 0, 1, 2 | +0.0500 | better on 0, 1, 2 |"]
    assert featurization_table([r for r in rows if r["dataset"] == "ogbg-molhiv"]) == ""


def smiles_sources(shared_data) -> dict[str, Path]:
    """The SMILES file of every molecule dataset of the tables."""
    sources = {name: shared_data / name.replace("-", "_") / "mapping" / "mol.csv.gz"
               for _, names in GROUPS for name in names if name.startswith("ogbg-")}
    sources["peptides-func"] = (shared_data / "LRGB" / "peptides-functional" / "raw"
                                / "peptide_multi_class_dataset.csv.gz")
    return sources


def test_the_chiral_datasets_are_those_whose_smiles_have_chiral_tags(shared_data):
    """The datasets :data:`CHIRAL_DATASETS` names, where ``ogb9x3-rank-v2`` changed the graphs,
    are exactly the molecule datasets of the results tables with ``@`` in a SMILES."""
    import pandas as pd

    sources = smiles_sources(shared_data)
    chiral = {name for name, path in sources.items() if path.exists()
              and pd.read_csv(path, usecols=["smiles"])["smiles"].str.contains("@").any()}
    assert "ogbg-molpcba" not in chiral  # its molecules are not in the offline data
    assert chiral == set(CHIRAL_DATASETS)


@pytest.mark.slow
def test_cis_trans_datasets_are_those_whose_graphs_v3_changed(shared_data):
    """:data:`CIS_TRANS_CHANGED` names every dataset of the tables, with the number of its
    molecules, where a chiral tag of today's featurisation differs from the tag read in the
    neighbours' canonical-rank order (``ogb9x3-rank-v2``'s reading, computed here from RDKit's
    ranks and the parity of the neighbour order)."""
    import pandas as pd

    sources = smiles_sources(shared_data)
    changed = {}
    for name in CHIRAL_DATASETS:
        count = 0
        for smiles in pd.read_csv(sources[name], usecols=["smiles"])["smiles"]:
            if "@" in smiles:
                count += chiral_column(smiles_to_data(smiles)) != ranked_tags(smiles)
        if count:
            changed[name] = count
    assert changed == CIS_TRANS_CHANGED


def chiral_column(data) -> list[int]:
    return data.x[:, 1].tolist()


def ranked_tags(smiles: str) -> list[int]:
    """OGB's chirality index of every atom's tag as if its bonds were listed by ascending
    canonical rank of the neighbour (CW 1, CCW 2: the one flips to the other on an odd
    permutation)."""
    from rdkit import Chem

    mol = mol_from_smiles(smiles)
    rank = list(Chem.CanonicalRankAtoms(mol, breakTies=True))
    tags = []
    for atom in mol.GetAtoms():
        tag = int(atom.GetChiralTag())
        if tag in (1, 2):
            ranks = [rank[bond.GetOtherAtomIdx(atom.GetIdx())] for bond in atom.GetBonds()]
            odd = sum(a > b for i, a in enumerate(ranks) for b in ranks[i + 1:]) % 2
            tag = 3 - tag if odd else tag
        tags.append(tag if tag <= 3 else 4)  # OGB's list: unspecified, CW, CCW, other, misc
    return tags


def test_configs_follow_the_adopted_defaults():
    """Every config sets an option adopted per dataset to the replaced value exactly where the
    decision did not adopt it: the decision, the configs and the marks agree."""
    configs = {}
    for path in sorted(CONFIGS.glob("*.yaml")):
        config = yaml.safe_load(path.read_text())
        configs[config["data"]["dataset"]] = config
    per_dataset = [a for a in ADOPTIONS if a.datasets]
    # the configs leave the DAG order out where they keep the data module's
    order = inspect.signature(PropertyDataModule).parameters["dag_order"].default
    library_defaults = {"data.dag_order": order}
    assert {a.option for a in per_dataset} == {"plstm.pooling", "optim.lr", "data.dag_order"}
    for adoption in per_dataset:
        assert set(adoption.datasets) <= set(configs)
        section, key = adoption.option.split(".")
        for dataset, config in configs.items():
            value = config[section].get(key, library_defaults.get(adoption.option))
            replaced = value == adoption.replaced
            assert replaced != (dataset in adoption.datasets), (dataset, adoption.option)


def test_committed_runs_support_the_ablation_decisions():
    """Every committed ablation row agrees with the decision that covers it, so a new seed that
    overturns a decision fails here until the decision is revisited."""
    results = SCRIPT.parent
    main = summary_rows(load_runs(results / "runs"))
    rows = with_main_defaults(summary_rows(load_runs(results / "ablations")), main)
    assert any(r["model"] == "readout-bn" + ADOPTED for r in rows)
    assert stale_decisions(rows) == []


def test_committed_readmes_are_regenerated_from_the_committed_runs(tmp_path):
    """The results tables in README.md and results/README.md are what the script makes of the
    committed run files now, so a run file committed without regenerating them fails here."""
    root = SCRIPT.parents[1]
    readme, out = tmp_path / "README.md", tmp_path / "results"
    readme.write_text((root / "README.md").read_text())
    out.mkdir()
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--readme", str(readme)],
                   check=True, capture_output=True)
    assert readme.read_text() == (root / "README.md").read_text()
    assert (out / "README.md").read_text() == (root / "results" / "README.md").read_text()


def test_validation_agreement_counts_each_training_once(tmp_path):
    runs, ablations = tmp_path / "runs", tmp_path / "ablations"
    # five configurations of three seeds: test rises with validation across configurations,
    # falls with it within each one
    for k in range(5):
        for seed in range(3):
            write_run(ablations, "ogbg-molhiv", f"variant-{k}", seed, "rocauc",
                      0.70 + 0.02 * k + 0.001 * seed, 0.70 + 0.02 * k - 0.001 * seed)
    for seed in range(3):  # copies of variant-0: the same trainings under the main runs
        source = ablations / "ogbg-molhiv" / "variant-0" / f"seed{seed}.json"
        copy = runs / "ogbg-molhiv" / "plstm" / f"seed{seed}.json"
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(json.dumps({**json.loads(source.read_text()), "model": "plstm",
                                    "copied_from": str(source)}))
    write_run(runs, "ogbg-molhiv", "gine-vn", 0, "rocauc", 0.9, 0.1)  # not a pLSTM run
    write_run(runs, "ogbg-molesol", "plstm", 0, "rmse", 1.0, 1.0)  # too few runs to correlate
    (row,) = validation_agreement(load_runs(runs), load_runs(ablations))
    assert row["dataset"] == "ogbg-molhiv" and row["runs"] == 15
    assert row["configurations"] == 5  # variant-0's runs count once, under plstm
    assert row["over_means"].statistic == pytest.approx(1.0)
    values = [(0.70 + 0.02 * k + 0.001 * s, 0.70 + 0.02 * k - 0.001 * s)
              for k in range(5) for s in range(3)]
    ranks = [sorted(column).index(v) for column in zip(*values) for v in column]
    n = len(values)
    d2 = sum((a - b) ** 2 for a, b in zip(ranks[:n], ranks[n:]))
    assert row["over_runs"].statistic == pytest.approx(1 - 6 * d2 / (n * (n * n - 1)))
    table = agreement_table([row])
    assert "| ogbg-molhiv | 15 | " in table and "| 5 | +1.00 (p < 0.001) |" in table
