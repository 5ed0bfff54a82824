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

from minissl.losses._checks import check_shape, working_dtype

IGNORE_INDEX = -100


def _check(logits: torch.Tensor, labels: torch.Tensor, who: str) -> None:
    sizes: dict[str, int] = {}
    check_shape(who, "logits", logits, "B T V", sizes, "pass the encoder's output scores, one row per position")
    check_shape(who, "labels", labels, "B T", sizes, "pass mask_tokens' labels: the original id where a position "
                "was chosen, -100 elsewhere", integer=True)


def mlm_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over positions whose label is not ``-100``; a scalar.

    Args:
        logits: ``(B, T, V)`` scores over the vocabulary at every position.
        labels: ``(B, T)`` integer ids, ``-100`` where a position was not chosen.

    Returns the loss in the logits' precision (float16/bfloat16 raised to float32). A batch with no chosen
    position (possible for very short sequences) gives a zero loss that still has a gradient path, rather
    than the NaN of an empty mean.

    Raises:
        TypeError, ValueError: logits that are not a float ``(B, T, V)`` tensor, or labels that are not an
        integer ``(B, T)`` tensor with the same B and T.
    """
    _check(logits, labels, "mlm_loss")
    dtype = working_dtype(logits)
    chosen = labels != IGNORE_INDEX  # (B, T)
    if not chosen.any():
        return logits.sum().to(dtype) * 0.0
    return F.cross_entropy(logits[chosen].to(dtype), labels[chosen])  # (|S|, V) against (|S|,)


@torch.no_grad()
def mlm_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of chosen positions (label not ``-100``) whose arg-max prediction is the original token."""
    _check(logits, labels, "mlm_accuracy")
    chosen = labels != IGNORE_INDEX  # (B, T)
    if not chosen.any():
        return float("nan")
    return (logits[chosen].argmax(-1) == labels[chosen]).float().mean().item()
