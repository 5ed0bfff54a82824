"""Multi-head self-attention with a ``causal`` switch: GPT (causal), BERT, ViT and CLIP's text tower.

Built step by step in the chapter *Attention from scratch*. Math, per head h with width d = C / n_head:

    Q = X W_q,  K = X W_k,  V = X W_v,   A = softmax(Q K^T / sqrt(d) + M),   Y = A V

where M is 0 where attention is allowed and -inf above the diagonal when ``causal`` (a position never sees
the future). The heads are computed in one batched matrix product, never in a Python loop.

For generation, a :class:`KVCache` keeps the keys and values of the tokens already seen, so each new token
costs one row of attention instead of recomputing the whole prefix (built in the chapter *GPT*).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class KVCache:
    """Keys and values of the positions processed so far, for one attention layer: ``(B, n_head, T, d)``.

    Pass the same object to every call of :meth:`MultiHeadAttention.forward` during generation; each call
    appends the new positions. ``len(cache)`` is the number of positions stored.
    """

    def __init__(self):
        self.k: torch.Tensor | None = None
        self.v: torch.Tensor | None = None

    def __len__(self) -> int:
        return 0 if self.k is None else self.k.size(2)

    def append(self, k: torch.Tensor, v: torch.Tensor):
        """Add the new positions' keys and values; return all keys and values so far."""
        self.k = k if self.k is None else torch.cat([self.k, k], dim=2)
        self.v = v if self.v is None else torch.cat([self.v, v], dim=2)
        return self.k, self.v


class MultiHeadAttention(nn.Module):
    """Self-attention over ``(B, T, C)`` -> ``(B, T, C)``.

    Args:
        n_embd: model width C.
        n_head: number of heads; must divide ``n_embd``.
        causal: if True, position t attends to positions <= t only.
        dropout: dropout on the attention weights and on the output projection.
        bias: whether the linear layers have biases.
    """

    def __init__(self, n_embd: int, n_head: int, causal: bool = False, dropout: float = 0.0,
                 bias: bool = True):
        super().__init__()
        if n_embd % n_head != 0:
            raise ValueError(
                f"MultiHeadAttention: n_embd={n_embd} is not divisible by n_head={n_head}; "
                f"choose n_head among {[h for h in range(1, n_embd + 1) if n_embd % h == 0][:8]}..."
            )
        self.n_head, self.causal, self.dropout = n_head, causal, dropout
        self.qkv = nn.Linear(n_embd, 3 * n_embd, bias=bias)  # W_q, W_k, W_v side by side
        self.proj = nn.Linear(n_embd, n_embd, bias=bias)  # mixes the heads back into the residual stream
        self.proj_dropout = nn.Dropout(dropout)

    def split_heads(self, x: torch.Tensor):
        """``(B, T, C)`` -> q, k, v each ``(B, n_head, T, C // n_head)``."""
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        return [t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v)]

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The attention matrix A, ``(B, n_head, T, T)``; rows sum to 1. For plots, not for speed."""
        q, k, _ = self.split_heads(x)
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
        if self.causal:
            T = x.size(1)
            future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
            scores = scores.masked_fill(future, float("-inf"))
        return scores.softmax(dim=-1)

    def forward(self, x: torch.Tensor, padding_mask: torch.Tensor | None = None,
                cache: KVCache | None = None) -> torch.Tensor:
        """``x``: ``(B, T, C)``; ``padding_mask``: optional bool ``(B, T)``, True where a token is padding
        (no position attends to it); ``cache``: a :class:`KVCache` holding earlier positions (causal only):
        ``x`` is then the *new* positions, which attend to the cached ones and to each other causally.
        Returns ``(B, T, C)``."""
        if x.dim() != 3:
            raise ValueError(f"MultiHeadAttention: expected x of shape (B, T, C), got {tuple(x.shape)}")
        B, T, C = x.shape
        q, k, v = self.split_heads(x)
        mask, is_causal = None, self.causal
        if padding_mask is not None:
            if self.causal:
                raise ValueError("MultiHeadAttention: padding_mask is for bidirectional attention "
                                 "(causal=False)")
            mask = ~padding_mask.view(B, 1, 1, T)  # True = may attend
        if cache is not None:
            if not self.causal:
                raise ValueError("MultiHeadAttention: a KV cache is for causal attention (generation) only")
            past = len(cache)
            k, v = cache.append(k, v)
            if past > 0:  # new query i sits at position past+i and may see keys 0..past+i
                is_causal = False
                if T > 1:
                    mask = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(diagonal=past)
        # Fused kernel (flash / memory-efficient where available); same math as attention_weights() @ v.
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=is_causal, dropout_p=self.dropout if self.training else 0.0
        )
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # put the heads side by side again
        return self.proj_dropout(self.proj(y))
