"""NT-Xent, the normalised-temperature cross-entropy of SimCLR (Chen et al., 2020), a form of InfoNCE.

Built in the SimCLR chapter (``06_simclr``), section *The loss, written out*. For N images with two views
each, stack the 2N projections ``z``, L2-normalise them and compare every pair by cosine similarity over a
temperature tau. View k's positive is the other view of the same image; the other 2N - 2 views are its
negatives; a view is never compared with itself:

    l(k) = -log  exp(sim(z_k, z_pos(k)) / tau) / sum_{j != k} exp(sim(z_k, z_j) / tau)
    L    = (1 / 2N) sum_k l(k)

That is cross-entropy over 2N - 1 candidates with the positive as the "label". With random features every
similarity is about 0, so L is about ln(2N - 1). (The original TensorFlow code sums the two directions'
means and so returns twice this value.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """Mean NT-Xent loss over the 2N views; ``z1[i]`` and ``z2[i]`` are the two views of image i.

    Args:
        z1, z2: projections ``(N, D)`` (need not be normalised: the loss uses cosine similarity), N >= 2.
        temperature: tau > 0; smaller values weigh the hardest negatives more.

    Returns:
        scalar tensor, computed in float32 whatever the inputs' dtype (bf16 logits lose the small
        differences the loss is made of).
    """
    if not isinstance(z1, torch.Tensor) or not isinstance(z2, torch.Tensor):
        raise TypeError(f"nt_xent: z1 and z2 must be tensors, got {type(z1).__name__} and "
                        f"{type(z2).__name__}")
    if z1.dim() != 2 or z1.shape != z2.shape:
        raise ValueError(f"nt_xent: z1 and z2 must both be (N, D) with the same shape, got "
                         f"{tuple(z1.shape)} and {tuple(z2.shape)}; pass the projections of the two views "
                         "of the same N images")
    n = z1.shape[0]
    if n < 2:
        raise ValueError(f"nt_xent: need N >= 2 images (a view needs at least one negative), got N = {n}")
    if not temperature > 0:
        raise ValueError(f"nt_xent: temperature must be > 0, got {temperature}")
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)  # (2N, D), unit length
    logits = z @ z.T / temperature  # (2N, 2N) cosine similarities / tau
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))  # a view is never its own candidate
    positive = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)  # k <-> k +- N
    return F.cross_entropy(logits, positive)


def nt_xent_accuracy(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """Fraction of the 2N views whose most similar other view is their positive (a training diagnostic)."""
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)
    sims = (z @ z.T).fill_diagonal_(float("-inf"))
    positive = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return (sims.argmax(dim=1) == positive).float().mean()
