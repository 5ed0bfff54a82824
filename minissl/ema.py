"""Exponential moving averages of a model's weights: DINO's teacher (and any "momentum encoder").

Built in the chapter *DINO: self-distillation without labels*, section *A teacher that is the student's
past*. After every optimizer step of the student with parameters theta_s:

    theta_t <- m theta_t + (1 - m) theta_s,      m = momentum in [0, 1]

m = 1 freezes the teacher; m = 0 copies the student. DINO raises m from ~0.996 to 1 along a cosine
(:func:`cosine_momentum`). The teacher gets no gradients: its parameters have ``requires_grad=False``.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


def frozen_copy(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` whose parameters need no gradient: the starting teacher (same weights)."""
    twin = copy.deepcopy(model)
    for p in twin.parameters():
        p.requires_grad_(False)
    return twin


@torch.no_grad()
def ema_update(target: nn.Module, source: nn.Module, momentum: float) -> None:
    """In place: every parameter of ``target`` <- ``momentum * target + (1 - momentum) * source``.

    Buffers (e.g. BatchNorm statistics) are copied from ``source``. Both models must have the same
    architecture (same parameter names and shapes).
    """
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"ema_update: momentum must be in [0, 1], got {momentum}")
    src = dict(source.named_parameters())
    tgt = dict(target.named_parameters())
    if src.keys() != tgt.keys():
        missing = sorted(set(src) ^ set(tgt))[:3]
        raise ValueError(f"ema_update: target and source have different parameters (e.g. {missing}); "
                         "make the target with frozen_copy(source)")
    for name, t in tgt.items():
        s = src[name]
        if s.shape != t.shape:
            raise ValueError(f"ema_update: parameter {name} has shape {tuple(t.shape)} in the target but "
                             f"{tuple(s.shape)} in the source")
        t.mul_(momentum).add_(s.detach().to(t.dtype), alpha=1.0 - momentum)
    src_buffers = dict(source.named_buffers())
    for name, b in target.named_buffers():
        if name in src_buffers:
            b.copy_(src_buffers[name])


def cosine_momentum(step: int, total_steps: int, base: float = 0.996, final: float = 1.0) -> float:
    """EMA momentum at ``step``: ``base`` at step 0, rising along a half cosine to ``final`` at the end."""
    if total_steps <= 0:
        raise ValueError(f"cosine_momentum: total_steps must be positive, got {total_steps}")
    progress = min(max(step / total_steps, 0.0), 1.0)
    return final - (final - base) * 0.5 * (1.0 + math.cos(math.pi * progress))


class EMA:
    """A teacher that follows a student: ``EMA(student)`` holds a frozen copy; ``update(student, m)``.

    >>> teacher = EMA(student)            # same weights at the start
    >>> teacher.update(student, 0.996)    # after each optimizer step
    >>> teacher.model(x)                  # use the averaged model

    ``state_dict()`` / ``load_state_dict()`` are the averaged model's: ``fit(..., state={"teacher": teacher})``
    checkpoints it with the student.
    """

    def __init__(self, model: nn.Module):
        self.model = frozen_copy(model)

    def update(self, model: nn.Module, momentum: float) -> None:
        ema_update(self.model, model, momentum)

    def state_dict(self) -> dict:
        return self.model.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state)
