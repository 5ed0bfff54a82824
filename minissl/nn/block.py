"""The transformer block: pre-LayerNorm, attention and MLP each added to the residual stream.

    x = x + Attention(LayerNorm(x))
    x = x + MLP(LayerNorm(x))

One class serves GPT (``causal=True``), BERT, ViT and CLIP's text tower (``causal=False``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from minissl.nn.attention import KVCache, MultiHeadAttention


class MLP(nn.Module):
    """Position-wise feed-forward network ``(..., C)`` -> ``(..., C)``: widen by ``ratio``, GELU, project
    back."""

    def __init__(self, n_embd: int, ratio: int = 4, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        self.fc = nn.Linear(n_embd, ratio * n_embd, bias=bias)
        self.act = nn.GELU()
        self.proj = nn.Linear(ratio * n_embd, n_embd, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.proj(self.act(self.fc(x))))


class TransformerBlock(nn.Module):
    """Pre-LN block over ``(B, T, C)`` -> ``(B, T, C)``."""

    def __init__(self, n_embd: int, n_head: int, causal: bool = False, dropout: float = 0.0,
                 mlp_ratio: int = 4, bias: bool = True):
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = MultiHeadAttention(n_embd, n_head, causal=causal, dropout=dropout, bias=bias)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = MLP(n_embd, mlp_ratio, dropout, bias=bias)

    def forward(self, x: torch.Tensor, padding_mask: torch.Tensor | None = None,
                cache: KVCache | None = None) -> torch.Tensor:
        """``padding_mask`` and ``cache`` are passed to :class:`MultiHeadAttention`."""
        x = x + self.attn(self.ln1(x), padding_mask=padding_mask, cache=cache)
        x = x + self.mlp(self.ln2(x))
        return x


def init_transformer_(model: nn.Module, blocks, n_layer: int) -> None:
    """GPT-2's initialisation, in place: every Linear and Embedding weight ~ N(0, 0.02), biases 0, then each
    block's residual projections (attention and MLP output) ~ N(0, 0.02 / sqrt(2 n_layer)), so that the
    variance of the residual stream stays roughly constant however many blocks add to it."""

    def init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    model.apply(init_weights)
    for block in blocks:
        for proj in (block.attn.proj, block.mlp.proj):
            nn.init.normal_(proj.weight, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))
