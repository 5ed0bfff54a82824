"""Named sizes for every training run, one per machine class, the same names in every chapter:

* ``cpu``: a 2-core laptop, at most 4 minutes of training per notebook, on a fixed slice of the data;
* ``gpu``: one Colab-class GPU (a T4), a whole notebook in at most 10 minutes;
* ``h100``: one H100/H200, for the headline figures (only by name or ``MINISSL_PRESET=h100``).

Each chapter has one module here, ``minissl/presets/<chapter>.py``, defining a frozen dataclass and a dict
``PRESETS = {"cpu": ..., "gpu": ..., "h100": ...}``. The thresholds a chapter's check cells assert live in the same
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

from minissl.precision import choose_precision, compile_supported

PRESET_NAMES = ("cpu", "gpu", "h100")


def chapters() -> list[str]:
    """The chapters that have presets (one module each in this folder)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def default_name() -> str:
    """``MINISSL_PRESET`` if set, else ``gpu`` when torch sees a CUDA GPU, else ``cpu`` (never ``h100``)."""
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


def describe(P, device=None) -> str:
    """Print (and return) what a run of preset ``P`` will be on ``device`` (default: the machine's choice):
    the preset, the device, the precision, whether the model is compiled, and the whole notebook's time."""
    from minissl.utils import device as default_device  # utils imports nothing from here

    dev = torch.device(device) if device is not None else default_device()
    where = (f"{torch.cuda.get_device_name(dev)} (compute capability "
             f"{'.'.join(map(str, torch.cuda.get_device_capability(dev)))})" if dev.type == "cuda"
             else f"{torch.get_num_threads()} CPU threads")
    compiled = getattr(P, "compile", False) and compile_supported(dev)
    line = (f"preset {P.name!r} on {dev} [{where}]: {choose_precision(dev)}, "
            f"torch.compile {'on' if compiled else 'off'}; whole notebook: {P.expected_time}")
    print(line)
    return line
