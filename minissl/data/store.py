"""Where datasets live, how they are fetched, and how we know a file is the right one.

Root resolution, in order: the ``root`` argument, else ``MINISSL_DATA``, else ``~/.cache/minissl``.
A file that is not there is downloaded from its canonical URL to a temporary file, its checksum verified,
and only then moved into place. A file whose checksum is wrong is refused and never parsed.

Download URLs: every loader keeps its canonical URL (``https://...``) as a module constant. Setting
``MINISSL_DOWNLOAD_BASE`` (e.g. ``http://127.0.0.1:8000``) replaces the scheme and host of *every* download URL
and keeps its path, so ``https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz`` is fetched from
``http://127.0.0.1:8000/~kriz/cifar-10-python.tar.gz``. One switch, applied here in :func:`retrieve`, rather
than a constant per module to patch: it covers every loader (including ones added later) without the caller
knowing their constant names, it also reaches subprocesses (a notebook run by the tests), and what is
requested keeps the canonical path, so a test serving files at those paths checks the real URLs' paths too.
The tests use it to run the real download code against a local server; a private mirror could use it too.
Checksums are never relaxed by it: whatever comes back must still match the pinned digest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from minissl.utils import atomic_path

DEFAULT_ROOT = Path("~/.cache/minissl")
DOWNLOAD_BASE_ENV = "MINISSL_DOWNLOAD_BASE"


class DatasetError(RuntimeError):
    """A dataset is missing, corrupt or unreadable. The message says what to do."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder datasets are read from and downloaded to (absolute)."""
    chosen = root if root is not None else os.environ.get("MINISSL_DATA") or DEFAULT_ROOT
    return Path(chosen).expanduser().resolve()


def resolve_url(url: str) -> str:
    """``url``, or, when ``MINISSL_DOWNLOAD_BASE`` is set, the same path and query on that base instead.

    ``resolve_url("https://host/a/b.txt")`` with ``MINISSL_DOWNLOAD_BASE=http://127.0.0.1:8000`` is
    ``"http://127.0.0.1:8000/a/b.txt"``. A base with a path (``http://mirror/prefix``) is prefixed to the path.
    """
    base = os.environ.get(DOWNLOAD_BASE_ENV)
    if not base:
        return url
    parts = urllib.parse.urlsplit(url)
    return base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


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


def verified_bytes(path: Path, sha256: str | None, dataset: str, remedy: str) -> bytes:
    """The bytes of one file of a checksummed folder, read once and checked against ``sha256`` (from the
    folder's pinned ``SHA256SUMS``; ``None``: the file is not on that list).

    Raises:
        DatasetError: the file cannot be read, or its sha256 is not ``sha256``; the message names the file and
        ends with ``remedy`` (what to do, e.g. "Delete <folder> and run again to download a fresh copy.").
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DatasetError(f"{dataset}: cannot read {path} ({err}). {remedy}") from err
    if sha256 is None or hashlib.sha256(data).hexdigest() != sha256:
        raise DatasetError(f"{dataset}: {path} is corrupt or not the expected file (sha256 mismatch); it was not "
                           f"used. {remedy}")
    return data


def retrieve(url: str, tmp: Path, dataset: str, where: Path, timeout: float = 60.0) -> None:
    """Copy ``url`` (through :func:`resolve_url`) into the temporary file ``tmp``.

    Raises :class:`DatasetError` naming the URL tried and ``MINISSL_DATA`` if the download fails.
    """
    actual = resolve_url(url)
    print(f"{dataset}: downloading {actual}")
    try:
        with urllib.request.urlopen(actual, timeout=timeout) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out, length=1 << 20)
    except (urllib.error.URLError, OSError) as err:
        via = f" ({DOWNLOAD_BASE_ENV} is set: {os.environ[DOWNLOAD_BASE_ENV]})" if actual != url else ""
        raise DatasetError(
            f"{dataset}: no copy under {where} and the download from {actual}{via} failed ({err}). "
            "Connect to the internet and retry, or set MINISSL_DATA to a folder that already holds "
            "the dataset (the tests use MINISSL_DATA=../shared/data)."
        ) from err


def retrieve_verified(url: str, tmp: Path, checksums: dict, dataset: str, where: Path) -> Path:
    """:func:`retrieve` into ``tmp``, then check it; a wrong checksum is a :class:`DatasetError` (caller discards)."""
    retrieve(url, tmp, dataset, where)
    if not matches(tmp, checksums):
        raise DatasetError(
            f"{dataset}: the file downloaded from {resolve_url(url)} has the wrong checksum (sha256 "
            f"{file_digest(tmp)}; expected {checksums}); it was discarded. Retry later, or place a "
            f"verified copy under {where}."
        )
    return tmp


def not_writable(dataset: str, where: Path, url: str, err: OSError) -> DatasetError:
    """The error for a data folder that a download cannot write to (e.g. a read-only mirror lacking a file)."""
    return DatasetError(
        f"{dataset}: no copy under {where}, and that folder cannot be written to for a download of {url} ({err}). "
        "Set MINISSL_DATA (or root) to a writable folder, or to one that already holds the dataset."
    )


def staging_folder(dataset: str, folder: Path, url: str, where: Path | None = None) -> tempfile.TemporaryDirectory:
    """A temporary folder inside ``folder`` (made if needed) to download, unpack and verify in, so that only
    verified files are ever moved under their real names. A folder that cannot be written is a clear
    :class:`DatasetError` naming ``where`` (default ``folder``)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryDirectory(prefix=f".{dataset}-", dir=folder)
    except PermissionError as err:
        raise not_writable(dataset, where or folder, url, err) from err


def download(url: str, dest: Path, checksums: dict, dataset: str) -> Path:
    """Download ``url`` to ``dest`` through a temporary file; verify before moving it into place."""
    try:
        with atomic_path(dest) as tmp:
            retrieve_verified(url, tmp, checksums, dataset, dest.parent)
    except PermissionError as err:  # DatasetError is not an OSError: only the folder's own failures land here
        raise not_writable(dataset, dest.parent, url, err) from err
    return dest


def fetch(relpath: str, url: str, checksums: dict, dataset: str, root=None) -> Path:
    """A verified local copy of one file: ``<root>/<relpath>``, downloaded from ``url`` if missing."""
    path = data_root(root) / relpath
    if path.exists():
        return verify(path, checksums, dataset)
    return download(url, path, checksums, dataset)
