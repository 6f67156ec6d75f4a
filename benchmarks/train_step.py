"""Seconds per training step of a ``train.py`` configuration: the data, model and batch size
that a run would use, forward + backward + AdamW, and the epoch time that follows. For sizing
runs on a machine before starting them.

    python -m benchmarks.train_step [--device cuda] [--window 10] \
        -- --config configs/peptides-func.yaml --model plstm

Options after ``--`` are ``train.py``'s. To measure processes that share one device, start
several with the same ``--barrier DIR --processes N``: each warms up, waits until all N have,
then counts steps for ``--window`` seconds, so that every figure includes the others' load.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from plstm_graph.cli.train import build_parser, build_run


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.train_step", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="e.g. cuda")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--steps", type=int, default=12,
                        help="timed steps (unless --window is given)")
    parser.add_argument("--window", type=float, default=None,
                        help="time steps for this many seconds instead of counting them")
    parser.add_argument("--barrier", type=Path, default=None,
                        help="a folder the processes of one measurement share")
    parser.add_argument("--processes", type=int, default=1,
                        help="how many processes use --barrier")
    parser.add_argument("--tag", default=None,
                        help="name of this process in the output (default: its process id)")
    args, train_args = parser.parse_known_args(argv)
    args.tag = args.tag or f"pid{os.getpid()}"
    if args.steps < 1 or (args.window is not None and args.window <= 0):
        parser.error("--steps must be at least 1 and --window above 0")
    return args, [a for a in train_args if a != "--"]


def wait_for_all(barrier: Path, tag: str, processes: int, timeout: float = 300.0) -> None:
    barrier.mkdir(parents=True, exist_ok=True)
    (barrier / tag).touch()
    start = time.monotonic()
    while sum(1 for _ in barrier.iterdir()) < processes:
        if time.monotonic() - start > timeout:
            raise SystemExit(f"--barrier {str(barrier)!r}: fewer than {processes} processes "
                             f"arrived within {timeout:.0f} s")
        time.sleep(0.05)


def measure(args: argparse.Namespace, train_args: list[str]) -> dict:
    cfg = build_parser().parse_args(train_args)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    datamodule, module = build_run(cfg, cfg.seed)
    module = module.to(args.device).train()
    optim = torch.optim.AdamW(module.parameters(), lr=cfg.optim.lr)
    loader = datamodule.train_dataloader()
    batches = iter(loader)

    def step() -> None:
        nonlocal batches
        batch = next(batches, None)
        if batch is None:
            batches = iter(loader)
            batch = next(batches)
        batch = batch.to(args.device)
        optim.zero_grad()
        module.loss(module(batch), module._targets(batch)).backward()
        optim.step()

    def synchronize() -> None:
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        step()
    synchronize()
    if args.barrier is not None:
        wait_for_all(args.barrier, args.tag, args.processes)
    start, steps = time.perf_counter(), 0
    while (time.perf_counter() - start < args.window) if args.window else steps < args.steps:
        step()
        steps += 1
    synchronize()
    seconds = (time.perf_counter() - start) / steps
    return {"tag": args.tag, "dataset": datamodule.task_info().name, "model": cfg.model,
            "params": module.num_parameters, "device": args.device, "steps": steps,
            "s_per_step": round(seconds, 5), "steps_per_epoch": len(loader),
            "epoch_train_s": round(seconds * len(loader), 2)}


def main(argv: list[str] | None = None) -> None:
    args, train_args = parse_args(argv)
    print(json.dumps(measure(args, train_args)), flush=True)


if __name__ == "__main__":
    main()
