"""``train.py``: train a model on a benchmark with Lightning, for one seed or many.

Every option can come from a YAML file (``--config configs/<benchmark>.yaml``) and be overridden
on the command line (``--trainer.max_epochs 5``); ``--print_config`` shows the full config.
Each run writes, under ``<log_dir>/<dataset>/<name>/seed<k>/version_<n>/``, TensorBoard and CSV
logs, Lightning checkpoints (best on the validation metric, and last), the compact model file
``best.pt``, ``config.yaml`` and ``curves.png``; and the results JSON
``<output_dir>/<dataset>/<name>/seed<k>.json`` (plus ``summary.json`` for several seeds).

A killed run loses nothing: all files are written atomically; SIGTERM stops the run with exit
status 143, saving ``checkpoints/last.ckpt`` when it comes during a training batch (elsewhere the
latest step or epoch checkpoint stays the resume point); ``--checkpoint_every_n_steps`` keeps
``last.ckpt`` recent; ``--resume <run>/checkpoints/last.ckpt`` continues the run in its own
folder and replays the uninterrupted run exactly (shuffling, RNG, optimiser, scheduler).
"""
from __future__ import annotations

import math
import re
import sys
import time
import warnings
from pathlib import Path

import lightning as L
import torch
from jsonargparse import ActionConfigFile, ArgumentParser, Namespace
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.plugins.io import CheckpointIO

from plstm_graph.cli.results import (
    epoch_history,
    format_summary,
    git_commit,
    hardware,
    plot_curves,
    summarize,
    write_json,
)
from plstm_graph.files import atomic_write
from plstm_graph.models import OptimConfig, PropertyDataModule, PropertyPredictor, save_compact
from plstm_graph.models.resume import (
    AtomicCheckpointIO,
    ExactResume,
    StopOnSigterm,
    sigterm_exit_status,
)
from plstm_graph.nn.models import MODELS
from plstm_graph.runtime import keep_freed_memory

#: Model arguments that come from the dataset, not from the config.
DATA_DERIVED = {"out_channels", "in_channels", "edge_in_channels"}
#: Trainer arguments the CLI sets itself.
TRAINER_MANAGED = {"callbacks", "logger", "default_root_dir", "enable_checkpointing"}

# Evaluation under DDP gathers predictions and drops the sampler's padding repeats itself.
warnings.filterwarnings("ignore", message=r".*it is recommended to use `Trainer\(devices=1")
# The modules log epoch means only: an epoch of fewer batches than log_every_n_steps (MUTAG,
# PTC_FM) loses no log lines, whatever Lightning's warning suggests.
warnings.filterwarnings("ignore", message=r"The number of training batches \(\d+\) is smaller")

DEFAULTS = {  # the embedded default: pLSTM on ogbg-molfreesolv, a few minutes on 2 CPU cores
    "data.dataset": "ogbg-molfreesolv",
    "data.batch_size": 64,
    "trainer.max_epochs": 60,
    "trainer.devices": 1,
    "trainer.gradient_clip_val": 1.0,
    "trainer.log_every_n_steps": 10,
    "optim.lr": 2e-3,
    "optim.warmup_epochs": 3.0,
}


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="train.py", description=__doc__.split("\n\n")[0],
                            default_env=False)
    parser.add_argument("--config", action=ActionConfigFile, help="YAML config file")
    parser.add_argument("--model", choices=sorted(MODELS), default="plstm",
                        help="architecture; its options are under --<model>.*")
    for name, cls in MODELS.items():
        parser.add_class_arguments(cls, name, skip=DATA_DERIVED)
    parser.add_class_arguments(PropertyDataModule, "data")
    parser.add_class_arguments(OptimConfig, "optim")
    parser.add_class_arguments(L.Trainer, "trainer", skip=TRAINER_MANAGED)
    parser.add_argument("--early_stopping_patience", type=int | None, default=None,
                        help="stop after this many epochs without validation improvement")
    parser.add_argument("--seed", type=int, default=0, help="random seed of a single run")
    parser.add_argument("--seeds", type=str | None, default=None,
                        help="several runs, e.g. '0-9' or '0,3,7' (overrides --seed)")
    parser.add_argument("--name", type=str | None, default=None,
                        help="run name in output paths (default: the model name, '-vn' added "
                             "with a virtual node)")
    parser.add_argument("--output_dir", type=str, default="results/runs",
                        help="where results JSON files go")
    parser.add_argument("--log_dir", type=str, default="runs",
                        help="where logs, checkpoints and model files go")
    parser.add_argument("--resume", type=str | None, default=None,
                        help="Lightning .ckpt to resume training from")
    parser.add_argument("--checkpoint_every_n_steps", type=int | None, default=None,
                        help="also save last.ckpt every this many training steps (so a killed "
                             "run loses little); by default last.ckpt is saved every epoch")
    parser.add_argument("--num_threads", type=int | None, default=None,
                        help="torch CPU threads per process (default: torch's choice; 1 is "
                             "often fastest for small molecules on a busy CPU)")
    parser.set_defaults(DEFAULTS)
    return parser


