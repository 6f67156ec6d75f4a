"""Faults (issue #7, item 3): a training run killed mid-epoch with SIGTERM or SIGKILL resumes from
``last.ckpt`` and ends with the same metrics as an uninterrupted run; files are written
atomically."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.demos.boring_classes import BoringModel

from plstm_graph.cli.results import plot_curves, write_json
from plstm_graph.files import atomic_write
from plstm_graph.models.resume import (
    SIGTERM_EXIT,
    AtomicCheckpointIO,
    EpochSampler,
    StopOnSigterm,
    sigterm_exit_status,
)

REPO = Path(__file__).resolve().parents[1]
#: Resumed vs uninterrupted final metrics on CPU with one thread: the resumed run replays the
#: uninterrupted one (same shuffles, RNG, optimiser and scheduler state), so they are equal
#: exactly (relative tolerance 0).
RESUME_RTOL = 0.0


# ------------------------------------------------------------------------------ atomic writes
def test_atomic_write_failure_keeps_old_file(tmp_path):
    path = tmp_path / "result.json"
    write_json(path, {"value": 1})

    def half_write(tmp):
        Path(tmp).write_text('{"value": 2, "trunc')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_write)
    assert json.loads(path.read_text()) == {"value": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]  # no partial file


def test_atomic_checkpoint_io_failure_keeps_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"step": 1}, path)
    real_save = torch.save

    def failing_save(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"PK\x03\x04 partial")
        raise KeyboardInterrupt  # killed mid-write

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"step": 2}, path)
    monkeypatch.setattr(torch, "save", real_save)
    assert torch.load(path, weights_only=True) == {"step": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]


def test_curves_png_written_atomically(tmp_path):
    import pandas as pd

    history = pd.DataFrame({"train_loss": [1.0, 0.5], "val_loss": [1.1, 0.6],
                            "val_rmse": [2.0, 1.5]}, index=pd.Index([0, 1], name="epoch"))
    path = plot_curves(history, "rmse", tmp_path / "curves.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]


# ------------------------------------------------------------------------------ shuffling
def test_epoch_sampler_is_a_function_of_seed_and_epoch_and_resumes():
    a, b = EpochSampler(50, seed=3), EpochSampler(50, seed=3)
    a.set_epoch(2)
    b.set_epoch(2)
    full = list(a)
    assert sorted(full) == list(range(50)) and full == list(b)
    a.set_epoch(1)
    assert list(a) != full
    b.resume_at(2, skip=20)
    assert list(b) == full[20:]
    assert list(b) == full  # the skip applies to one pass only
    b.resume_at(1, skip=20)  # another epoch: no skip
    assert list(b) == full


# ------------------------------------------------------------------------------ SIGTERM stop
class _SigtermAt(Callback):
    """Sends this process SIGTERM at the start of training batch ``batch`` or validation batch 0."""

    def __init__(self, stage: str, batch: int = 0) -> None:
        self.stage, self.batch = stage, batch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.stage == "train" and trainer.global_step == self.batch:
            os.kill(os.getpid(), signal.SIGTERM)

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
        if self.stage == "validation" and not trainer.sanity_checking and batch_idx == 0:
            os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.parametrize("stage", ["train", "validation"])
def test_sigterm_stops_with_status_143(stage, tmp_path, capsys):
    """Lightning's own SIGTERM stop exits with status 0; wherever the signal lands, the run must
    exit with 143, and a signal during a training batch saves last.ckpt right after it."""
    stop = StopOnSigterm(lambda: tmp_path)
    trainer = L.Trainer(max_epochs=2, limit_train_batches=6, limit_val_batches=4,
                        num_sanity_val_steps=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False,
                        callbacks=[stop, _SigtermAt(stage, batch=3)])
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as stopped, sigterm_exit_status():
        trainer.fit(BoringModel())
    assert stopped.value.code == SIGTERM_EXIT
    assert signal.getsignal(signal.SIGTERM) == previous  # Lightning's handler is gone again
    last = tmp_path / "last.ckpt"
    if stage == "train":  # batch 3 finished, then the stop
        assert torch.load(last, weights_only=True)["global_step"] == 4
        assert f"resume with --resume {last}" in capsys.readouterr().out
    else:  # mid-validation: no new checkpoint; the run had none before
        assert not last.exists()
        assert "stopped before the first checkpoint" in capsys.readouterr().out


# ------------------------------------------------------------------------------ kill and resume
def _command(shared_data, data_cache, out: Path, *extra: str) -> list[str]:
    return [sys.executable, str(REPO / "train.py"),
            "--data.data_dir", str(shared_data), "--data.cache_dir", str(data_cache),
            "--output_dir", str(out / "results"), "--log_dir", str(out / "runs"),
            "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
            "--plstm.hidden_channels", "16", "--plstm.dropout", "0.2",
            "--trainer.max_epochs", "3", "--optim.warmup_epochs", "1",
            "--checkpoint_every_n_steps", "2", "--num_threads", "1", "--seed", "5", *extra]


def _record(out: Path) -> dict:
    return json.loads((out / "results/ogbg-molfreesolv/plstm/seed5.json").read_text())


def _kill_after_first_checkpoint(command: list[str], ckpt_dir: Path, sig: int) -> int:
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 300
    while not (ckpt_dir / "last.ckpt").exists():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"run ended before its first checkpoint:\n{proc.communicate()[0][-3000:]}")
        time.sleep(0.02)
    os.kill(proc.pid, sig)
    output = proc.communicate(timeout=300)[0]
    assert "Results:" not in output, "the run finished before the kill"
    return proc.returncode


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_metric(shared_data, data_cache, tmp_path):
    # warm the processed-dataset cache so every run starts equally fast
    reference = tmp_path / "reference"
    done = subprocess.run(_command(shared_data, data_cache, reference), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    expected = _record(reference)

    for sig in (signal.SIGTERM, signal.SIGKILL):
        out = tmp_path / sig.name
        command = _command(shared_data, data_cache, out)
        ckpt_dir = out / "runs/ogbg-molfreesolv/plstm/seed5/version_0/checkpoints"
        code = _kill_after_first_checkpoint(command, ckpt_dir, sig)
        assert code == (SIGTERM_EXIT if sig == signal.SIGTERM else -signal.SIGKILL)
        last = ckpt_dir / "last.ckpt"
        state = torch.load(last, map_location="cpu", weights_only=True)
        assert state["epoch"] < 3 and state["global_step"] > 0  # a mid-run checkpoint
        if sig == signal.SIGTERM:  # a clean stop leaves no temporary files
            assert not [p for p in ckpt_dir.iterdir() if p.suffix == ".tmp"]

        resumed = subprocess.run([*command, "--resume", str(last)], capture_output=True,
                                 text=True, timeout=600)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        record = _record(out)
        assert record["log_dir"].endswith("version_0")  # continued in the run's own folder
        assert record["epochs"] == expected["epochs"]
        assert record["best_epoch"] == expected["best_epoch"]
        for key in ("val_metric", "test_metric"):
            assert record[key] == pytest.approx(expected[key], rel=RESUME_RTOL, abs=0), \
                (sig.name, key, record[key], expected[key])
