"""Seeding, device choice, random draws, image checks and atomic file writes: the few things every chapter
needs once.

Introduced in chapter 1 ("Labels from the data itself"), section *Training on rotations*.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import tempfile
from pathlib import Path

import numpy as np
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) in one place.

    On CPU the same seed then gives the same numbers. Returns a ``torch.Generator`` seeded the same way, for
    code that wants its own stream of random numbers (augmentations, masking).
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed_everything: seed must be an int, got {type(seed).__name__} ({seed!r})")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def device(prefer: str | None = None) -> torch.device:
    """The device to train on: ``prefer`` if given, else CUDA when available, else the CPU.

    ``MINISSL_DEVICE`` (e.g. ``cpu``) overrides the automatic choice, which helps to run the CPU path on a
    GPU machine.
    """
    name = prefer or os.environ.get("MINISSL_DEVICE")
    if name:
        dev = torch.device(name)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                f"device: '{name}' was asked for but torch sees no CUDA GPU; "
                "use 'cpu', or unset MINISSL_DEVICE to choose automatically"
            )
        return dev
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; move it into place only if the block finishes.

    Whatever is written there is either complete at ``path`` or not there at all: an interrupted download
    or checkpoint never leaves a half-written file under the real name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)  # atomic on POSIX and Windows when on the same filesystem
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def count_parameters(model: torch.nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def record(**figures: float) -> None:
    """Keep the figures a check cell asserts, for a report of the run (prints nothing).

    When ``MINISSL_FIGURES`` names a file, each call appends one JSON line ``{"figures": {...}}`` to it
    (``tests/gpu_check.sh`` sets it to collect every check cell's figures, per notebook). Returns nothing, so
    that a check cell ending with it shows nothing more. Values must be numbers (or strings); anything else is
    a ``TypeError``.
    """
    bad = {k: type(v).__name__ for k, v in figures.items() if not isinstance(v, (int, float, str))}
    if bad:
        raise TypeError(f"record: figures must be numbers or strings, got {bad}; pass float(x) for tensors")
    target = os.environ.get("MINISSL_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as f:
            f.write(json.dumps({"figures": figures}) + "\n")


def draw(sample, *args, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """``sample(*args)`` (``torch.rand``, ``torch.randint``...) drawn from ``generator`` on the generator's own
    device, then moved to ``device``: a CPU generator gives the same numbers for CPU and CUDA tensors.
    Without a generator, torch's global one draws directly on ``device``.

    ``draw(torch.rand, (B,), generator=g, device=images.device) < p`` is a coin with probability ``p`` per image.
    """
    where = generator.device if generator is not None else device
    return sample(*args, generator=generator, device=where).to(device)


def check_images(images, what: str, rgb: bool = False) -> None:
    """Raise a clear error, naming ``what``, unless ``images`` is a tensor ``(B, C, H, W)``; with ``rgb``, unless
    it is a float tensor ``(B, 3, H, W)`` (values in [0, 1]), as the augmentations take."""
    want = "a float tensor (B, 3, H, W) in [0, 1]" if rgb else "a torch.Tensor (B, C, H, W)"
    hint = ("convert uint8 loader images (N, H, W, 3) with minissl.augment.to_tensor_images" if rgb
            else "for grey images (B, H, W) add the channel with images[:, None]")
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{what}: images must be {want}, got {type(images).__name__}; {hint}")
    if images.dim() != 4 or (rgb and images.shape[1] != 3):
        raise ValueError(f"{what}: images must be {want}, got shape {tuple(images.shape)}; {hint}")
    if rgb and not images.is_floating_point():
        raise TypeError(f"{what}: images must be {want}, got dtype {images.dtype}; {hint}")
