"""The DINO loss (Caron et al., 2021): cross-entropy from a centred, sharpened teacher to the student.

Built in the chapter *DINO: self-distillation without labels*, section *The loss, centring and sharpening*.
For a teacher view t and a student view s of the same images, over K output dimensions:

    P_t = softmax((g_t - c) / tau_t)         teacher: centred by c, sharpened by tau_t (~0.04); no gradient
    P_s = softmax(g_s / tau_s)               student: tau_s = 0.1
    L   = mean over pairs (t, s) with s != t of  mean over the batch of  - sum_k P_t[k] log P_s[k]

Every student view (two global crops, then the local crops) is compared with each of the two global teacher
views, except the same global crop with itself. After the loss the centre moves towards the batch mean of
the teacher outputs, ``c <- m c + (1 - m) mean(g_t)`` with m = 0.9 (:func:`update_center`).
Centring alone would push the teacher to the uniform distribution, sharpening alone to a single class; the
two together keep it from collapsing either way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from minissl.losses._checks import check_positive, check_shape, working_dtype

_HINT = ("every view is a (B, K) head output for the same B images in the same order, and student and teacher "
         "heads have the same out_dim K")


def _views(who: str, name: str, views, sizes: dict[str, int]) -> list[torch.Tensor]:
    """``views``, a ``(B, K)`` tensor or a non-empty list of them, as a list; each checked against ``sizes``."""
    views = list(views) if isinstance(views, (list, tuple)) else [views]
    if not views:
        raise ValueError(f"{who}: {name} is empty; pass a list of (B, K) head outputs, one per view")
    for i, v in enumerate(views):
        check_shape(who, f"{name}[{i}]", v, "B K", sizes, _HINT)
    return views


def _center(who: str, center, sizes: dict[str, int]) -> torch.Tensor:
    """``center`` ``(1, K)`` (a ``(K,)`` one is accepted), checked, as ``(1, K)``."""
    if isinstance(center, torch.Tensor) and center.dim() == 1:
        center = center[None]
    check_shape(who, "center", center, "1 K", sizes, "start it at torch.zeros(1, K), then use update_center")
    return center


def _check_dino(student_out, teacher_out, center):
    """dino_loss's inputs, checked: lists of ``(B, K)`` views with one B and one K, a ``(1, K)`` centre."""
    if not isinstance(student_out, (list, tuple)) or not isinstance(teacher_out, (list, tuple)):
        raise TypeError(f"dino_loss: student_out and teacher_out must be lists of (B, K) tensors, one per view, "
                        f"got {type(student_out).__name__} and {type(teacher_out).__name__}")
    sizes: dict[str, int] = {}
    teacher_out = _views("dino_loss", "teacher_out", teacher_out, sizes)
    student_out = _views("dino_loss", "student_out", student_out, sizes)
    if len(student_out) < max(2, len(teacher_out)):
        raise ValueError(f"dino_loss: {len(student_out)} student views for {len(teacher_out)} teacher views; the "
                         "student sees the teacher's global views first, then more (local) views, and needs at "
                         "least one view the teacher did not give it")
    return student_out, teacher_out, _center("dino_loss", center, sizes)


def teacher_probs(teacher_out: torch.Tensor, center: torch.Tensor, teacher_temp: float = 0.04) -> torch.Tensor:
    """The teacher's targets ``softmax((g_t - c) / tau_t)``, ``(B, K)``, detached from the graph.

    Computed in the inputs' precision (float16/bfloat16 raised to float32).
    """
    dtype = working_dtype(teacher_out, center)
    return F.softmax((teacher_out.detach().to(dtype) - center.detach().to(dtype)) / teacher_temp, dim=-1)


