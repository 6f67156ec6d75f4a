"""PyG transforms that precompute the pLSTM line-DAG structure once per graph."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from plstm_graph.dag import ORDERS, LineDAGIndex, build_line_dag


class DAGData(Data):
    """A :class:`~torch_geometric.data.Data` whose line-DAG fields batch as a disjoint union.

    ``dag_edge`` holds columns of ``edge_index`` (offset by the number of edges) and
    ``line_index`` holds DAG edge ids (offset by the number of DAG edges).
    """

    def __inc__(self, key: str, value: Any, *args, **kwargs) -> Any:
        if key == "dag_edge":
            return self.edge_index.size(1)
        if key == "line_index":
            return self.dag_edge.numel()
        return super().__inc__(key, value, *args, **kwargs)


class LineDAG(BaseTransform):
    r"""Orients a graph into a DAG and stores its line DAG for :class:`~plstm_graph.nn.PLSTMConv`.

    Adds the fields of :class:`~plstm_graph.dag.LineDAGIndex` (``dag_edge``, ``line_index``,
    ``line_keep``, ``line_keep_rev``, ``dag_level``, ``dag_level_rev``) and returns a
    :class:`DAGData`, so ``Batch``/``DataLoader`` build the disjoint union. Use it as a
    ``pre_transform`` so it runs once per graph; :meth:`transform_many` processes a list of
    graphs in vectorised chunks, which is much faster than one call per graph.

    Args:
        order (str, optional): the node order that orients undirected edges: ``"canonical"``
            (the graph's ``canonical_rank`` field, e.g. RDKit canonical atom ranks, or
            Weisfeiler-Lehman ranks of ``x`` when the field is absent), ``"index"`` (node
            numbering, as in the reference code), ``"bfs"`` (breadth-first from a canonical
            pseudo-peripheral root) or ``"dfs"`` (depth-first from that root, neighbours in
            canonical order: the longest paths). Directed acyclic inputs keep their own
            directions.
            (default: :obj:`"canonical"`)
    """

    def __init__(self, order: str = "canonical") -> None:
        if order not in ORDERS:
            raise ValueError(f"Unknown DAG order '{order}'; choose one of {ORDERS}")
        self.order = order

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(order={self.order!r}, version=1)"

    def forward(self, data: Data) -> DAGData:
        return self.transform_many([data])[0]

    def transform_many(self, data_list: Sequence[Data], chunk_size: int = 2048) -> list[DAGData]:
        """Applies the transform to many graphs, vectorised over chunks of ``chunk_size``."""
        for field in ("canonical_rank", "x"):
            _check_all_or_none(data_list, field)
        out: list[DAGData] = []
        for start in range(0, len(data_list), chunk_size):
            out.extend(self._transform_chunk(data_list[start:start + chunk_size]))
        return out

    def _transform_chunk(self, data_list: Sequence[Data]) -> list[DAGData]:
        num_nodes = torch.tensor([d.num_nodes for d in data_list])
        num_edges = torch.tensor([d.edge_index.size(1) for d in data_list])
        node_offset = torch.cumsum(num_nodes, 0) - num_nodes
        edge_offset = torch.cumsum(num_edges, 0) - num_edges
        batch = torch.repeat_interleave(torch.arange(len(data_list)), num_nodes)
        edge_index = torch.cat([d.edge_index + o for d, o in zip(data_list, node_offset.tolist())],
                               dim=1)
        rank = None
        if self.order != "index" and all("canonical_rank" in d for d in data_list):
            rank = torch.cat([d.canonical_rank for d in data_list])
        x = None
        if rank is None and all(d.x is not None for d in data_list):
            x = torch.cat([d.x for d in data_list])
        index = build_line_dag(edge_index, int(num_nodes.sum()), batch, self.order, rank, x)

        # Split the batched structure back into graphs with local numbering.
        edge_graph = batch[edge_index[0, index.dag_edge]]
        dag_counts = torch.bincount(edge_graph, minlength=len(data_list))
        dag_offset = torch.cumsum(dag_counts, 0) - dag_counts
        line_graph = edge_graph[index.line_index[1]]
        line_counts = torch.bincount(line_graph, minlength=len(data_list)).tolist()
        dag_counts = dag_counts.tolist()

        dag_edge = (index.dag_edge - edge_offset[edge_graph]).split(dag_counts)
        line_index = (index.line_index - dag_offset[line_graph]).split(line_counts, dim=1)
        per_edge = [t.split(dag_counts) for t in (index.dag_level, index.dag_level_rev)]
        per_line = [t.split(line_counts) for t in (index.line_keep, index.line_keep_rev)]

        out = []
        for i, data in enumerate(data_list):
            fields = LineDAGIndex(dag_edge[i], line_index[i], per_line[0][i], per_line[1][i],
                                  per_edge[0][i], per_edge[1][i])
            new = DAGData(**data.to_dict(), **fields._asdict())
            out.append(new)
        return out


def _check_all_or_none(data_list: Sequence[Data], field: str) -> None:
    """A graph's orientation must not depend on which graphs it is transformed with, so either
    every graph has ``field`` or none has."""
    present = [getattr(d, field, None) is not None for d in data_list]
    if any(present) and not all(present):
        odd = present.index(not present[0])
        raise ValueError(f"LineDAG: graph {odd} {'lacks' if present[0] else 'has'} '{field}' "
                         f"while graph 0 {'has' if present[0] else 'lacks'} it; give all graphs "
                         "the same fields")
