"""BERT: a bidirectional transformer encoder with a masked-language-model head, and a classifier on top.

Built in the chapter *Predicting missing words* (``notebooks/05_masked_words.ipynb``), sections *The encoder
and its head* and *Transfer: does pre-training help a task with few labels?*. The encoder is GPT's stack of
:class:`minissl.nn.TransformerBlock` with the causal switch off, so every position attends to both sides:

    h_0 = E[idx] + P[0..T-1]                       token + learned position embeddings, (B, T, C)
    h_l = Block_l(h_{l-1}, padding_mask)           causal=False: position t sees every non-padding position
    z   = LayerNorm(h_L)                           hidden_states(idx), (B, T, C)
    logits = LayerNorm(GELU(z W_t + b_t)) E^T + b  MLM head, (B, T, V); E is the token embedding (tied)

Tying the output matrix to E (Press & Wolf, 2017) saves V * C parameters and makes "the vector that reads a
word in" and "the vector that predicts it" the same one.
"""

from __future__ import annotations

import inspect

import torch
import torch.nn.functional as F
from torch import nn

from minissl.losses.mlm import IGNORE_INDEX, mlm_loss
from minissl.nn import TransformerBlock, init_transformer_


class MLMHead(nn.Module):
    """``(B, T, C)`` -> logits ``(B, T, V)``: a transform (dense, GELU, LayerNorm), then the *tied* decoder.

    ``embedding`` is the encoder's token embedding; its weight matrix ``(V, C)`` is the decoder's weight.
    """

    def __init__(self, embedding: nn.Embedding):
        super().__init__()
        vocab_size, n_embd = embedding.weight.shape
        self.transform = nn.Linear(n_embd, n_embd)
        self.act = nn.GELU()
        self.norm = nn.LayerNorm(n_embd)
        self.decoder = nn.Linear(n_embd, vocab_size)
        self.decoder.weight = embedding.weight  # weight tying: one Parameter, two uses

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.norm(self.act(self.transform(z))))


