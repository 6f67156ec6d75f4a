"""Forward+backward time and peak memory of one PLSTMConv per engine against one GINEConv at
equal width.

    python -m benchmarks.conv_speed [--width 128] [--heads 4] [--batch 128] [--device cuda]

Layers are timed in interleaved rounds (median per layer), so drifts of a shared machine hit
all of them alike; the peak memory of each layer is measured on one extra call.
"""
from __future__ import annotations

import argparse
import sys

import torch
from torch_geometric.nn import GINEConv

from benchmarks import common
from benchmarks.common import interleaved_median_times, molhiv_batch, peak_memory
from plstm_graph.dag import LineDAGIndex
from plstm_graph.functional import plstm_dag
from plstm_graph.nn import PLSTMConv


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--order", default="canonical")
    parser.add_argument("--repeats", type=int, default=21,
                        help="timing rounds; the median of each layer is reported")
    parser.add_argument("--loop-repeats", type=int, default=3, help="rounds of the slow oracle")
    parser.add_argument("--skip-loop", action="store_true", help="leave out the slow oracle")


def propagation_inputs(conv: PLSTMConv, x, batch, dag, edge_attr) -> tuple[list, dict]:
    """:meth:`PLSTMConv.propagation_inputs`, its float tensors detached into leaves that
    require grad."""
    with torch.no_grad():
        inputs, options = conv.propagation_inputs(x, batch.edge_index, edge_attr, dag,
                                                  batch.batch)
    leaves = [t.clone().requires_grad_() for t in inputs if t.is_floating_point()]
    return leaves + [t for t in inputs if not t.is_floating_point()], options


def run(args: argparse.Namespace) -> None:
    torch.manual_seed(0)
    device = args.device
    batch = molhiv_batch(args.batch, order=args.order, device=device)
    dag = LineDAGIndex.from_data(batch)
    x = torch.randn(batch.num_nodes, args.width, device=device, requires_grad=True)
    edge_attr = torch.randn(batch.num_edges, args.width, device=device)
    print(f"{args.batch} ogbg-molhiv molecules: {batch.num_nodes} atoms, "
          f"{dag.dag_edge.numel()} bonds, {dag.line_index.size(1)} line edges, "
          f"line-DAG depth {int(dag.dag_level.max()) + 1} ({args.order} order); "
          f"width {args.width}, {args.heads} heads; {device}, torch threads "
          f"{torch.get_num_threads()}")

    def step(module, *inputs, **kwargs):
        def run_step():
            module(*inputs, **kwargs).sum().backward()
        return run_step

    mlp = torch.nn.Sequential(torch.nn.Linear(args.width, args.width), torch.nn.ReLU(),
                              torch.nn.Linear(args.width, args.width))
    gine = GINEConv(mlp, edge_dim=args.width).to(device)
    steps = {"GINEConv": step(gine, x, batch.edge_index, edge_attr)}
    engines = ("scan", "dense", "auto") + (() if args.skip_loop else ("loop",))
    for mode in ("P", "D"):
        for engine in engines:
            conv = PLSTMConv(args.width, args.width, heads=args.heads, mode=mode,
                             edge_dim=args.width, engine=engine).to(device)
            steps[f"PLSTMConv {mode} {engine}"] = step(conv, x, batch.edge_index, edge_attr,
                                                       dag=dag, batch=batch.batch)
    for mode in ("P", "D"):  # the propagation alone: the layer minus projections, gates, norm
        inputs, options = propagation_inputs(
            PLSTMConv(args.width, args.width, heads=args.heads, mode=mode,
                      edge_dim=args.width).to(device), x, batch, dag, edge_attr)
        for engine in ("scan", "dense") + (() if args.skip_loop else ("loop",)):
            steps[f"plstm_dag {mode} {engine}"] = step(plstm_dag, *inputs, engine=engine,
                                                       **options)
    slow = {name: args.loop_repeats for name in steps if name.endswith("loop")}
    times = interleaved_median_times(steps, args.repeats, device, slow)
    memory = {name: peak_memory(fn, device) for name, fn in steps.items()}
    base = times["GINEConv"]
    # each layer (and each propagation alone) against the loop engine in the same row group
    loop = {tuple(name.split()[:2]): t for name, t in times.items() if name.endswith("loop")}
    print(f"{'layer':<22}{'fwd+bwd ms':>12}{'x GINEConv':>12}{'loop / this':>13}"
          f"{'peak MB':>10}")
    for name, t in times.items():
        group = tuple(name.split()[:2])
        speedup = f"{loop[group] / t:13.0f}" if group in loop else f"{'':>13}"
        peak = f"{memory[name] / 2**20:10.1f}" if memory[name] is not None else f"{'n/a':>10}"
        print(f"{name:<22}{t * 1e3:12.1f}{t / base:12.2f}{speedup}{peak}")


if __name__ == "__main__":
    common.main(__doc__, sys.modules[__name__])
