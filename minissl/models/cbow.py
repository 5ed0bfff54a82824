"""CBOW: predict a hidden word from the bag of its neighbours (word2vec, Mikolov et al. 2013a, section 3.1).

Built in the chapter *Predicting missing words* (``notebooks/05_masked_words.ipynb``), section *The simplest
masked-word predictor: CBOW*. For a hidden word ``w`` with context words ``c_1 .. c_2W`` (``W`` on each
side):

    h = mean_j E[c_j]                   the bag of the neighbours, (B, D); their order is thrown away
    logits = h U^T + b                  a score for every word of the vocabulary, (B, V)
    loss = cross_entropy(logits, w)     the same softmax over all words as BERT's masked-word head

``E`` (:attr:`CBOW.embed`) are the word vectors kept afterwards; ``U`` (:attr:`CBOW.out`) is used only in
training. word2vec replaces the full softmax by negative sampling or a hierarchical softmax to scale to millions
of words (Mikolov et al. 2013b); with eight thousand words the full softmax is affordable and keeps CBOW the
exact bag-of-words version of the masked-word task.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from minissl.models.bert import mean_pool


class CBOW(nn.Module):
    """Continuous bag of words with a softmax over the vocabulary.

    Args:
        vocab_size: number of token ids V.
        dim: size D of the word vectors.
        ignore_ids: ids left out of every bag (padding, the unknown word): they carry no meaning.
    """

    def __init__(self, vocab_size: int, dim: int = 128, ignore_ids=()):
        super().__init__()
        self.vocab_size, self.dim = vocab_size, dim
        self.embed = nn.Embedding(vocab_size, dim)  # E: the word vectors
        self.out = nn.Linear(dim, vocab_size)  # U, b: used only by the loss
        nn.init.normal_(self.embed.weight, std=0.01)  # small: the learned part soon dominates the cosines
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        ignore = torch.zeros(vocab_size, dtype=torch.bool)
        ignore[list(ignore_ids)] = True
        self.register_buffer("ignore", ignore, persistent=False)

    def bag(self, ids: torch.Tensor) -> torch.Tensor:
        """Mean word vector of the ids ``(B, L)`` that are not ignored -> ``(B, D)`` (zeros for an empty bag)."""
        if ids.dim() != 2:
            raise ValueError(f"CBOW: ids must have shape (B, L), got {tuple(ids.shape)}")
        return mean_pool(self.embed(ids), self.ignore[ids])  # ignored ids are left out like padding

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        """``context`` ``(B, 2W)`` ids around each hidden word -> logits ``(B, V)`` for the hidden word."""
        return self.out(self.bag(context))

    def loss(self, context: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the hidden words ``target`` ``(B,)`` given their ``context`` ``(B, 2W)``; a scalar."""
        if target.dim() != 1 or context.shape[0] != target.shape[0]:
            raise ValueError(f"CBOW.loss: expected context (B, 2W) and target (B,); got {tuple(context.shape)} "
                             f"and {tuple(target.shape)}")
        return F.cross_entropy(self(context).float(), target)

    @torch.no_grad()
    def neighbours(self, word_id: int, k: int = 8) -> list[int]:
        """The ``k`` ids whose word vectors have the highest cosine similarity with ``word_id``'s (itself and
        ignored ids excluded)."""
        E = F.normalize(self.embed.weight, dim=1)
        sims = E @ E[word_id]
        sims[word_id] = -float("inf")
        sims[self.ignore] = -float("inf")
        return sims.topk(k).indices.tolist()


def cbow_batches(stream: torch.Tensor, window: int, batch_size: int, ignore_ids=(), seed: int = 0):
    """``batches(step) -> (context (B, 2W), target (B,))`` for :func:`minissl.train.fit`.

    ``stream`` is a 1-D tensor of token ids (sentences separated by ``window`` ignored ids, so that no bag
    crosses a sentence boundary). Hidden words are drawn uniformly among the positions whose id is not ignored.
    Deterministic per step, hence resumable.
    """
    if stream.dim() != 1 or window < 1 or len(stream) <= 2 * window:
        raise ValueError(f"cbow_batches: need a 1-D stream longer than 2 * window; got shape "
                         f"{tuple(stream.shape)} and window={window}")
    ignore = torch.zeros(int(stream.max()) + 1, dtype=torch.bool)
    ignore[[i for i in ignore_ids if i < len(ignore)]] = True
    positions = torch.arange(window, len(stream) - window)
    positions = positions[~ignore[stream[positions]]]  # only real words are hidden
    offsets = torch.cat([torch.arange(-window, 0), torch.arange(1, window + 1)])  # (2W,)

    def batches(step: int):
        g = torch.Generator().manual_seed(seed * 1_000_003 + step)
        centre = positions[torch.randint(len(positions), (batch_size,), generator=g)]  # (B,)
        return stream[centre[:, None] + offsets], stream[centre]

    return batches
