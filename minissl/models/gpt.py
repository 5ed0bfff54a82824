"""GPT: a decoder-only transformer trained to predict the next token.

Built in the chapter *GPT from the blocks* (``notebooks/04_gpt.ipynb``). Pieces, in order:

    tokens (B, T) -> token embedding + position embedding -> n_layer x TransformerBlock(causal=True)
    (pre-LayerNorm, residual stream) -> final LayerNorm -> linear head tied to the token embedding
    -> logits (B, T, vocab_size)

Initialisation: every weight matrix N(0, 0.02); the projections that write into the residual stream
(attention ``proj`` and MLP ``proj``) N(0, 0.02 / sqrt(2 n_layer)), so the stream's variance does not grow
with depth. Generation can keep a :class:`~minissl.nn.KVCache` per layer: each new token then costs one
row of attention instead of a pass over the whole prefix.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from minissl.nn import KVCache, TransformerBlock, init_transformer_


class GPT(nn.Module):
    """Decoder-only language model.

    Args:
        vocab_size: number of token ids.
        block_size: longest context (positions have learned embeddings up to this length).
        n_layer, n_head, n_embd: depth, heads per attention, width C (``n_embd % n_head == 0``).
        dropout: dropout in embeddings, attention and MLP (0 for short runs).
        bias: biases in linear layers.
    """

    def __init__(self, vocab_size: int, block_size: int, n_layer: int, n_head: int, n_embd: int,
                 dropout: float = 0.0, bias: bool = True):
        super().__init__()
        for name, value in [("vocab_size", vocab_size), ("block_size", block_size), ("n_layer", n_layer),
                            ("n_head", n_head), ("n_embd", n_embd)]:
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"GPT: {name} must be a positive int, got {value!r}")
        if n_embd % n_head != 0:
            raise ValueError(f"GPT: n_embd={n_embd} is not divisible by n_head={n_head}; each head gets "
                             f"n_embd // n_head channels. Try n_head in "
                             f"{[h for h in (1, 2, 4, 6, 8, 12, 16) if n_embd % h == 0]}")
        self.vocab_size, self.block_size, self.n_layer = vocab_size, block_size, n_layer
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            TransformerBlock(n_embd, n_head, causal=True, dropout=dropout, bias=bias) for _ in range(n_layer)
        )
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying: one matrix reads and writes tokens
        init_transformer_(self, self.blocks, n_layer)  # N(0, 0.02); residual projections scaled down

    def _check_idx(self, idx: torch.Tensor, offset: int = 0) -> None:
        if not isinstance(idx, torch.Tensor) or idx.dim() != 2 or idx.dtype not in (torch.long, torch.int):
            got = (f"{idx.dtype} tensor of shape {tuple(idx.shape)}" if isinstance(idx, torch.Tensor)
                   else type(idx).__name__)
            raise ValueError(f"GPT: idx must be an integer tensor of shape (B, T), got {got}")
        T = idx.size(1)
        if offset + T > self.block_size:
            raise ValueError(f"GPT: sequence length {offset + T} exceeds block_size={self.block_size}; "
                             f"crop the input to its last {self.block_size} tokens (generate() does this)")
        # The ids' values are read on the CPU only: on a GPU, reading them back would stall every forward pass
        # (and break a torch.compile graph), and an id out of range fails inside the embedding anyway.
        if idx.numel() and idx.device.type == "cpu" and not torch.compiler.is_compiling():
            low, high = idx.aminmax()
            if low < 0 or high >= self.vocab_size:
                raise ValueError(f"GPT: token ids must lie in [0, {self.vocab_size}), got min {int(low)} and max "
                                 f"{int(high)}; was the text encoded with another tokenizer?")

    def hidden_states(self, idx: torch.Tensor, caches: list[KVCache] | None = None) -> torch.Tensor:
        """Hidden states after the final LayerNorm: ``(B, T) -> (B, T, n_embd)``.

        With ``caches`` (one :class:`KVCache` per layer), ``idx`` holds the *new* tokens only, placed after
        the positions already cached.
        """
        offset = len(caches[0]) if caches else 0
        self._check_idx(idx, offset)
        pos = torch.arange(offset, offset + idx.size(1), device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))  # (B, T, C): the residual stream
        for i, block in enumerate(self.blocks):
            x = block(x, cache=caches[i] if caches else None)
        return self.ln_f(x)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        """``idx`` (B, T) -> ``(logits (B, T, vocab_size), loss)``; ``loss`` is the mean cross-entropy
        against ``targets`` (B, T), or None without targets."""
        logits = self.head(self.hidden_states(idx))
        loss = None
        if targets is not None:
            if targets.shape != idx.shape:
                raise ValueError(f"GPT: targets must have the shape of idx {tuple(idx.shape)}, "
                                 f"got {tuple(targets.shape)}")
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss

    def flops_per_token(self, seq_len: int | None = None) -> float:
        """Training FLOPs per token (forward + backward), as in the PaLM paper's appendix B:
        ``6 N`` for the weight matrices (N parameters without the position table) plus
        ``12 n_layer T C`` for the attention scores and their use. Divide achieved FLOP/s by the GPU's
        peak to get the model FLOP utilisation (MFU)."""
        T = seq_len or self.block_size
        n = sum(p.numel() for p in self.parameters()) - self.pos_emb.weight.numel()
        return 6 * n + 12 * self.n_layer * T * self.tok_emb.weight.size(1)

    @torch.no_grad()
    def mean_loss(self, x: torch.Tensor, y: torch.Tensor, batch_size: int = 64) -> float:
        """Mean next-token cross-entropy over windows ``x``, ``y`` (N, T), in batches (no gradients)."""
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        total = 0.0
        for i in range(0, len(x), batch_size):
            xb, yb = x[i:i + batch_size].to(device), y[i:i + batch_size].to(device)
            total += self(xb, yb)[1].float().item() * len(xb)
        self.train(was_training)
        return total / len(x)

    @staticmethod
    def _sample(logits: torch.Tensor, temperature: float, top_k: int | None, generator) -> torch.Tensor:
        """``(B, vocab)`` logits of the last position -> ``(B, 1)`` next ids."""
        if temperature == 0:
            return logits.argmax(dim=-1, keepdim=True)  # greedy
        logits = logits.float() / temperature
        if top_k is not None:
            kth = torch.topk(logits, min(top_k, logits.size(-1)), dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = logits.softmax(dim=-1)
        return torch.multinomial(probs, 1, generator=generator)

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, use_cache: bool = True,
                 generator: torch.Generator | None = None) -> torch.Tensor:
        """Append ``max_new_tokens`` sampled tokens to ``idx`` (B, T); returns ``(B, T + max_new_tokens)``.

        ``temperature`` divides the logits (0 means greedy: always the most likely token); ``top_k`` keeps
        only the k most likely tokens. ``use_cache`` keeps keys/values of past positions (same tokens, far
        less work); once the context is full, the window slides and the cache is rebuilt each step.
        """
        if temperature < 0:
            raise ValueError(f"GPT.generate: temperature must be >= 0 (0 = greedy), got {temperature}")
        if top_k is not None and top_k <= 0:
            raise ValueError(f"GPT.generate: top_k must be a positive int or None, got {top_k}")
        if idx.dim() != 2 or idx.size(1) == 0:
            raise ValueError(f"GPT.generate: idx must be (B, T) with T >= 1, got shape {tuple(idx.shape)}")
        was_training = self.training
        self.eval()
        caches, fed = None, None  # fed: how many tokens of idx the caches already hold
        for _ in range(max_new_tokens):
            if use_cache and idx.size(1) <= self.block_size:
                if caches is None:
                    caches, fed = [KVCache() for _ in self.blocks], 0
                h = self.hidden_states(idx[:, fed:], caches)  # only the tokens the cache has not seen
                fed = idx.size(1)
            else:  # no cache, or the context is full: run the last block_size tokens from scratch
                caches = None
                h = self.hidden_states(idx[:, -self.block_size:])
            logits = self.head(h[:, -1, :])
            idx = torch.cat([idx, self._sample(logits, temperature, top_k, generator)], dim=1)
        self.train(was_training)
        return idx
