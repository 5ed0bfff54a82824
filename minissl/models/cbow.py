"""CBOW: predict a hidden word from the bag of its neighbours, trained with negative sampling (word2vec).

Built in the chapter *Predicting missing words* (``notebooks/05_masked_words.ipynb``), section *The simplest
masked-word predictor: CBOW*. Mikolov et al. 2013a (section 3.1) define CBOW; Mikolov et al. 2013b (section 2.2)
replace its softmax over every word by negative sampling. For a hidden word ``w`` with context words
``c_1 .. c_2W`` (``W`` on each side) and ``K`` noise words ``n_1 .. n_K`` drawn from the unigram
distribution raised to the power 3/4:

    h = mean_j E[c_j]                                          the bag of the neighbours, (B, D); order is lost
    loss = -log sigmoid(h . U[w]) - sum_k log sigmoid(-h . U[n_k])   tell the real word from K noise words

``E`` (:attr:`CBOW.embed`) are the word vectors kept afterwards; ``U`` (:attr:`CBOW.out`) are the output vectors,
used only in training. Each step touches 1 + K output vectors instead of all V, so a step costs the same for a
vocabulary of eight thousand words or of a million.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from minissl.losses._checks import working_dtype


class CBOW(nn.Module):
    """Continuous bag of words with a negative-sampling loss.

    Args:
        vocab_size: number of token ids V.
        dim: size D of the word vectors.
        ignore_ids: ids left out of every bag (padding, the unknown word): they carry no meaning.
    """

    def __init__(self, vocab_size: int, dim: int = 128, ignore_ids=()):
        super().__init__()
        self.vocab_size, self.dim = vocab_size, dim
        self.embed = nn.Embedding(vocab_size, dim)  # E: the word vectors
        self.out = nn.Embedding(vocab_size, dim)  # U: output vectors, used only by the loss
        nn.init.normal_(self.embed.weight, std=0.01)  # small: the learned part soon dominates the cosines
        nn.init.zeros_(self.out.weight)  # word2vec's start: every score 0, every probability 1/2
        ignore = torch.zeros(vocab_size, dtype=torch.bool)
        ignore[list(ignore_ids)] = True
        self.register_buffer("ignore", ignore, persistent=False)

    def bag(self, ids: torch.Tensor) -> torch.Tensor:
        """Mean word vector of the ids ``(B, L)`` that are not ignored -> ``(B, D)`` (zeros for an empty bag)."""
        if ids.dim() != 2:
            raise ValueError(f"CBOW: ids must have shape (B, L), got {tuple(ids.shape)}")
        keep = (~self.ignore[ids]).to(self.embed.weight.dtype)  # (B, L)
        weights = keep / keep.sum(1, keepdim=True).clamp(min=1)  # 1/n for the n kept words, 0 for the others
        # embedding_bag sums the weighted vectors without building the (B, L, D) tensor: several times faster
        return F.embedding_bag(ids, self.embed.weight, per_sample_weights=weights, mode="sum")

    def loss(self, context: torch.Tensor, target: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        """Negative-sampling loss, mean over the batch; a scalar.

        Args:
            context: ``(B, 2W)`` ids around each hidden word.
            target: ``(B,)`` the hidden words.
            negatives: ``(B, K)`` noise words for each blank (see :func:`cbow_batches`).
        """
        if (target.dim() != 1 or negatives.dim() != 2 or context.shape[0] != target.shape[0]
                or negatives.shape[0] != target.shape[0]):
            raise ValueError(f"CBOW.loss: expected context (B, 2W), target (B,) and negatives (B, K); got "
                             f"{tuple(context.shape)}, {tuple(target.shape)} and {tuple(negatives.shape)}")
        dtype = working_dtype(self.embed.weight)  # half precision raised to float32, float64 kept
        h = self.bag(context).to(dtype)  # (B, D)
        positive = (h * self.out(target).to(dtype)).sum(-1)  # (B,): score of the real word
        noise = torch.einsum("bd,bkd->bk", h, self.out(negatives).to(dtype))  # (B, K): scores of the noise words
        return -(F.logsigmoid(positive) + F.logsigmoid(-noise).sum(-1)).mean()

    @torch.no_grad()
    def neighbours(self, word_id: int, k: int = 8) -> list[int]:
        """The ``k`` ids whose word vectors have the highest cosine similarity with ``word_id``'s (itself and
        ignored ids excluded)."""
        E = F.normalize(self.embed.weight, dim=1)
        sims = E @ E[word_id]
        sims[word_id] = -float("inf")
        sims[self.ignore] = -float("inf")
        return sims.topk(k).indices.tolist()


def noise_distribution(stream: torch.Tensor, vocab_size: int, ignore_ids=(), power: float = 0.75) -> torch.Tensor:
    """word2vec's noise distribution ``(V,)``: unigram counts of ``stream`` raised to ``power``, normalised;
    ignored ids get probability 0. The power 3/4 draws rare words more often than their frequency
    (Mikolov et al. 2013b, section 2.2)."""
    counts = torch.bincount(stream, minlength=vocab_size).double()
    counts[list(ignore_ids)] = 0
    if counts.sum() == 0:
        raise ValueError("noise_distribution: the stream holds no word that is not ignored")
    noise = counts.pow(power)
    return (noise / noise.sum()).float()


def cbow_batches(stream: torch.Tensor, window: int, batch_size: int, ignore_ids=(), seed: int = 0,
                 negatives: int = 10, noise: torch.Tensor | None = None):
    """``batches(step) -> (context (B, 2W), target (B,), negatives (B, K))`` for :func:`minissl.train.fit`.

    ``stream`` is a 1-D tensor of token ids (sentences separated by ``window`` ignored ids, so that no bag
    crosses a sentence boundary). Hidden words are drawn uniformly among the positions whose id is not ignored;
    the ``negatives`` noise words of each blank from ``noise`` (default: :func:`noise_distribution` of the
    stream). Deterministic per step, hence resumable.
    """
    if stream.dim() != 1 or window < 1 or len(stream) <= 2 * window:
        raise ValueError(f"cbow_batches: need a 1-D stream longer than 2 * window; got shape "
                         f"{tuple(stream.shape)} and window={window}")
    if negatives < 1:
        raise ValueError(f"cbow_batches: negatives must be at least 1, got {negatives}")
    vocab_size = int(stream.max()) + 1 if noise is None else len(noise)
    noise = noise_distribution(stream, vocab_size, ignore_ids) if noise is None else noise
    ignore = torch.zeros(max(vocab_size, int(stream.max()) + 1), dtype=torch.bool)
    ignore[list(ignore_ids)] = True
    positions = torch.arange(window, len(stream) - window)
    positions = positions[~ignore[stream[positions]]]  # only real words are hidden
    offsets = torch.cat([torch.arange(-window, 0), torch.arange(1, window + 1)])  # (2W,)

    def batches(step: int):
        g = torch.Generator().manual_seed(seed * 1_000_003 + step)
        centre = positions[torch.randint(len(positions), (batch_size,), generator=g)]  # (B,)
        noise_words = torch.multinomial(noise, batch_size * negatives, replacement=True, generator=g)
        return stream[centre[:, None] + offsets], stream[centre], noise_words.view(batch_size, negatives)

    return batches
