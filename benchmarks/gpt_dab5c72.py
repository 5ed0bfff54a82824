"""The GPT of commit dab5c72, frozen: the baseline that ``benchmarks/gpt_train.py`` times the package against.

The training path only (no generation), copied from ``minissl/models/gpt.py``, ``minissl/nn/block.py`` and
``minissl/nn/attention.py`` at dab5c72 (``git show dab5c72:<path>``), with their optimizer ``adamw`` from
``minissl/train.py``. Do not edit: a faster package is measured against this code.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def adamw(model: nn.Module, lr: float, weight_decay: float = 0.0, betas=(0.9, 0.95)) -> torch.optim.AdamW:
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=betas)


class MultiHeadAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, causal: bool = False, dropout: float = 0.0,
                 bias: bool = True):
        super().__init__()
        if n_embd % n_head != 0:
            raise ValueError(
                f"MultiHeadAttention: n_embd={n_embd} is not divisible by n_head={n_head}; "
                f"choose n_head among {[h for h in range(1, n_embd + 1) if n_embd % h == 0][:8]}..."
            )
        self.n_head, self.causal, self.dropout = n_head, causal, dropout
        self.qkv = nn.Linear(n_embd, 3 * n_embd, bias=bias)
        self.proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.proj_dropout = nn.Dropout(dropout)

    def split_heads(self, x: torch.Tensor):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        return [t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v)]

    def forward(self, x: torch.Tensor, padding_mask: torch.Tensor | None = None, cache=None) -> torch.Tensor:
        if x.dim() != 3:
            raise ValueError(f"MultiHeadAttention: expected x of shape (B, T, C), got {tuple(x.shape)}")
        B, T, C = x.shape
        q, k, v = self.split_heads(x)
        mask, is_causal = None, self.causal
        if padding_mask is not None:
            if self.causal:
                raise ValueError("MultiHeadAttention: padding_mask is for bidirectional attention "
                                 "(causal=False)")
            mask = ~padding_mask.view(B, 1, 1, T)
        if cache is not None:
            if not self.causal:
                raise ValueError("MultiHeadAttention: a KV cache is for causal attention (generation) only")
            past = len(cache)
            k, v = cache.append(k, v)
            if past > 0:
                is_causal = False
                if T > 1:
                    mask = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(diagonal=past)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=is_causal, dropout_p=self.dropout if self.training else 0.0
        )
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.proj_dropout(self.proj(y))


class MLP(nn.Module):
    def __init__(self, n_embd: int, ratio: int = 4, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        self.fc = nn.Linear(n_embd, ratio * n_embd, bias=bias)
        self.act = nn.GELU()
        self.proj = nn.Linear(ratio * n_embd, n_embd, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.proj(self.act(self.fc(x))))


class TransformerBlock(nn.Module):
    def __init__(self, n_embd: int, n_head: int, causal: bool = False, dropout: float = 0.0,
                 mlp_ratio: int = 4, bias: bool = True):
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = MultiHeadAttention(n_embd, n_head, causal=causal, dropout=dropout, bias=bias)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = MLP(n_embd, mlp_ratio, dropout, bias=bias)

    def forward(self, x: torch.Tensor, padding_mask: torch.Tensor | None = None, cache=None) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), padding_mask=padding_mask, cache=cache)
        x = x + self.mlp(self.ln2(x))
        return x


def init_transformer_(model: nn.Module, blocks, n_layer: int) -> None:
    def init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    model.apply(init_weights)
    for block in blocks:
        for proj in (block.attn.proj, block.mlp.proj):
            nn.init.normal_(proj.weight, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))


class GPT(nn.Module):
    def __init__(self, vocab_size: int, block_size: int, n_layer: int, n_head: int, n_embd: int,
                 dropout: float = 0.0, bias: bool = True):
        super().__init__()
        for name, value in [("vocab_size", vocab_size), ("block_size", block_size), ("n_layer", n_layer),
                            ("n_head", n_head), ("n_embd", n_embd)]:
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"GPT: {name} must be a positive int, got {value!r}")
        if n_embd % n_head != 0:
            raise ValueError(f"GPT: n_embd={n_embd} is not divisible by n_head={n_head}")
        self.vocab_size, self.block_size, self.n_layer = vocab_size, block_size, n_layer
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            TransformerBlock(n_embd, n_head, causal=True, dropout=dropout, bias=bias) for _ in range(n_layer)
        )
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight
        init_transformer_(self, self.blocks, n_layer)

    def _check_idx(self, idx: torch.Tensor, offset: int = 0) -> None:
        if not isinstance(idx, torch.Tensor) or idx.dim() != 2 or idx.dtype not in (torch.long, torch.int):
            got = (f"{idx.dtype} tensor of shape {tuple(idx.shape)}" if isinstance(idx, torch.Tensor)
                   else type(idx).__name__)
            raise ValueError(f"GPT: idx must be an integer tensor of shape (B, T), got {got}")
        T = idx.size(1)
        if offset + T > self.block_size:
            raise ValueError(f"GPT: sequence length {offset + T} exceeds block_size={self.block_size}")
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.vocab_size):
            raise ValueError(f"GPT: token ids must lie in [0, {self.vocab_size}), got min {int(idx.min())} "
                             f"and max {int(idx.max())}")

    def features(self, idx: torch.Tensor, caches=None) -> torch.Tensor:
        offset = len(caches[0]) if caches else 0
        self._check_idx(idx, offset)
        pos = torch.arange(offset, offset + idx.size(1), device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        for i, block in enumerate(self.blocks):
            x = block(x, cache=caches[i] if caches else None)
        return self.ln_f(x)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        logits = self.head(self.features(idx))
        loss = None
        if targets is not None:
            if targets.shape != idx.shape:
                raise ValueError(f"GPT: targets must have the shape of idx {tuple(idx.shape)}, "
                                 f"got {tuple(targets.shape)}")
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss

    def flops_per_token(self, seq_len: int | None = None) -> float:
        T = seq_len or self.block_size
        n = sum(p.numel() for p in self.parameters()) - self.pos_emb.weight.numel()
        return 6 * n + 12 * self.n_layer * T * self.tok_emb.weight.size(1)
