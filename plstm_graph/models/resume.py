"""Runs that survive being killed: atomic checkpoint files, a SIGTERM stop that saves
``last.ckpt`` and exits with status 143, and exact mid-epoch resumption.

Exactness rests on three pieces, so that a resumed run replays the uninterrupted one:

* :class:`EpochSampler` shuffles the training split with a permutation that depends only on the
  seed and the epoch, and :class:`ResumableLoader` records how many batches of the epoch were
  consumed (Lightning stores that in the checkpoint and hands it back on resume), so the resumed
  epoch skips exactly the batches already trained on.
* Every data loader draws its worker base seed from its own generator, never from the global
  one, so the global RNG is consumed by the model alone (dropout).
* :class:`ExactResume` stores the global RNG states (torch, CUDA, numpy, python) in the checkpoint
  and restores them right before the first training batch after resuming.
"""
from __future__ import annotations

import random
import signal
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.plugins.io import TorchCheckpointIO
from lightning.pytorch.utilities.exceptions import SIGTERMException
from torch.utils.data import Sampler
from torch_geometric.loader import DataLoader

from plstm_graph.files import atomic_write

#: Exit status of a run stopped by SIGTERM (128 + SIGTERM, as a shell reports it).
SIGTERM_EXIT = 128 + signal.SIGTERM


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint I/O that writes a temporary file in the target folder and renames
    it, so a kill mid-save leaves the previous checkpoint intact. (Lightning's own save goes
    through an fsspec transaction whose temporary file lives in the system temp folder and is
    moved with ``shutil.move``: a copy, not a rename, across file systems.)"""

    def save_checkpoint(self, checkpoint, path, storage_options=None) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO.save_checkpoint takes no storage_options")
        atomic_write(path, lambda tmp: torch.save(checkpoint, tmp))


class EpochSampler(Sampler[int]):
    """A random permutation of ``range(size)`` per epoch, a function of ``(seed, epoch)`` only.
    :meth:`resume_at` makes the next pass over ``epoch`` skip its first ``skip`` samples."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size, self.seed, self.epoch = size, seed, 0
        self._resume: tuple[int, int] | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def resume_at(self, epoch: int, skip: int) -> None:
        self._resume = (epoch, skip)

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.size, generator=generator)
        resume, self._resume = self._resume, None
        if resume is not None and resume[0] == self.epoch:
            order = order[resume[1]:]
        return iter(order.tolist())


class ResumableLoader(DataLoader):
    """The training loader: shuffles with an :class:`EpochSampler` and implements
    ``state_dict`` / ``load_state_dict``, which Lightning saves in checkpoints and restores, so
    a mid-epoch resume continues with the batches the interrupted epoch had not reached.

    Args:
        dataset: the training graphs.
        batch_size: graphs per batch.
        seed: the shuffling seed.
        consumed: a callable giving the number of batches of the current epoch handed to the
            training loop (not those merely prefetched).
        **kwargs: further :class:`torch_geometric.loader.DataLoader` arguments.
    """

    def __init__(self, dataset, batch_size: int, seed: int = 0, consumed=None, **kwargs) -> None:
        self.epoch_sampler = EpochSampler(len(dataset), seed)
        self.consumed = consumed
        kwargs.setdefault("generator", torch.Generator().manual_seed(seed))
        super().__init__(dataset, batch_size=batch_size, sampler=self.epoch_sampler, **kwargs)

    def state_dict(self) -> dict:
        batches = int(self.consumed()) if self.consumed is not None else 0
        return {"epoch": self.epoch_sampler.epoch, "batches": batches,
                "batch_size": self.batch_size, "seed": self.epoch_sampler.seed}

    def load_state_dict(self, state: dict) -> None:
        if state.get("batch_size") != self.batch_size or state.get("seed") != \
                self.epoch_sampler.seed:
            raise ValueError(
                f"the checkpoint's training loader used batch size {state.get('batch_size')} and "
                f"seed {state.get('seed')}; this run has {self.batch_size} and "
                f"{self.epoch_sampler.seed}. Resume with the same settings")
        self.epoch_sampler.resume_at(state["epoch"], state["batches"] * self.batch_size)


def rng_states() -> dict:
    """The global RNG states as tensors and plain values (loadable with
    ``torch.load(weights_only=True)``)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    states = {"torch": torch.get_rng_state(), "python": random.getstate(),
              "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss),
                        float(gauss)]}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    """Restores what :func:`rng_states` returned."""
    torch.set_rng_state(states["torch"])
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


class ExactResume(Callback):
    """Saves the global RNG states in checkpoints and restores them before the first training
    batch after a resume; and hands the training loader its saved position.

    (Lightning restores data-loader states when it sets up the training data, but
    ``configure_optimizers`` reads ``trainer.estimated_stepping_batches``, which sets the data
    up before the checkpoint is restored, so the states would never be loaded.)"""

    def __init__(self) -> None:
        self._pending: dict | None = None

    def state_dict(self) -> dict:
        return {"rng": rng_states()}

    def load_state_dict(self, state_dict: dict) -> None:
        self._pending = state_dict.get("rng")

    def on_train_start(self, trainer, pl_module) -> None:
        trainer.fit_loop._load_combined_loader_states()  # no-op unless restarting mid-epoch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self._pending is not None:
            set_rng_states(self._pending)
            self._pending = None


class StopOnSigterm(Callback):
    """Makes SIGTERM a resumable stop with exit status 143 (:data:`SIGTERM_EXIT`).

    Lightning notes SIGTERM in ``trainer.received_sigterm`` and raises ``SIGTERMException`` at
    the next safe point: after a training batch, a validation batch or an epoch. That exception
    is a ``SystemExit`` with status 0, so without help a stopped run looks finished to a
    scheduler. This callback saves ``<checkpoint dir>/last.ckpt`` when the signal came during a
    training batch (the point a resume replays exactly); a signal anywhere else leaves the
    latest step or epoch checkpoint as the resume point. Run ``fit``/``test`` inside
    :func:`sigterm_exit_status` to get the 143. Under DDP, Lightning broadcasts rank 0's signal.

    Args:
        dirpath: a callable returning the checkpoint folder (known once the trainer is set up).
    """

    def __init__(self, dirpath) -> None:
        self.dirpath = dirpath

    def _last(self) -> Path:
        return Path(self.dirpath()) / "last.ckpt"

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.received_sigterm:  # Lightning stops right after this hook
            trainer.save_checkpoint(self._last())

    def on_exception(self, trainer, pl_module, exception) -> None:
        if isinstance(exception, SIGTERMException) and trainer.is_global_zero:
            last = self._last()
            print(f"SIGTERM: stopped; resume with --resume {last}" if last.is_file()
                  else "SIGTERM: stopped before the first checkpoint", flush=True)


@contextmanager
def sigterm_exit_status():
    """Turns Lightning's ``SIGTERMException`` (exit status 0) into ``SystemExit(143)``."""
    try:
        yield
    except SIGTERMException:
        raise SystemExit(SIGTERM_EXIT) from None
