"""``evaluate.py``: score a trained model on a dataset split, or predict new molecules.

    python evaluate.py MODEL [--dataset NAME] [--split test]     # OGB Evaluator metric
    python evaluate.py MODEL --predict input.csv --out preds.csv # predictions for SMILES

``MODEL`` is a compact ``best.pt`` or a Lightning ``.ckpt``. Evaluation uses the split of the
training data that the model records (dataset or CSV file, TU fold, CSV split and columns) unless
``--dataset`` / ``--fold`` say otherwise. Prediction keeps the input rows and columns and adds
one column per output; rows whose SMILES cannot be parsed are reported and left empty.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import pandas as pd
import torch

from plstm_graph.files import atomic_write
from plstm_graph.models import MoleculePredictor, PropertyDataModule, load_module
from plstm_graph.models.datamodule import SPLITS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evaluate.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="compact model file (.pt) or Lightning checkpoint (.ckpt)")
    parser.add_argument("--dataset", help="dataset name or CSV path to evaluate on (default: the "
                                          "training one)")
    parser.add_argument("--split", default="test", choices=SPLITS, help="split to evaluate")
    parser.add_argument("--data_dir", help="data root (default: $PLSTM_DATA_DIR or ./datasets)")
    parser.add_argument("--cache_dir", help="where processed datasets are cached "
                                            "(default: the data root)")
    parser.add_argument("--fold", type=int, help="fold of TU datasets (default: the training one)")
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--device", default="cpu", help="e.g. cpu, cuda, cuda:1")
    parser.add_argument("--predict", metavar="CSV", help="CSV of molecules to predict")
    parser.add_argument("--smiles_column", help="SMILES column of --predict (default: 'smiles' "
                                                "if present, else the first column)")
    parser.add_argument("--out", metavar="CSV", help="where to write predictions (--predict) or "
                                                     "the metric as JSON (evaluation)")
    return parser


def data_options(module, dataset: str | None, fold: int | None) -> dict:
    """The :class:`PropertyDataModule` options of ``module``'s training data (dataset, fold, CSV
    split and columns; models saved without them: the training dataset's name and the defaults),
    with ``dataset`` and ``fold`` given on the command line taking precedence."""
    options = dict(module.task.data_options or {"dataset": module.task.name})
    if dataset is not None:
        options["dataset"] = dataset
    if fold is not None:
        options["fold"] = fold
    return options


@torch.no_grad()
def evaluate_split(module, options: dict, split: str, data_dir: str | None,
                   cache_dir: str | None, batch_size: int, device: str) -> dict:
    """Scores ``module`` on ``split`` of the dataset that the :class:`PropertyDataModule`
    ``options`` define, with the dataset's OGB ``Evaluator``."""
    datamodule = PropertyDataModule(**options, data_dir=data_dir, cache_dir=cache_dir,
                                    eval_batch_size=batch_size,
                                    dag_order=module.featurization.dag_order)
    datamodule.setup("test")
    task = datamodule.task_info()
    if (task.task_type, task.out_channels) != (module.task.task_type, module.task.out_channels):
        raise ValueError(f"the model predicts {module.task.out_channels} output(s) for a "
                         f"{module.task.task_type} task, dataset {task.name!r} has "
                         f"{task.out_channels} for a {task.task_type} task")
    module = module.to(device).eval()
    preds, targets = [], []
    for batch in datamodule.split_dataloader(split):
        batch = batch.to(device)
        preds.append(module.scores(module(batch)).cpu())
        targets.append(module._targets(batch).cpu())
    value = module.evaluate(torch.cat(preds), torch.cat(targets))
    return {"dataset": task.name, "fold": datamodule.fold if datamodule.uses_folds else None,
            "split": split, "metric": task.eval_metric, "value": value,
            "num_graphs": len(datamodule.splits[split])}


def predict_csv(predictor: MoleculePredictor, path: str, out: str,
                smiles_column: str | None, batch_size: int) -> tuple[Path, int, dict[int, str]]:
    """Writes ``path``'s rows plus prediction columns to ``out``; returns the file written, its
    number of rows and the failures by (0-based data) row."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"--predict: file {path!r} does not exist")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    column = smiles_column or ("smiles" if "smiles" in table.columns else table.columns[0])
    if column not in table.columns:
        raise ValueError(f"--smiles_column: {path!r} has no column {column!r} "
                         f"(columns: {', '.join(table.columns)})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # failures are reported below
        pred, failed = predictor.predict(table[column].tolist(), batch_size=batch_size,
                                         return_failures=True)
    for j, name in enumerate(predictor.output_names):
        table[name + "_pred" if name in table.columns else name] = pred[:, j]
    written = atomic_write(out, lambda tmp: table.to_csv(tmp, index=False))
    return written, len(table), failed


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        module = load_module(args.model, map_location="cpu")
        if args.predict:
            if not args.out:
                raise ValueError("--predict needs --out (the predictions CSV)")
            predictor = MoleculePredictor(module, device=args.device)
            out, rows, failed = predict_csv(predictor, args.predict, args.out,
                                            args.smiles_column, args.batch_size)
            for row, reason in failed.items():
                print(f"{args.predict}: row {row} (line {row + 2}): {reason}; prediction left "
                      "empty", file=sys.stderr)
            print(f"Predictions for {rows} rows ({len(failed)} unparsable): {out}")
            return 0
        result = evaluate_split(module, data_options(module, args.dataset, args.fold),
                                args.split, args.data_dir, args.cache_dir, args.batch_size,
                                args.device)
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    print(json.dumps(result))
    if args.out:
        atomic_write(args.out, lambda tmp: Path(tmp).write_text(json.dumps(result, indent=2)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
