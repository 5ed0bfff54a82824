"""Named sizes for every training run: ``cpu`` (minutes on a 2-core laptop) and ``gpu`` (the real run).

Each chapter has one module here, ``minissl/presets/<chapter>.py``, defining a frozen dataclass and a dict
``PRESETS = {"cpu": ..., "gpu": ...}``. The thresholds a chapter's check cells assert live in the same
dataclass as the sizes they belong to, so the text, the check and the preset cannot disagree.

    >>> P = get("labels")            # chapter 1; the name falls back to MINISSL_PRESET, then to the machine
    >>> P.name
    'cpu'
"""

from __future__ import annotations

import importlib
import os
import pkgutil

import torch

PRESET_NAMES = ("cpu", "gpu")


def chapters() -> list[str]:
    """The chapters that have presets (one module each in this folder)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def default_name() -> str:
    """``MINISSL_PRESET`` if set, else ``gpu`` when torch sees a CUDA GPU, else ``cpu``."""
    return os.environ.get("MINISSL_PRESET") or ("gpu" if torch.cuda.is_available() else "cpu")


def get(chapter: str, name: str | None = None):
    """The preset called ``name`` for ``chapter``.

    ``name`` falls back to ``MINISSL_PRESET``, then to ``gpu`` or ``cpu`` by what the machine has.
    An unknown chapter or preset name is an error that lists the valid ones.
    """
    if chapter not in chapters():
        raise ValueError(f"presets.get: unknown chapter {chapter!r}; valid chapters are {chapters()}")
    module = importlib.import_module(f"{__name__}.{chapter}")
    chosen = name if name is not None else default_name()
    source = "argument" if name is not None else ("MINISSL_PRESET" if os.environ.get("MINISSL_PRESET") else "machine")
    if chosen not in module.PRESETS:
        raise ValueError(
            f"presets.get({chapter!r}): unknown preset {chosen!r} (from the {source}); "
            f"valid names are {sorted(module.PRESETS)}. Set MINISSL_PRESET to one of them or pass name=..."
        )
    return module.PRESETS[chosen]
