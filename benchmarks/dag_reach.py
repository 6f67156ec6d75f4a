"""How far one pLSTM layer can carry information under each DAG order, on real molecules: the
depth of the line DAG (the longest directed bond path, which is also the number of steps of the
scan engine) and the share of atom pairs that a directed bond path joins, through every line
edge (P-mode) or through the multitree D-mode keeps.

    python -m benchmarks.dag_reach [--molecules 500] [--datasets ogbg-molhiv peptides-func] \
        [--out benchmarks/results/dag_reach.json]

Counted with networkx on the DAG that ``plstm_graph.transforms.LineDAG`` stores, so the figures
do not rest on the engines. Two atoms of one connected molecule form one pair; a DAG joins it in
one direction at most, so a share is at most 1 (every pair in line, as a chain oriented end to
end). The blocks alternate the orientation, and the reversed DAG joins the same pairs.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import networkx as nx
import numpy as np
from torch_geometric.data import Data

from benchmarks.common import molhiv_smiles
from plstm_graph.dag import ORDERS, LineDAGIndex
from plstm_graph.data import find_shared_data, smiles_to_data
from plstm_graph.data.lrgb import find_peptides_func, read_peptides_func
from plstm_graph.transforms import LineDAG

DATASETS = ("ogbg-molhiv", "peptides-func")


def dataset_smiles(name: str) -> list[str]:
    if name == "ogbg-molhiv":
        return molhiv_smiles()
    folder = find_peptides_func(find_shared_data())
    if folder is None:
        raise SystemExit(f"peptides-func is not under {find_shared_data()}")
    return read_peptides_func(folder)[0]


def reach(data: Data) -> dict[str, float]:
    """Depth and the shares of atom pairs joined in P-mode and D-mode, of one oriented graph
    with at least one bond."""
    dag = LineDAGIndex.from_data(data)
    tail, head = (t.tolist() for t in data.edge_index[:, dag.dag_edge])
    atoms = nx.DiGraph(zip(tail, head))
    atoms.add_nodes_from(range(data.num_nodes))
    pairs = sum(len(c) * (len(c) - 1) // 2
                for c in nx.connected_components(atoms.to_undirected()))
    p_joined = sum(len(nx.descendants(atoms, a)) for a in atoms)
    kept = nx.DiGraph(data.line_index[:, dag.line_keep].t().tolist())
    kept.add_nodes_from(range(len(tail)))
    d_joined = {(tail[e], head[f]) for e in kept for f in nx.descendants(kept, e) | {e}}
    return {"atoms": data.num_nodes,
            "depth": int(dag.dag_level.max()) + 1,
            "p_reach": p_joined / pairs, "d_reach": len(d_joined) / pairs}


def summarise(graphs: list[dict[str, float]]) -> dict[str, float]:
    column = {key: [g[key] for g in graphs] for key in graphs[0]}
    return {"molecules": len(graphs), "atoms": statistics.mean(column["atoms"]),
            "depth_mean": statistics.mean(column["depth"]),
            "depth_median": statistics.median(column["depth"]),
            "depth_max": max(column["depth"]), "p_reach": statistics.mean(column["p_reach"]),
            "d_reach": statistics.mean(column["d_reach"])}


def run(args: argparse.Namespace) -> list[dict]:
    rows = []
    print("dataset        order      molecules  atoms  depth mean / median / max  "
          "P reach  D reach")
    for name in args.datasets:
        smiles = dataset_smiles(name)
        picked = np.linspace(0, len(smiles) - 1, min(args.molecules, len(smiles))).astype(int)
        graphs = [smiles_to_data(smiles[i]) for i in picked]  # spread over the dataset's order
        graphs = [g for g in graphs if g.num_edges]  # a lone atom has no pair to join
        for order in ORDERS:
            oriented = LineDAG(order).transform_many(graphs)
            row = {"dataset": name, "order": order,
                   **summarise([reach(g) for g in oriented])}
            rows.append(row)
            print(f"{name:14} {order:10} {row['molecules']:9d} {row['atoms']:6.1f}  "
                  f"{row['depth_mean']:10.1f} / {row['depth_median']:6.1f} / "
                  f"{row['depth_max']:3d}      {row['p_reach']:.3f}    {row['d_reach']:.3f}")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dag_reach", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--molecules", type=int, default=500,
                        help="per dataset, spread evenly over it")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
