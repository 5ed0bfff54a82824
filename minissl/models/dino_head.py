"""The DINO projection head (Caron et al., 2021): MLP -> L2-normalised bottleneck -> weight-normalised layer.

Built in the chapter *DINO: self-distillation without labels*, section *The DINO head*.

    features (B, D) -> MLP (Linear, [BatchNorm], GELU, ..., Linear)   -> z (B, bottleneck)
                    -> z / ||z||                          (every sample on the unit sphere)
                    -> z @ (W / ||W||_rows)^T             -> logits (B, K)

The last layer is weight-normalised with its gain fixed to 1 (``norm_last_layer``): every one of the K
prototype vectors has unit length, so a logit is a cosine similarity in [-1, 1] and the temperatures of the
loss alone set how peaked the distributions are.

``batch_norm=True`` puts a BatchNorm after each hidden linear layer, as the heads of the small-image
benchmarks do (lightly's ``DINOProjectionHead(batch_norm=True)``, solo-learn's CIFAR recipes): on a small
convolutional backbone trained for a few thousand steps it learns faster than the paper's ViT head.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DINOHead(nn.Module):
    """``(B, in_dim)`` -> ``(B, out_dim)`` logits over K = ``out_dim`` prototypes.

    Args:
        in_dim: width of the backbone features (the ViT's ``n_embd``).
        out_dim: K, the number of prototypes (65,536 in the paper; a few hundred to a few thousand here).
        hidden_dim: width of the MLP's hidden layers.
        bottleneck_dim: width of the normalised bottleneck.
        nlayers: number of linear layers in the MLP (>= 1).
        batch_norm: a BatchNorm1d after each hidden linear layer (before its GELU); batches must then hold
            more than one sample in training mode.
        norm_last_layer: if True the prototypes keep unit length (gain fixed to 1); if False the gain g of
            each prototype is learned (``W = g * V / ||V||``), as the weight normalisation of Salimans & Kingma.
    """

    def __init__(self, in_dim: int, out_dim: int = 1024, hidden_dim: int = 512, bottleneck_dim: int = 128,
                 nlayers: int = 3, norm_last_layer: bool = True, batch_norm: bool = False):
        super().__init__()
        if nlayers < 1:
            raise ValueError(f"DINOHead: nlayers must be >= 1, got {nlayers}")
        if out_dim < 2:
            raise ValueError(f"DINOHead: out_dim (K) must be >= 2, got {out_dim}")
        dims = [in_dim] + [hidden_dim] * (nlayers - 1) + [bottleneck_dim]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            layers.append(nn.Linear(a, b))
            if i < nlayers - 1:
                layers += [nn.BatchNorm1d(b), nn.GELU()] if batch_norm else [nn.GELU()]
        self.mlp = nn.Sequential(*layers)
        self.in_dim, self.out_dim = in_dim, out_dim
        self.prototypes = nn.Parameter(torch.empty(out_dim, bottleneck_dim))  # V, one row per prototype
        self.gain = nn.Parameter(torch.ones(out_dim, 1), requires_grad=not norm_last_layer)  # g
        for m in self.mlp:
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        nn.init.trunc_normal_(self.prototypes, std=0.02)

    def last_layer_weight(self) -> torch.Tensor:
        """The effective last-layer weight ``g * V / ||V||`` of shape ``(K, bottleneck)``."""
        return self.gain * F.normalize(self.prototypes, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.in_dim:
            raise ValueError(f"DINOHead: expected features (B, {self.in_dim}), got shape {tuple(x.shape)}")
        z = F.normalize(self.mlp(x), dim=-1)  # (B, bottleneck) on the unit sphere
        return z @ self.last_layer_weight().T  # (B, K)
