"""Training throughput of PLSTMNet against the GINE + virtual node baseline at equal parameter
count, and preprocessing throughput, on real ogbg-molhiv molecules.

    python -m benchmarks.throughput [--molecules 2048] [--batch 128] [--hidden 96] [--device cuda]
"""
from __future__ import annotations

import argparse
import sys
import time

import torch
from torch_geometric.data import Batch

from benchmarks import common
from benchmarks.common import molhiv_smiles, time_once
from plstm_graph.data import smiles_to_data
from plstm_graph.nn.models import GINENet, PLSTMNet, num_parameters
from plstm_graph.transforms import LineDAG


def gine_matching(params: int, num_layers: int = 5) -> GINENet:
    """The GINE + virtual node model whose parameter count is closest to ``params``."""
    def gap(model: GINENet) -> int:
        return abs(num_parameters(model) - params)

    best = None
    for hidden in range(16, 512, 4):
        model = GINENet(out_channels=1, hidden_channels=hidden, num_layers=num_layers,
                        virtual_node=True)
        if best is None or gap(model) < gap(best):
            best = model
        if num_parameters(model) > params:
            break
    return best


def train_throughput(model, batches, device: str = "cpu") -> float:
    """Molecules per second of forward + backward + AdamW step."""
    optim = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.train()

    def epoch():
        for batch in batches:
            optim.zero_grad()
            model(batch).square().mean().backward()
            optim.step()

    epoch()  # warm-up (and AdamW's state allocation)
    return sum(b.num_graphs for b in batches) / time_once(epoch, device)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--molecules", type=int, default=2048)
    parser.add_argument("--hidden", type=int, default=96)


def run(args: argparse.Namespace) -> None:
    torch.manual_seed(0)
    smiles = molhiv_smiles(args.molecules)

    start = time.perf_counter()
    graphs = [smiles_to_data(s) for s in smiles]
    featurise = len(graphs) / (time.perf_counter() - start)
    start = time.perf_counter()
    graphs = LineDAG().transform_many(graphs)
    transform = len(graphs) / (time.perf_counter() - start)
    batches = [Batch.from_data_list(graphs[i:i + args.batch]).to(args.device)
               for i in range(0, len(graphs), args.batch)]

    plstm = PLSTMNet(out_channels=1, hidden_channels=args.hidden)
    gine = gine_matching(num_parameters(plstm))
    rows = [(name, num_parameters(model),
             train_throughput(model.to(args.device), batches, args.device))
            for name, model in (("PLSTMNet", plstm), ("GINE + virtual node", gine))]
    print(f"{len(graphs)} ogbg-molhiv molecules, batches of {args.batch}, {args.device}, "
          f"{torch.get_num_threads()} threads")
    print(f"preprocessing: featurise {featurise:,.0f} mol/s, LineDAG {transform:,.0f} mol/s "
          "(one process)")
    print(f"{'model':<22}{'params':>10}{'train mol/s':>13}{'time vs GINE+VN':>17}")
    for name, params, speed in rows:
        print(f"{name:<22}{params:>10,}{speed:>13,.0f}{rows[1][2] / speed:>17.2f}")


if __name__ == "__main__":
    common.main(__doc__, sys.modules[__name__])
