"""Scaling of PLSTMConv forward+backward: molecules per batch, chain length, width and heads.

    python -m benchmarks.scaling [--quick] [--out benchmarks/results] [--batch 128] [--device cuda]

Prints one table per sweep and writes ``scaling.json`` and ``scaling.png`` to ``--out``; the width
sweep uses ``--batch`` molecules.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from torch_geometric.nn import GINEConv

from benchmarks import common
from benchmarks.common import median_time, molhiv_batch
from plstm_graph.dag import LineDAGIndex, build_line_dag
from plstm_graph.nn import PLSTMConv

ENGINES = ("scan", "dense", "auto")


def time_layers(edge_index, dag, batch, num_nodes, width, heads, engines=ENGINES,
                repeats=5, with_gine=True, device="cpu"):
    x = torch.randn(num_nodes, width, device=device, requires_grad=True)
    edge_attr = torch.randn(edge_index.size(1), width, device=device)
    row = {}
    if with_gine:
        mlp = torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.ReLU(),
                                  torch.nn.Linear(width, width))
        gine = GINEConv(mlp, edge_dim=width).to(device)
        row["GINEConv"] = median_time(
            lambda: gine(x, edge_index, edge_attr).sum().backward(), repeats, device=device)
    for engine in engines:
        conv = PLSTMConv(width, width, heads=heads, edge_dim=width, engine=engine).to(device)
        row[engine] = median_time(
            lambda c=conv: c(x, edge_index, edge_attr, dag=dag, batch=batch).sum().backward(),
            repeats, device=device)
    return row


def print_table(title, key, rows):
    names = [k for k in rows[0] if k != key]
    print(f"\n{title}\n{key:>10}" + "".join(f"{n + ' ms':>14}" for n in names))
    for row in rows:
        print(f"{row[key]:>10}" + "".join(f"{row[n] * 1e3:14.1f}" for n in names))


def sweep_batch_size(sizes, width, heads, repeats, device="cpu"):
    rows = []
    for size in sizes:
        b = molhiv_batch(size, device=device)
        row = time_layers(b.edge_index, LineDAGIndex.from_data(b), b.batch, b.num_nodes, width,
                          heads, repeats=repeats, device=device)
        rows.append({"molecules": size, **row})
    print_table("time vs molecules per batch (ogbg-molhiv)", "molecules", rows)
    return rows


def sweep_chain(lengths, width, heads, repeats, dense_limit=1000, device="cpu"):
    rows = []
    for n in lengths:
        edges = torch.stack([torch.arange(n - 1), torch.arange(1, n)]).to(device)
        edge_index = torch.cat([edges, edges.flip(0)], dim=1)
        dag = build_line_dag(edge_index, n, order="index")
        engines = ENGINES if n <= dense_limit else ("scan", "auto")
        row = time_layers(edge_index, dag, None, n, width, heads, engines, repeats,
                          with_gine=False, device=device)
        row.setdefault("dense", float("nan"))
        rows.append({"nodes": n, **row})
    print_table("time vs chain length (path graphs; depth = nodes - 1)", "nodes", rows)
    return rows


def sweep_width(widths_heads, repeats, size=128, device="cpu"):
    b = molhiv_batch(size, device=device)
    dag = LineDAGIndex.from_data(b)
    rows = []
    for width, heads in widths_heads:
        row = time_layers(b.edge_index, dag, b.batch, b.num_nodes, width, heads,
                          repeats=repeats, device=device)
        rows.append({"width x heads": f"{width}x{heads}", **row})
    print_table(f"time vs width and heads ({size} molecules)", "width x heads", rows)
    return rows


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"GINEConv": "tab:gray", "scan": "tab:orange", "dense": "tab:blue",
               "auto": "tab:green"}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, (name, key) in zip(axes, (("batch", "molecules"), ("chain", "nodes"))):
        rows = results[name]
        xs = [r[key] for r in rows]
        for series in [k for k in rows[0] if k != key]:
            ax.plot(xs, [r[series] * 1e3 for r in rows], "o-", label=series,
                    color=colours.get(series))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(xs, [str(x) for x in xs], minor=False)
        ax.xaxis.set_minor_locator(plt.NullLocator())
        ax.set_xlabel(key)
        ax.set_ylabel("forward+backward ms")
        ax.legend()
    axes[0].set_title("PLSTMConv vs GINEConv, ogbg-molhiv batches")
    axes[1].set_title("path graphs")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="fewer points and repeats")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")


def run(args: argparse.Namespace) -> None:
    torch.manual_seed(0)
    repeats = 3 if args.quick else 5
    sizes = (32, 128) if args.quick else (16, 32, 64, 128, 256, 512)
    lengths = (10, 100, 1000) if args.quick else (10, 30, 100, 300, 1000, 2000)
    widths = ((128, 4),) if args.quick else ((64, 4), (128, 4), (256, 4), (128, 2), (128, 8))
    device = args.device
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {device}")
    results = {"batch": sweep_batch_size(sizes, 128, 4, repeats, device),
               "chain": sweep_chain(lengths, 64, 4, repeats, device=device),
               "width": sweep_width(widths, repeats, args.batch, device)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scaling.json").write_text(json.dumps(results, indent=1))
    plot(results, args.out / "scaling.png")
    print(f"\nwrote {args.out / 'scaling.json'} and {args.out / 'scaling.png'}")


if __name__ == "__main__":
    common.main(__doc__, sys.modules[__name__])