def parse_seeds(text: str) -> list[int]:
    """``"0-9"`` -> 0..9, ``"0,3,7"`` -> [0, 3, 7]."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            seeds.extend(range(int(lo), int(hi) + 1) if hi else [int(lo)])
    except ValueError:
        raise ValueError(f"--seeds: cannot parse {text!r}; use e.g. '0-9' or '0,3,7'") from None
    if not seeds:
        raise ValueError("--seeds is empty")
    return seeds


def run_name(cfg: Namespace) -> str:
    if cfg.name:
        return cfg.name
    virtual = cfg[cfg.model].get("virtual_node", False)
    return cfg.model + ("-vn" if virtual else "")


def build_run(cfg: Namespace, seed: int) -> tuple[PropertyDataModule, PropertyPredictor]:
    """Seeds everything, loads the data and builds the module (errors here are user errors)."""
    L.seed_everything(seed, workers=True, verbose=False)
    datamodule = PropertyDataModule(**cfg.data.as_dict())
    datamodule.shuffle_seed = seed
    datamodule.prepare_data()
    datamodule.setup("fit")
    task = datamodule.task_info()
    model_args = {**cfg[cfg.model].as_dict(), **datamodule.input_channels(),
                  "out_channels": task.out_channels}
    module = PropertyPredictor.from_parts(cfg.model, model_args, task,
                                          datamodule.featurization(),
                                          OptimConfig(**cfg.optim.as_dict()))
    return datamodule, module


def resume_version(cfg: Namespace, log_name: str) -> int | None:
    """The log version to write to: with ``--resume <log_dir>/<run>/version_<n>/checkpoints/
    x.ckpt`` of this run, version ``n`` (the run continues in its folder, keeping its best
    checkpoint and metrics); otherwise ``None`` (a new version)."""
    if not cfg.resume:
        return None
    ckpt_dir = Path(cfg.resume).resolve().parent
    match = re.fullmatch(r"version_(\d+)", ckpt_dir.parent.name)
    if ckpt_dir.name != "checkpoints" or match is None:
        return None
    if ckpt_dir.parent.parent != (Path(cfg.log_dir) / log_name).resolve():
        return None
    return int(match.group(1))


def finite_or_nan(value) -> float:
    """A metric as a float; NaN when undefined (``ModelCheckpoint`` stores NaN as -inf/inf)."""
    value = float("nan") if value is None else float(value)
    return value if math.isfinite(value) else float("nan")


def with_atomic_io(cfg: Namespace) -> list:
    """``--trainer.plugins`` plus :class:`AtomicCheckpointIO` (unless one is given)."""
    plugins = cfg.trainer.get("plugins")
    plugins = [] if plugins is None else list(plugins) if isinstance(plugins, list) else [plugins]
    if not any(isinstance(p, CheckpointIO) for p in plugins):
        plugins.append(AtomicCheckpointIO())
    return plugins


def fit_and_test(cfg: Namespace, parser: ArgumentParser, seed: int,
                 datamodule: PropertyDataModule, module: PropertyPredictor) -> dict | None:
    """Trains, tests the best-validation checkpoint and (on rank 0) writes the run's files.
    Returns the results record on rank 0, ``None`` elsewhere."""
    start = time.time()
    task, name = module.task, run_name(cfg)
    metric = task.eval_metric
    monitor = f"val_{metric}"
    mode = "max" if task.higher_is_better else "min"
    fold = datamodule.fold if datamodule.uses_folds else None
    run_id = f"seed{seed}" if fold is None else f"fold{fold}-seed{seed}"
    log_name = f"{task.name}/{name}/{run_id}"
    csv = CSVLogger(cfg.log_dir, name=log_name, version=resume_version(cfg, log_name))
    tensorboard = TensorBoardLogger(cfg.log_dir, name=log_name, version=csv.version,
                                    default_hp_metric=False)
    steps = cfg.checkpoint_every_n_steps
    checkpoint = ModelCheckpoint(monitor=monitor, mode=mode,
                                 filename=f"best-{{epoch:03d}}-{{{monitor}:.4f}}")
    # last.ckpt after every epoch, or every `steps` training steps: its own callback, since
    # Lightning 2.6's save_last writes it only together with a new best checkpoint
    latest = (ModelCheckpoint(filename="last", enable_version_counter=False) if steps is None
              else ModelCheckpoint(every_n_train_steps=steps, save_top_k=0, save_last=True,
                                   enable_version_counter=False))
    callbacks = [checkpoint, latest, ExactResume(), StopOnSigterm(lambda: checkpoint.dirpath)]
    if cfg.early_stopping_patience is not None:
        callbacks.append(EarlyStopping(monitor=monitor, mode=mode,
                                       patience=cfg.early_stopping_patience))
    trainer = L.Trainer(**(cfg.trainer.as_dict() | {"plugins": with_atomic_io(cfg)}),
                        callbacks=callbacks, logger=[csv, tensorboard])
    if trainer.is_global_zero:
        print(f"{name} on {task.name}: {module.num_parameters:,} parameters")
    with sigterm_exit_status():
        trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.resume)
        # the best checkpoint named, not "best": with two ModelCheckpoint callbacks Lightning
        # warns on every run that it picks the first one
        tested = trainer.test(module, datamodule=datamodule, ckpt_path=checkpoint.best_model_path,
                              verbose=False)
    if not trainer.is_global_zero:
        return None

    run_dir = Path(csv.log_dir)
    best = PropertyPredictor.load_from_checkpoint(checkpoint.best_model_path,
                                                  map_location="cpu", weights_only=True)
    compact = save_compact(best, run_dir / "best.pt")
    atomic_write(run_dir / "config.yaml", lambda tmp: parser.save(cfg, tmp, overwrite=True,
                                                                  skip_check=True))
    history = epoch_history(run_dir / "metrics.csv")
    curves = plot_curves(history, metric, run_dir / "curves.png", title=f"{task.name} {name} "
                         f"seed {seed}")
    scores = history[monitor].dropna() if monitor in history else None
    best_epoch = None
    if scores is not None and len(scores):
        best_epoch = int(scores.idxmax() if task.higher_is_better else scores.idxmin())
    record = {
        "dataset": task.name, "model": name, "seed": seed, "fold": fold, "metric": metric,
        "val_metric": finite_or_nan(checkpoint.best_model_score),
        "test_metric": float(tested[0][f"test_{metric}"]),
        "params": module.num_parameters,
        "featurizer": module.featurization.featurizer,
        "config": cfg.clone().as_dict() | {"seed": seed, "seeds": None},
        "commit": git_commit(), "epochs": trainer.current_epoch,
        "wall_time_s": round(time.time() - start, 2),
        "hardware": hardware(cfg.trainer.accelerator, cfg.trainer.devices,
                             cfg.trainer.num_nodes),
        "best_epoch": best_epoch, "model_file": str(compact),
        "checkpoint": checkpoint.best_model_path, "log_dir": str(run_dir),
        "curves": str(curves),
    }
    results = write_json(Path(cfg.output_dir) / task.name / name / f"{run_id}.json", record)
    print(f"Test {metric} at the best validation epoch ({best_epoch}): "
          f"{record['test_metric']:.4f} (validation {record['val_metric']:.4f})")
    print(f"Compact checkpoint: {compact}")
    print(f"Results: {results}")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    cfg = parser.parse_args(argv)
    try:
        seeds = parse_seeds(cfg.seeds) if cfg.seeds else [cfg.seed]
        if cfg.resume and not Path(cfg.resume).is_file():
            raise FileNotFoundError(f"--resume: checkpoint file {cfg.resume!r} does not exist")
        if cfg.resume and len(seeds) > 1:
            raise ValueError("--resume continues one run; it cannot be combined with --seeds")
    except (ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    keep_freed_memory()
    records = []
    for seed in seeds:
        try:
            datamodule, module = build_run(cfg, seed)
        except (ValueError, FileNotFoundError, TypeError) as exc:
            parser.error(f"{exc}")
        record = fit_and_test(cfg, parser, seed, datamodule, module)
        if record is not None:
            records.append(record)
    if len(records) > 1:
        summary = summarize(records)
        fold = records[0]["fold"]
        filename = "summary.json" if fold is None else f"fold{fold}-summary.json"
        path = write_json(Path(cfg.output_dir) / summary["dataset"] / records[0]["model"]
                          / filename, summary)
        print(format_summary(summary))
        print(f"Summary: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
