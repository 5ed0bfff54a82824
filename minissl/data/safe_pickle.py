"""Read a pickle from the internet without letting it run code.

A pickle can name any Python callable and have it called while loading (``os.system`` included). The
CIFAR-10 batches only need NumPy's array reconstruction and a few basic types, so the unpickler below admits
exactly those and refuses everything else.
"""

from __future__ import annotations

import pickle
import struct

# (module, name) pairs a CIFAR-10 python batch needs. NumPy 2 moved numpy.core to numpy._core.
ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # how Python 3 spells bytes in a protocol-2 pickle
    ("__builtin__", "bytes"),  # an empty bytes object in a protocol-2 pickle (an array of 0 images)
    ("builtins", "bytes"),
}


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle asked for something outside the allow-list."""


class CorruptPickleError(pickle.UnpicklingError):
    """The file is not a readable pickle (truncated, or not a pickle at all)."""


class RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in ALLOWED:
            raise UnsafePickleError(
                f"refusing to load {module}.{name} from a pickle: only NumPy arrays and basic types are "
                "allowed here. The file is not a CIFAR-10 batch (or has been tampered with); delete it."
            )
        return super().find_class(module, name)


def load(path, encoding: str = "bytes"):
    """``pickle.load`` through :class:`RestrictedUnpickler`.

    Raises :class:`UnsafePickleError` for a pickle that asks for anything outside the allow-list, and
    :class:`CorruptPickleError` for bytes that are not a readable pickle (whatever error the unpickler hit:
    a truncated file, garbage, a length field larger than memory).
    """
    with open(path, "rb") as f:
        try:
            return RestrictedUnpickler(f, encoding=encoding).load()
        except pickle.UnpicklingError:
            raise
        except (EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError, UnicodeError, OverflowError,
                MemoryError, struct.error) as err:
            raise CorruptPickleError(
                f"{path} is not a readable pickle ({type(err).__name__}: {err}); the file is truncated or "
                "corrupt. Delete it and run again to download a fresh copy."
            ) from err
