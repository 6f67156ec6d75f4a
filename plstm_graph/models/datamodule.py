"""A ``LightningDataModule`` for every dataset :func:`plstm_graph.data.load_dataset` knows."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from lightning.pytorch import LightningDataModule
from torch.utils.data import Dataset
from torch_geometric.loader import DataLoader

from plstm_graph.data import FEATURIZATION_VERSION, load_dataset
from plstm_graph.data.api import resolve_name
from plstm_graph.models.resume import ResumableLoader
from plstm_graph.models.task import Featurization, TaskInfo
from plstm_graph.nn.models.base import OGB_ATOM, OGB_BOND
from plstm_graph.transforms import LineDAG

SPLITS = ("train", "valid", "test")


class IndexedSubset(Dataset):
    """The graphs ``dataset[indices]``, each tagged with ``sample_id`` (its dataset index) so
    predictions gathered from several processes can be de-duplicated."""

    def __init__(self, dataset, indices: torch.Tensor) -> None:
        self.dataset = dataset
        self.indices = indices.long()

    def __len__(self) -> int:
        return self.indices.numel()

    def __getitem__(self, i: int):
        data = self.dataset[int(self.indices[i])]
        data.sample_id = self.indices[i:i + 1]
        return data


class PropertyDataModule(LightningDataModule):
    """Graph-property datasets (OGB / MoleculeNet names, TU sets, ``peptides-func``, CSV files)
    with their official splits, the pLSTM line-DAG pre-transform and PyG data loaders.

    Args:
        dataset: a name known to :func:`plstm_graph.data.load_dataset` or a CSV path.
        data_dir: data root (default: ``$PLSTM_DATA_DIR``, else ``<repo>/datasets``).
        cache_dir: where processed datasets are cached (default: ``data_dir``).
        batch_size: training batch size (graphs per process).
        eval_batch_size: batch size for validation, test and prediction (default: 4 x
            ``batch_size``).
        num_workers: data-loader worker processes.
        fold: cross-validation fold (TU datasets).
        dag_order: node order that orients the graphs (``"canonical"``, ``"index"``, ``"bfs"``,
            ``"dfs"``).
        smiles_column: CSV datasets: the SMILES column.
        target_columns: CSV datasets: label columns (default: all other columns).
        task_type: CSV datasets: ``"regression"`` or ``"binary classification"`` (default:
            inferred from the labels).
        split: CSV datasets: ``"scaffold"`` or ``"random"``.
        on_invalid: molecule datasets: ``"raise"`` (a SMILES that cannot be parsed is an error
            naming its row) or ``"skip"`` (such rows are left out, with a warning).
    """

    def __init__(self, dataset: str = "ogbg-molfreesolv", data_dir: str | None = None,
                 cache_dir: str | None = None,
                 batch_size: int = 64, eval_batch_size: int | None = None,
                 num_workers: int = 0, fold: int = 0, dag_order: str = "canonical",
                 smiles_column: str = "smiles", target_columns: list[str] | None = None,
                 task_type: str | None = None, split: str = "scaffold",
                 on_invalid: Literal["raise", "skip"] = "raise") -> None:
        super().__init__()
        self.dataset_name = dataset
        self.data_dir = data_dir
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or 4 * batch_size
        self.num_workers = num_workers
        self.fold = fold
        self.dag_order = dag_order
        self.on_invalid = on_invalid
        self.csv_options = dict(smiles_column=smiles_column, target_columns=target_columns,
                                task_type=task_type, split=split)
        self.dataset = None
        self.splits: dict[str, IndexedSubset] = {}
        #: seed of the training-split shuffle (``train.py`` sets the run's seed)
        self.shuffle_seed = 0

    def load(self):
        """Loads (and on first use featurises and caches) the dataset."""
        return load_dataset(self.dataset_name, root=self.data_dir, cache_dir=self.cache_dir,
                            pre_transform=LineDAG(self.dag_order), fold=self.fold,
                            on_invalid=self.on_invalid, log=False, **self.csv_options)

    @property
    def uses_folds(self) -> bool:
        """Whether the dataset's split is a cross-validation fold (TU datasets)."""
        self._require_setup()
        return hasattr(self.dataset, "fold")

    def prepare_data(self) -> None:
        self.load()

    def setup(self, stage: str | None = None) -> None:
        if self.dataset is not None:
            return
        self.dataset = self.load()
        index = self.dataset.get_idx_split()
        for split in SPLITS:
            if split not in index or index[split].numel() == 0:
                raise ValueError(f"dataset {self.dataset_name!r} has an empty '{split}' split")
            self.splits[split] = IndexedSubset(self.dataset, index[split])

    def _require_setup(self) -> None:
        if self.dataset is None:
            raise RuntimeError("PropertyDataModule.setup() must run first")

    def task_info(self) -> TaskInfo:
        """The task, with regression targets standardised on the training split."""
        self._require_setup()
        ds = self.dataset
        task = TaskInfo(name=ds.name, task_type=ds.task_type, eval_metric=ds.eval_metric,
                        num_tasks=int(ds.num_tasks),
                        task_names=list(getattr(ds, "task_names", None) or []) or None,
                        data_options=self.data_options())
        if task.is_multiclass:
            task.num_classes = int(ds.num_classes)
        if task.is_regression:
            y = ds.y[self.splits["train"].indices].reshape(-1, task.num_tasks).double()
            labelled = ~torch.isnan(y)
            count = labelled.sum(0).clamp(min=1)
            mean = torch.where(labelled, y, 0).sum(0) / count
            var = torch.where(labelled, (y - mean) ** 2, 0).sum(0) / (count - 1).clamp(min=1)
            std = var.sqrt().clamp(min=1e-6)
            task.target_mean, task.target_std = mean.tolist(), std.tolist()
        return task

    def data_options(self) -> dict:
        """The constructor options that define the dataset and its split (``dataset``,
        ``fold``, ``on_invalid`` and the CSV options), as plain data: models keep them in
        :attr:`TaskInfo.data_options` so that ``evaluate.py`` scores them on the same split."""
        dataset = self.dataset_name
        if resolve_name(dataset)[0] == "csv":  # found again from another working directory
            dataset = str(Path(dataset).resolve())
        return dict(self.csv_options, dataset=dataset, fold=self.fold, on_invalid=self.on_invalid)

    def input_channels(self) -> dict:
        """``in_channels`` / ``edge_in_channels`` for :class:`~plstm_graph.nn.models.GraphNet`:
        OGB atom / bond encoders for long (categorical) features, linear ones for floats."""
        self._require_setup()
        sample = self.dataset[0]
        x, edge_attr = sample.x, sample.edge_attr
        if x is None:
            raise ValueError(f"dataset {self.dataset_name!r} has no node features")
        node = OGB_ATOM if not x.is_floating_point() else x.size(-1)
        edge = None
        if edge_attr is not None:
            edge = OGB_BOND if not edge_attr.is_floating_point() else edge_attr.view(
                edge_attr.size(0), -1).size(-1)
        return {"in_channels": node, "edge_in_channels": edge}

    def featurization(self) -> Featurization:
        return Featurization(featurizer=FEATURIZATION_VERSION, dag_order=self.dag_order)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        self._require_setup()
        batch_size = self.batch_size if shuffle else self.eval_batch_size
        options = dict(drop_last=shuffle and len(self.splits[split]) > batch_size,
                       num_workers=self.num_workers, persistent_workers=self.num_workers > 0)
        trainer = self.trainer
        if shuffle and (trainer is None or trainer.world_size == 1):
            # resumable mid-epoch (see plstm_graph.models.resume); DDP uses Lightning's sampler
            def consumed() -> int:
                return self.trainer.fit_loop.epoch_loop.batch_progress.current.ready

            return ResumableLoader(self.splits[split], batch_size, seed=self.shuffle_seed,
                                   consumed=consumed if trainer is not None else None,
                                   **options)
        # own generators: loaders never draw from the global RNG (exact resumption)
        return DataLoader(self.splits[split], batch_size=batch_size, shuffle=shuffle,
                          generator=torch.Generator().manual_seed(self.shuffle_seed), **options)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("valid", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def split_dataloader(self, split: str) -> DataLoader:
        """The evaluation loader of ``split`` (``train``, ``valid`` or ``test``)."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; choose one of {SPLITS}")
        return self._loader(split, shuffle=False)

