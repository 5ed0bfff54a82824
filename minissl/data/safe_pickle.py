"""Read a pickle from the internet without letting it run code.

A pickle can name any Python callable and have it called while loading (``os.system`` included). The
CIFAR-10 batches only need NumPy's array reconstruction and a few basic types, so the unpickler below admits
exactly those and refuses everything else.
"""

from __future__ import annotations

import pickle

# (module, name) pairs a CIFAR-10 python batch needs. NumPy 2 moved numpy.core to numpy._core.
ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # how Python 3 spells bytes in a protocol-2 pickle
}


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asked for something outside the allow-list."""


class RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in ALLOWED:
            raise UnsafePickleError(
                f"refusing to load {module}.{name} from a pickle: only NumPy arrays and basic types are "
                "allowed here. The file is not a CIFAR-10 batch (or has been tampered with); delete it."
            )
        return super().find_class(module, name)


def load(path, encoding: str = "bytes"):
    """``pickle.load`` through :class:`RestrictedUnpickler`."""
    with open(path, "rb") as f:
        return RestrictedUnpickler(f, encoding=encoding).load()