class BERT(nn.Module):
    """Bidirectional encoder + MLM head.

    Args:
        vocab_size: number of token ids V (special tokens included).
        block_size: longest sequence T the position embedding covers.
        n_layer, n_head, n_embd: depth, heads, width C.
        dropout: dropout on embeddings, attention and MLPs.
        pad_id: id of ``[PAD]``; when given, ``padding_mask`` defaults to ``idx == pad_id`` so that no
            position attends to padding unless you say otherwise.
    """

    def __init__(self, vocab_size: int, block_size: int, n_layer: int = 4, n_head: int = 4, n_embd: int = 128,
                 dropout: float = 0.1, pad_id: int | None = None):
        super().__init__()
        if pad_id is not None and not 0 <= pad_id < vocab_size:
            raise ValueError(f"BERT: pad_id must be a token id in [0, {vocab_size}), got {pad_id}")
        self.vocab_size, self.block_size, self.n_embd, self.pad_id = vocab_size, block_size, n_embd, pad_id
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            [TransformerBlock(n_embd, n_head, causal=False, dropout=dropout) for _ in range(n_layer)]
        )
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = MLMHead(self.tok_emb)
        init_transformer_(self, self.blocks, n_layer)  # N(0, 0.02); residual projections scaled down

    def _padding_mask(self, idx: torch.Tensor, padding_mask: torch.Tensor | None) -> torch.Tensor | None:
        if padding_mask is None and self.pad_id is not None:
            padding_mask = idx == self.pad_id
        # Nothing to hide: the fused attention kernel is faster without a mask. Checked on the CPU only: on a GPU,
        # reading the answer back would stall every forward pass (and break a torch.compile graph).
        if (padding_mask is not None and padding_mask.device.type == "cpu" and not torch.compiler.is_compiling()
                and not padding_mask.any()):
            return None
        return padding_mask

    def hidden_states(self, idx: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Contextual vectors ``(B, T, C)`` for token ids ``idx`` ``(B, T)``.

        ``padding_mask``: bool ``(B, T)``, True at padding (default: ``idx == pad_id`` when ``pad_id`` is set).
        """
        if idx.dim() != 2:
            raise ValueError(f"BERT: idx must have shape (B, T), got {tuple(idx.shape)}")
        B, T = idx.shape
        if T > self.block_size:
            raise ValueError(f"BERT: sequence length {T} exceeds block_size={self.block_size}; "
                             "truncate the input or build the model with a larger block_size")
        padding_mask = self._padding_mask(idx, padding_mask)
        pos = torch.arange(T, device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        for block in self.blocks:
            x = block(x, padding_mask=padding_mask)
        return self.ln_f(x)

    def forward(self, idx: torch.Tensor, labels: torch.Tensor | None = None,
                padding_mask: torch.Tensor | None = None):
        """``idx`` ``(B, T)`` -> ``(logits (B, T, V), loss)``; ``loss`` is :func:`minissl.losses.mlm_loss`
        over the positions where ``labels`` is not ``IGNORE_INDEX`` (None when ``labels`` is None)."""
        logits = self.head(self.hidden_states(idx, padding_mask))
        loss = mlm_loss(logits, labels) if labels is not None else None
        return logits, loss

    def masked_loss(self, idx: torch.Tensor, labels: torch.Tensor, padding_mask: torch.Tensor | None = None):
        """The same loss as ``forward(idx, labels)[1]``, with the head run only at the chosen positions.

        The head's last layer costs V * C per position; at 15% of the positions this is most of a training
        step saved when V is large. Returns ``(loss, accuracy)``: accuracy is the fraction of chosen
        positions whose arg-max prediction is the original token (a float, no gradient).
        """
        z = self.hidden_states(idx, padding_mask)  # (B, T, C)
        chosen = labels != IGNORE_INDEX
        logits = self.head(z[chosen])  # (N, V): only the N chosen positions
        if logits.shape[0] == 0:
            return logits.sum() * 0.0, float("nan")
        targets = labels[chosen]
        loss = F.cross_entropy(logits.float(), targets)
        accuracy = (logits.detach().argmax(-1) == targets).float().mean().item()
        return loss, accuracy


def mean_pool(hidden: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Average hidden states ``(B, T, C)`` over the non-padding positions -> ``(B, C)``."""
    if padding_mask is None:
        return hidden.mean(dim=1)
    keep = (~padding_mask).unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
    return (hidden * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1.0)


class SequenceClassifier(nn.Module):
    """A sentence classifier: any encoder with ``hidden_states(idx[, padding_mask]) -> (B, T, C)``, mean-pooled
    over non-padding tokens, then dropout and a linear layer -> logits ``(B, num_classes)``.

    Used for both fine-tuning (all weights train) and training from scratch (same model, random start).
    ``pad_id`` marks the padding to leave out of the mean (pad on the right for a causal encoder such as GPT,
    whose earlier positions then never see it).
    """

    def __init__(self, encoder: nn.Module, n_embd: int, num_classes: int, pad_id: int, dropout: float = 0.1):
        super().__init__()
        self.encoder, self.pad_id = encoder, pad_id
        self.takes_mask = "padding_mask" in inspect.signature(encoder.hidden_states).parameters
        self.drop = nn.Dropout(dropout)
        self.classifier = nn.Linear(n_embd, num_classes)

    def sentence_features(self, idx: torch.Tensor) -> torch.Tensor:
        """Pooled sentence vectors ``(B, C)``."""
        padding_mask = idx == self.pad_id
        hidden = self.encoder.hidden_states(idx, padding_mask=padding_mask) if self.takes_mask \
            else self.encoder.hidden_states(idx)
        return mean_pool(hidden, padding_mask)

    def forward(self, idx: torch.Tensor, labels: torch.Tensor | None = None):
        """``idx`` ``(B, T)`` -> ``(logits (B, K), loss)`` (loss None without ``labels``)."""
        logits = self.classifier(self.drop(self.sentence_features(idx)))
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        return logits, loss
