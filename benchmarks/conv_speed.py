"""Forward+backward time of one PLSTMConv per engine against one GINEConv at equal width.

    python benchmarks/conv_speed.py [--width 128] [--heads 4] [--batch 128]
"""
from __future__ import annotations

import argparse

import torch
from torch_geometric.nn import GINEConv

from benchmarks.common import median_time, molhiv_batch
from plstm_graph.dag import LineDAGIndex
from plstm_graph.nn import PLSTMConv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--order", default="canonical")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.manual_seed(0)
    batch = molhiv_batch(args.batch, order=args.order)
    dag = LineDAGIndex.from_data(batch)
    x = torch.randn(batch.num_nodes, args.width, requires_grad=True)
    edge_attr = torch.randn(batch.num_edges, args.width)
    print(f"{args.batch} ogbg-molhiv molecules: {batch.num_nodes} atoms, "
          f"{dag.dag_edge.numel()} bonds, {dag.line_index.size(1)} line edges, "
          f"line-DAG depth {int(dag.dag_level.max()) + 1} ({args.order} order); "
          f"width {args.width}, {args.heads} heads; torch threads {torch.get_num_threads()}")

    def step(module, *inputs, **kwargs):
        def run():
            module(*inputs, **kwargs).sum().backward()
        return run

    mlp = torch.nn.Sequential(torch.nn.Linear(args.width, args.width), torch.nn.ReLU(),
                              torch.nn.Linear(args.width, args.width))
    gine = GINEConv(mlp, edge_dim=args.width)
    base = median_time(step(gine, x, batch.edge_index, edge_attr), args.repeats)
    rows = [("GINEConv", base)]
    for mode in ("P", "D"):
        for engine in ("scan", "dense", "auto", "loop"):
            conv = PLSTMConv(args.width, args.width, heads=args.heads, mode=mode,
                             edge_dim=args.width, engine=engine)
            repeats = 1 if engine == "loop" else args.repeats
            t = median_time(step(conv, x, batch.edge_index, edge_attr, dag=dag, batch=batch.batch),
                            repeats, warmup=0 if engine == "loop" else 2)
            rows.append((f"PLSTMConv {mode} {engine}", t))
    loop = {name.split()[1]: t for name, t in rows if name.endswith("loop")}
    print(f"{'layer':<22}{'fwd+bwd ms':>12}{'x GINEConv':>12}{'loop / this':>13}")
    for name, t in rows:
        speedup = f"{loop[name.split()[1]] / t:13.0f}" if name != "GINEConv" else f"{'':>13}"
        print(f"{name:<22}{t * 1e3:12.1f}{t / base:12.2f}{speedup}")


if __name__ == "__main__":
    main()
