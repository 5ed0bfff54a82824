"""SimCLR's model: an encoder f (the part we keep) and a projection head g (thrown away after training).

Built in the SimCLR chapter (``06_simclr``), section *Encoder and projection head*.

    image x -> f -> h = f(x)  (B, feature_dim)   representation, evaluated by k-NN and linear probes
              -> g -> z = g(h)  (B, proj_dim)    what the contrastive loss sees

The loss makes z invariant to the augmentations (colour, crop...), and g absorbs most of that invariance:
h keeps information that z has thrown away, which is why h, not z, is the better feature (Chen et al., 2020,
section 4.2).
"""

from __future__ import annotations

import torch
from torch import nn


class ProjectionHead(nn.Module):
    """MLP ``(B, in_dim)`` -> ``(B, out_dim)``: ``num_layers`` linear layers, batch norm + ReLU between them.

    SimCLR uses 2 layers (v1) or 3 (v2) with a 128-d output; a final batch norm without affine parameters
    is optional (``last_bn``, as in SimCLR v2's code).
    """

    def __init__(self, in_dim: int, hidden_dim: int = 512, out_dim: int = 128, num_layers: int = 2,
                 last_bn: bool = False):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"ProjectionHead: num_layers must be >= 1, got {num_layers}")
        layers, dim = [], in_dim
        for _ in range(num_layers - 1):
            layers += [nn.Linear(dim, hidden_dim, bias=False), nn.BatchNorm1d(hidden_dim),
                       nn.ReLU(inplace=True)]
            dim = hidden_dim
        layers.append(nn.Linear(dim, out_dim, bias=not last_bn))
        if last_bn:
            layers.append(nn.BatchNorm1d(out_dim, affine=False))
        self.net = nn.Sequential(*layers)
        self.out_dim = out_dim

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.net(h)


class SimCLR(nn.Module):
    """Encoder + projection head. ``model(x)`` -> projection z ``(B, proj_dim)``; ``model.encode(x)`` ->
    representation h ``(B, encoder.out_dim)`` (the encoder needs an ``out_dim`` attribute, as
    :class:`minissl.nn.ResNet` has)."""

    def __init__(self, encoder: nn.Module, hidden_dim: int = 512, proj_dim: int = 128, num_layers: int = 2):
        super().__init__()
        if not hasattr(encoder, "out_dim"):
            raise TypeError(f"SimCLR: the encoder ({type(encoder).__name__}) needs an out_dim attribute "
                            "(its feature size), as minissl.nn.ResNet has")
        self.encoder = encoder
        self.projector = ProjectionHead(encoder.out_dim, hidden_dim, proj_dim, num_layers)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projector(self.encoder(x))
