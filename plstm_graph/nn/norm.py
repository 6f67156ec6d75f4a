"""Normalisation layers."""
from __future__ import annotations

import torch
from torch import Tensor, nn


class MultiHeadRMSNorm(nn.Module):
    r"""RMS normalisation of each head separately, with a learnable per-channel scale.

    .. math::
        \mathbf{y}_h = \frac{\mathbf{x}_h}{\sqrt{\operatorname{mean}(\mathbf{x}_h^2) + \epsilon}}
        \odot \boldsymbol{\gamma}_h

    Args:
        heads (int): number of heads.
        head_channels (int): channels per head.
        eps (float, optional): added to the mean square. (default: :obj:`1e-5`)

    Shapes:
        - **input:** :math:`(*, H, C)`
        - **output:** :math:`(*, H, C)`
    """

    def __init__(self, heads: int, head_channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.empty(heads, head_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight

    def __repr__(self) -> str:
        heads, channels = self.weight.shape
        return f"{self.__class__.__name__}({heads}, {channels}, eps={self.eps})"
