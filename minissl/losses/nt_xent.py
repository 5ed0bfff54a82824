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

from minissl.losses._checks import check_positive, check_shape, working_dtype

_HINT = "pass the projections of the two views of the same N images, z1[i] and z2[i] from image i"


def _unit_views(z1: torch.Tensor, z2: torch.Tensor, who: str) -> torch.Tensor:
    """Check ``z1``, ``z2`` ``(N, D)`` and stack them, L2-normalised, into ``(2N, D)`` in the working dtype."""
    sizes: dict[str, int] = {}
    check_shape(who, "z1", z1, "N D", sizes, _HINT)
    check_shape(who, "z2", z2, "N D", sizes, _HINT)
    if sizes["N"] < 2:
        raise ValueError(f"{who}: need N >= 2 images (a view needs at least one negative), got N = {sizes['N']}")
    return F.normalize(torch.cat([z1, z2]).to(working_dtype(z1, z2)), dim=1)


def _positives(n: int, device) -> torch.Tensor:
    """``(2N,)`` index of each view's positive: view k of image i and the other view, k <-> k +- N."""
    return torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(device)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """Mean NT-Xent loss over the 2N views; ``z1[i]`` and ``z2[i]`` are the two views of image i.

    Args:
        z1, z2: projections ``(N, D)`` (need not be normalised: the loss uses cosine similarity), N >= 2.
        temperature: tau > 0; smaller values weigh the hardest negatives more.

    Returns:
        scalar tensor in the inputs' precision, float16/bfloat16 raised to float32 (half-precision logits lose
        the small differences the loss is made of); float64 stays float64.

    Raises:
        TypeError, ValueError: inputs that are not two float ``(N, D)`` tensors of the same shape, N < 2, or
        a temperature that is not > 0.
    """
    check_positive("nt_xent", temperature=temperature)
    z = _unit_views(z1, z2, "nt_xent")  # (2N, D), unit length
    logits = z @ z.T / temperature  # (2N, 2N) cosine similarities / tau
    self_mask = torch.eye(len(z), dtype=torch.bool, device=z.device)  # (2N, 2N)
    logits = logits.masked_fill(self_mask, float("-inf"))  # a view is never its own candidate
    return F.cross_entropy(logits, _positives(len(z1), z.device))  # mean over the 2N rows


@torch.no_grad()
def nt_xent_accuracy(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """Fraction of the 2N views whose most similar other view is their positive (a training diagnostic).

    ``z1``, ``z2`` as in :func:`nt_xent`; a scalar tensor in the same working precision.
    """
    z = _unit_views(z1, z2, "nt_xent_accuracy")  # (2N, D)
    sims = (z @ z.T).fill_diagonal_(float("-inf"))  # (2N, 2N), never itself
    return (sims.argmax(dim=1) == _positives(len(z1), z.device)).to(z.dtype).mean()
