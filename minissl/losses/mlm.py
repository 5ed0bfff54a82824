"""The masked-language-model loss: cross-entropy over the chosen positions only.

Built in the chapter *Predicting missing words* (``notebooks/05_masked_words.ipynb``), section *The loss
counts only the hidden words*. With logits ``(B, T, V)`` and labels ``(B, T)`` that are ``-100`` wherever a
position was not chosen (padding included):

    L = - (1 / |S|) * sum_{(b, t) in S} log softmax(logits[b, t])[labels[b, t]],   S = {labels != -100}

The mean runs over S, never over B * T: a loss averaged over every position would shrink as padding grows
and would teach the model to "predict" tokens it can see.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


def _check(logits: torch.Tensor, labels: torch.Tensor, what: str) -> None:
    if logits.dim() != 3 or labels.dim() != 2 or logits.shape[:2] != labels.shape:
        raise ValueError(f"{what}: expected logits (B, T, V) and labels (B, T) with the same B, T; got "
                         f"{tuple(logits.shape)} and {tuple(labels.shape)}")
    if labels.dtype.is_floating_point:
        raise TypeError(f"{what}: labels must be integer ids with -100 where not chosen, got {labels.dtype}")


def mlm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over positions whose label is not ``-100``; a scalar.

    A batch with no chosen position (possible for very short sequences) gives a zero loss that still has a
    gradient path, rather than the NaN of an empty mean.
    """
    _check(logits, labels, "mlm_loss")
    chosen = labels != IGNORE_INDEX
    if not chosen.any():
        return logits.sum() * 0.0
    return F.cross_entropy(logits[chosen].float(), labels[chosen])


@torch.no_grad()
def mlm_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of chosen positions (label not ``-100``) whose arg-max prediction is the original token."""
    _check(logits, labels, "mlm_accuracy")
    chosen = labels != IGNORE_INDEX
    if not chosen.any():
        return float("nan")
    return (logits[chosen].argmax(-1) == labels[chosen]).float().mean().item()
