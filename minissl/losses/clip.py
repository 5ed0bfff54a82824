"""The symmetric contrastive loss of CLIP (Radford et al., 2021, section 2.3 and figure 3), a form of InfoNCE.

Built in the chapter *CLIP: matching pictures with their names* (``08_clip``), section *The loss, written
out*. A batch holds N images and their N captions, pair i being image i with caption i. Both are
L2-normalised and compared by cosine similarity, multiplied by a learned scale s = exp(logit_scale)
(the inverse temperature, 1 / tau):

    logits = s * I T^T                          (N, N): row i scores image i against every caption
    L = ( CE(logits, diag) + CE(logits^T, diag) ) / 2

Image -> text picks image i's caption among the N; text -> image picks caption i's image among the N. The
scale is learned as its logarithm (it stays positive, and steps are relative) and clamped at 100, as CLIP does
"to prevent training instability" (section 2.5): once the right pairs rank first, a larger scale alone keeps
lowering the loss, with ever larger logits and nothing learnt.
With random features and a scale near 1 the loss is about ln(N), the loss of guessing.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from minissl.losses._checks import check_shape, working_dtype

_HINT = "pass the features of N images and of their N captions, image_features[i] paired with text_features[i]"

MAX_LOGIT_SCALE = math.log(100.0)  # CLIP's clamp: the inverse temperature never exceeds 100


def clip_logits(image_features: torch.Tensor, text_features: torch.Tensor, logit_scale,
                max_logit_scale: float | None = MAX_LOGIT_SCALE, who: str = "clip_logits") -> torch.Tensor:
    """``(N, N)`` scaled cosine similarities ``exp(logit_scale) * I T^T``; row i is image i against every caption.

    Args:
        image_features, text_features: ``(N, D)`` each, any length (normalised here), N >= 2.
        logit_scale: the log of the inverse temperature, a float or a scalar tensor (learned).
        max_logit_scale: clamp ``logit_scale`` to at most this (default ln 100); None: no clamp.

    Raises:
        TypeError, ValueError: inputs that are not two float ``(N, D)`` tensors of the same shape, N < 2, or a
        ``logit_scale`` that is not a scalar.
    """
    sizes: dict[str, int] = {}
    check_shape(who, "image_features", image_features, "N D", sizes, _HINT)
    check_shape(who, "text_features", text_features, "N D", sizes, _HINT)
    if sizes["N"] < 2:
        raise ValueError(f"{who}: need N >= 2 pairs (each pair needs at least one negative), got N = {sizes['N']}")
    dtype = working_dtype(image_features, text_features)
    scale = torch.as_tensor(logit_scale, dtype=dtype, device=image_features.device)
    if scale.numel() != 1:
        raise ValueError(f"{who}: logit_scale must be a scalar (the log of the inverse temperature), got shape "
                         f"{tuple(scale.shape)}")
    if max_logit_scale is not None:
        scale = scale.clamp(max=max_logit_scale)  # no gradient beyond the clamp: the scale stops growing
    img = F.normalize(image_features.to(dtype), dim=1)  # (N, D) unit length
    txt = F.normalize(text_features.to(dtype), dim=1)  # (N, D)
    return scale.reshape(()).exp() * img @ txt.T  # (N, N)


def clip_loss(image_features: torch.Tensor, text_features: torch.Tensor, logit_scale,
              max_logit_scale: float | None = MAX_LOGIT_SCALE) -> torch.Tensor:
    """CLIP's symmetric cross-entropy: the mean of image -> text and text -> image over the N pairs.

    Args and errors as :func:`clip_logits`. Returns a scalar in the inputs' precision (half raised to float32).
    """
    logits = clip_logits(image_features, text_features, logit_scale, max_logit_scale, who="clip_loss")  # (N, N)
    targets = torch.arange(len(logits), device=logits.device)  # pair i is the diagonal
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2
