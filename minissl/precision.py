"""Mixed precision and compilation, chosen in one place from what the device can do.

Introduced in chapter 1, section *Training on rotations*; :func:`minissl.train.fit` and the benchmarks use it.

* **bf16 autocast** where the GPU computes bfloat16 natively (NVIDIA compute capability >= 8.0: A100, L4,
  H100...). bfloat16 keeps float32's exponent range, so gradients need no scaling.
* **fp16 autocast + a gradient scaler** on older GPUs (the T4 of Colab's free tier is 7.5). float16 has a
  narrow exponent range: small gradients underflow to zero unless the loss is multiplied by a large factor
  before ``backward`` and the gradients divided by it again before the optimizer step (Micikevicius et al.,
  2018, *Mixed Precision Training*, section 3.2).
* **float32** on the CPU (where it is both faster and exact) and when ``amp=False``.

``torch.compile`` is used only where it is known to work: CUDA with capability >= 8.0 (on older GPUs its
Triton kernels fail for bf16 and compilation eats minutes of a short notebook), and only when a preset asks.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from dataclasses import dataclass

import torch

BF16_MIN_CAPABILITY = (8, 0)  # Ampere and newer: native bfloat16 tensor cores
COMPILE_MIN_CAPABILITY = (8, 0)


@dataclass(frozen=True)
class Precision:
    """How a training step computes: the autocast dtype and whether a gradient scaler is needed.

    ``dtype`` is ``torch.bfloat16``, ``torch.float16`` or ``torch.float32`` (no autocast).
    """

    device_type: str
    dtype: torch.dtype = torch.float32

    @property
    def uses_scaler(self) -> bool:
        """fp16 needs loss scaling; bf16 and float32 do not."""
        return self.dtype == torch.float16

    def autocast(self):
        """A context manager: autocast to ``dtype`` on ``device_type``, or nothing for float32."""
        if self.dtype == torch.float32:
            return nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def grad_scaler(self):
        """A fresh ``torch.amp.GradScaler`` for fp16, else ``None``."""
        if not self.uses_scaler:
            return None
        if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):  # torch >= 2.3
            return torch.amp.GradScaler(self.device_type)
        return torch.cuda.amp.GradScaler()  # pragma: no cover (older torch)

    def __str__(self) -> str:
        if self.dtype == torch.bfloat16:
            return "bf16 autocast"
        if self.dtype == torch.float16:
            return "fp16 autocast + gradient scaler"
        return "float32"


def cuda_capability(device) -> tuple[int, int] | None:
    """The CUDA compute capability of ``device`` as ``(major, minor)``, or ``None`` off CUDA."""
    device = torch.device(device)
    if device.type != "cuda":
        return None
    return tuple(torch.cuda.get_device_capability(device))


def choose_precision(device, amp: bool = True, capability: tuple[int, int] | None = None) -> Precision:
    """The precision for training on ``device``.

    Args:
        device: a ``torch.device`` or its name.
        amp: ``False`` forces float32.
        capability: the CUDA compute capability; read from the device when ``None`` (pass it to test the
            choice on a machine without that GPU).

    Returns:
        bf16 autocast for CUDA capability >= 8.0, fp16 autocast + scaler below that, float32 off CUDA.
    """
    device = torch.device(device)
    if not amp or device.type != "cuda":
        return Precision(device.type, torch.float32)
    cap = tuple(capability) if capability is not None else cuda_capability(device)
    return Precision("cuda", torch.bfloat16 if cap >= BF16_MIN_CAPABILITY else torch.float16)


def compile_supported(device, capability: tuple[int, int] | None = None) -> bool:
    """True where ``torch.compile`` is known to work for the book's models: CUDA >= 8.0, not on Windows."""
    device = torch.device(device)
    if device.type != "cuda" or sys.platform == "win32":
        return False
    cap = tuple(capability) if capability is not None else cuda_capability(device)
    return cap >= COMPILE_MIN_CAPABILITY


def maybe_compile(model: torch.nn.Module, enabled: bool, device=None, capability=None) -> torch.nn.Module:
    """``torch.compile(model)`` when ``enabled`` (the preset asks) and the device supports it, else ``model``.

    The compiled module shares its parameters with ``model``: train through the returned one, save and
    evaluate through either.
    """
    if device is None:
        device = next(model.parameters()).device
    if enabled and compile_supported(device, capability):
        return torch.compile(model)
    return model


__all__ = ["Precision", "cuda_capability", "choose_precision", "compile_supported", "maybe_compile"]
