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

import math

import torch
import torch.nn.functional as F


def _check_views(student_out, teacher_out, center) -> tuple[int, int]:
    for name, views in (("student_out", student_out), ("teacher_out", teacher_out)):
        if not isinstance(views, (list, tuple)) or len(views) == 0:
            raise TypeError(f"dino_loss: {name} must be a non-empty list of (B, K) tensors, got {type(views).__name__}")
    B, K = None, None
    for name, views in (("teacher_out", teacher_out), ("student_out", student_out)):
        for i, v in enumerate(views):
            if not isinstance(v, torch.Tensor) or v.dim() != 2:
                shape = tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__
                raise ValueError(f"dino_loss: {name}[{i}] must be a (B, K) tensor, got {shape}")
            if K is None:
                B, K = v.shape
            if v.shape[1] != K:
                raise ValueError(
                    f"dino_loss: {name}[{i}] has K={v.shape[1]} output dimensions but teacher_out[0] has K={K}; "
                    "student and teacher heads must have the same out_dim"
                )
            if v.shape[0] != B:
                raise ValueError(
                    f"dino_loss: {name}[{i}] has batch size B={v.shape[0]} but teacher_out[0] has B={B}; "
                    "every view must hold the same images in the same order"
                )
    if len(student_out) < len(teacher_out):
        raise ValueError(
            f"dino_loss: {len(student_out)} student views for {len(teacher_out)} teacher views; the student sees "
            "the teacher's global views first, then the local ones"
        )
    if center.shape not in ((1, K), (K,)):
        raise ValueError(f"dino_loss: center must have shape (1, {K}), got {tuple(center.shape)}")
    return B, K


def teacher_probs(teacher_out: torch.Tensor, center: torch.Tensor, teacher_temp: float = 0.04) -> torch.Tensor:
    """The teacher's targets ``softmax((g_t - c) / tau_t)``, ``(B, K)``, detached from the graph."""
    return F.softmax((teacher_out.detach() - center.detach()) / teacher_temp, dim=-1)


def dino_loss(student_out, teacher_out, center, *, student_temp: float = 0.1,
              teacher_temp: float = 0.04) -> torch.Tensor:
    """The DINO loss, a scalar.

    Args:
        student_out: list of ``(B, K)`` student head outputs, the global views first, then the local views.
        teacher_out: list of ``(B, K)`` teacher head outputs for the global views, in the same order.
        center: ``(1, K)`` running mean of the teacher outputs.
        student_temp, teacher_temp: softmax temperatures (the teacher's is lower: sharper targets).

    Returns the cross-entropy averaged over the batch and over every (teacher view, student view) pair
    except a view with itself. No gradient flows into ``teacher_out`` or ``center``.
    """
    _check_views(student_out, teacher_out, center)
    if student_temp <= 0 or teacher_temp <= 0:
        raise ValueError(f"dino_loss: temperatures must be > 0, got student_temp={student_temp}, "
                         f"teacher_temp={teacher_temp}")
    targets = [teacher_probs(t, center, teacher_temp) for t in teacher_out]
    log_student = [F.log_softmax(s / student_temp, dim=-1) for s in student_out]
    total, pairs = 0.0, 0
    for ti, p_t in enumerate(targets):
        for si, log_p_s in enumerate(log_student):
            if si == ti:  # the same global crop: nothing to learn from matching itself
                continue
            total = total + (-(p_t * log_p_s).sum(dim=-1)).mean()
            pairs += 1
    if pairs == 0:
        raise ValueError("dino_loss: no (teacher, student) pair of different views; give the student more views")
    return total / pairs


@torch.no_grad()
def update_center(center: torch.Tensor, teacher_out, momentum: float = 0.9) -> torch.Tensor:
    """The new centre ``momentum * center + (1 - momentum) * mean of the teacher outputs``, shape ``(1, K)``.

    ``teacher_out`` is a ``(B, K)`` tensor or a list of them (the global views); the mean runs over every
    sample of every view. Call it after the loss of the step: the loss uses the centre of the past steps.
    """
    views = list(teacher_out) if isinstance(teacher_out, (list, tuple)) else [teacher_out]
    if not views:
        raise ValueError("update_center: teacher_out is empty; pass the teacher's (B, K) outputs")
    K = center.shape[-1]
    for i, v in enumerate(views):
        if v.dim() != 2 or v.shape[1] != K:
            raise ValueError(f"update_center: teacher_out[{i}] must be (B, {K}) to match center {tuple(center.shape)}, "
                             f"got {tuple(v.shape)}")
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"update_center: momentum must be in [0, 1], got {momentum}")
    batch_center = torch.cat([v.detach() for v in views]).float().mean(dim=0, keepdim=True)  # (1, K)
    return center.reshape(1, K) * momentum + batch_center.to(center.dtype) * (1 - momentum)


@torch.no_grad()
def collapse_metrics(teacher_out, center, teacher_temp: float = 0.04) -> dict[str, float]:
    """Three numbers that tell whether the teacher collapsed, over a list of ``(B, K)`` teacher outputs:

    * ``entropy``: mean entropy of the teacher's targets in nats (ln K = uniform collapse, 0 = one-hot);
    * ``distinct``: how many of the K dimensions are the argmax of at least one sample (1 = one class wins);
    * ``entropy_of_mean``: entropy of the batch-mean target (low = every sample gets the same dimension).
    """
    views = list(teacher_out) if isinstance(teacher_out, (list, tuple)) else [teacher_out]
    p = torch.cat([teacher_probs(v, center, teacher_temp) for v in views]).float()
    entropy = -(p * p.clamp_min(1e-12).log()).sum(-1).mean()
    mean = p.mean(0)
    return {
        "entropy": entropy.item(),
        "distinct": float(p.argmax(-1).unique().numel()),
        "entropy_of_mean": (-(mean * mean.clamp_min(1e-12).log()).sum()).item(),
    }


def uniform_entropy(K: int) -> float:
    """ln K: the entropy (nats) of the uniform distribution over K dimensions, where uniform collapse sits."""
    return math.log(K)
