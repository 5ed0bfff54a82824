"""Where datasets live, how they are fetched, and how we know a file is the right one.

Root resolution, in order: the ``root`` argument, else ``MINISSL_DATA``, else ``~/.cache/minissl``.
A file that is not there is downloaded from its canonical URL to a temporary file, its checksum verified,
and only then moved into place. A file whose checksum is wrong is refused and never parsed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from minissl.utils import atomic_path

DEFAULT_ROOT = Path("~/.cache/minissl")


class DatasetError(RuntimeError):
    """A dataset is missing, corrupt or unreadable. The message says what to do."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder datasets are read from and downloaded to (absolute)."""
    chosen = root if root is not None else os.environ.get("MINISSL_DATA") or DEFAULT_ROOT
    return Path(chosen).expanduser().resolve()


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def matches(path: Path, checksums: dict[str, str | tuple[str, ...]]) -> bool:
    """True if the file's digest equals one accepted value, e.g. ``{"sha256": "...", "md5": ("...", "...")}``."""
    for algorithm, accepted in checksums.items():
        accepted = (accepted,) if isinstance(accepted, str) else accepted
        if file_digest(path, algorithm) in accepted:
            return True
    return False


def verify(path: Path, checksums: dict, dataset: str) -> Path:
    """Return ``path`` if its checksum is accepted, else raise a :class:`DatasetError` naming the fix."""
    if not matches(path, checksums):
        raise DatasetError(
            f"{dataset}: {path} is corrupt or not the expected file (its sha256 is "
            f"{file_digest(path)}; expected {checksums}). It was not used. Delete it and run again to "
            "download a fresh copy, or point MINISSL_DATA at a folder with a good one."
        )
    return path


def retrieve(url: str, tmp: Path, dataset: str, where: Path, timeout: float = 60.0) -> None:
    """Copy ``url`` into the temporary file ``tmp``; a failure names the URL and ``MINISSL_DATA``."""
    print(f"{dataset}: downloading {url}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out, length=1 << 20)
    except (urllib.error.URLError, OSError) as err:
        raise DatasetError(
            f"{dataset}: no copy under {where} and the download from {url} failed ({err}). "
            "Connect to the internet and retry, or set MINISSL_DATA to a folder that already holds "
            "the dataset (the tests use MINISSL_DATA=../shared/data)."
        ) from err


def download(url: str, dest: Path, checksums: dict, dataset: str) -> Path:
    """Download ``url`` to ``dest`` through a temporary file; verify before moving it into place."""
    with atomic_path(dest) as tmp:
        retrieve(url, tmp, dataset, dest.parent)
        if not matches(tmp, checksums):
            raise DatasetError(
                f"{dataset}: the file downloaded from {url} has the wrong checksum (sha256 "
                f"{file_digest(tmp)}; expected {checksums}); it was discarded. Retry later, or place a "
                f"verified copy at {dest}."
            )
    return dest


def fetch(relpath: str, url: str, checksums: dict, dataset: str, root=None) -> Path:
    """A verified local copy of one file: ``<root>/<relpath>``, downloaded from ``url`` if missing."""
    path = data_root(root) / relpath
    if path.exists():
        return verify(path, checksums, dataset)
    return download(url, path, checksums, dataset)
