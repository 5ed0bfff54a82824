"""Shared test fixtures. Unit tests run on the CPU with a non-interactive matplotlib backend."""

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parent.parent
MIRROR = REPO.parent / "shared" / "data"


@pytest.fixture
def mirror() -> Path:
    """The offline data mirror (MINISSL_DATA, else ../shared/data); tests that need it skip without it."""
    root = Path(os.environ.get("MINISSL_DATA") or MIRROR)
    if not (root / "tinyshakespeare").is_dir():
        pytest.skip(f"no data mirror at {root}: set MINISSL_DATA to it")
    return root.resolve()