def dino_loss(student_out, teacher_out, center, *, student_temp: float = 0.1,
              teacher_temp: float = 0.04) -> torch.Tensor:
    """The DINO loss, a scalar.

    Args:
        student_out: list of ``(B, K)`` student head outputs, the global views first, then the local views.
        teacher_out: list of ``(B, K)`` teacher head outputs for the global views, in the same order.
        center: ``(1, K)`` running mean of the teacher outputs.
        student_temp, teacher_temp: softmax temperatures (the teacher's is lower: sharper targets).

    Returns the cross-entropy averaged over the batch and over every (teacher view, student view) pair
    except a view with itself, in the inputs' precision (float16/bfloat16 raised to float32). No gradient
    flows into ``teacher_out`` or ``center``.

    Raises:
        TypeError, ValueError: views that are not lists of float ``(B, K)`` tensors with one B and one K, a
        centre that is not ``(1, K)``, fewer student views than ``max(2, teacher views)``, or a temperature
        that is not > 0.
    """
    student_out, teacher_out, center = _check_dino(student_out, teacher_out, center)
    check_positive("dino_loss", student_temp=student_temp, teacher_temp=teacher_temp)
    dtype = working_dtype(*student_out)
    targets = [teacher_probs(t, center, teacher_temp) for t in teacher_out]  # each (B, K), no gradient
    log_student = [F.log_softmax(s.to(dtype) / student_temp, dim=-1) for s in student_out]  # each (B, K)
    total, pairs = 0.0, 0
    for ti, p_t in enumerate(targets):
        for si, log_p_s in enumerate(log_student):
            if si == ti:  # the same global crop: nothing to learn from matching itself
                continue
            total = total + (-(p_t * log_p_s).sum(dim=-1)).mean()  # (B,) cross-entropies -> scalar
            pairs += 1
    return total / pairs


@torch.no_grad()
def update_center(center: torch.Tensor, teacher_out, momentum: float = 0.9) -> torch.Tensor:
    """The new centre ``momentum * center + (1 - momentum) * mean of the teacher outputs``, shape ``(1, K)``.

    ``teacher_out`` is a ``(B, K)`` tensor or a list of them (the global views); the mean runs over every
    sample of every view. Call it after the loss of the step: the loss uses the centre of the past steps.
    Computed in the inputs' precision (float16/bfloat16 raised to float32), returned in ``center``'s dtype.
    """
    sizes: dict[str, int] = {}
    center = _center("update_center", center, sizes)
    views = _views("update_center", "teacher_out", teacher_out, sizes)
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"update_center: momentum must be in [0, 1], got {momentum}")
    dtype = working_dtype(center, *views)
    batch_center = torch.cat(views).to(dtype).mean(dim=0, keepdim=True)  # (1, K)
    return (center.to(dtype) * momentum + batch_center * (1 - momentum)).to(center.dtype)  # (1, K)


@torch.no_grad()
def collapse_metrics(teacher_out, center, teacher_temp: float = 0.04) -> dict[str, float]:
    """Three numbers that tell whether the teacher collapsed, over a ``(B, K)`` tensor or a list of them:

    * ``entropy``: mean entropy of the teacher's targets in nats (ln K = uniform collapse, 0 = one-hot);
    * ``distinct``: how many of the K dimensions are the argmax of at least one sample (1 = one class wins);
    * ``entropy_of_mean``: entropy of the batch-mean target (low = every sample gets the same dimension).

    Computed in the inputs' precision (float16/bfloat16 raised to float32).
    """
    sizes: dict[str, int] = {}
    center = _center("collapse_metrics", center, sizes)
    views = _views("collapse_metrics", "teacher_out", teacher_out, sizes)
    p = torch.cat([teacher_probs(v, center, teacher_temp) for v in views])  # (V B, K)
    entropy = -(p * p.clamp_min(1e-12).log()).sum(-1).mean()
    mean = p.mean(0)  # (K,)
    return {
        "entropy": entropy.item(),
        "distinct": float(p.argmax(-1).unique().numel()),
        "entropy_of_mean": (-(mean * mean.clamp_min(1e-12).log()).sum()).item(),
    }
