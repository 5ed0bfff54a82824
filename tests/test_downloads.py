"""The real download paths, run against a local HTTP server that serves the data mirror's files.

``MINISSL_DOWNLOAD_BASE`` (see :mod:`minissl.data.store`) sends every download to the server, keeping each
canonical URL's path, so the files are served where the real hosts serve them, in the canonical layouts:
CIFAR-10 as ``cifar-10-python.tar.gz`` (built from the mirror's subset), the WikiText-2 and Tiny Shakespeare text
files, and the UCI sentiment zip. Each loader then downloads into an empty root (temporary file, verify, extract,
move into place) and must give what reading the mirror directly gives. Per-file checksums stay the real ones; only
the CIFAR-10 archive-level md5 is patched, since an archive built from the subset cannot match the published one.
"""

import gzip
import hashlib
import io
import os
import socket
import tarfile
import urllib.parse
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import serve_files

from minissl import data
from minissl.data import cifar, store, text_sets

CIFAR_FILES = ("batches.meta",) + cifar.TRAIN_FILES + cifar.TEST_FILES


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def _cifar_archive(folder, corrupt: str | None = None) -> bytes:
    """``cifar-10-python.tar.gz`` as the original: ``cifar-10-batches-py/<file>``; one member corrupted if asked."""
    buffer = io.BytesIO()
    # level 1: the test is about layout, not size; fixed mtimes keep the bytes reproducible
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=1, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in CIFAR_FILES:
            payload = bytearray((folder / name).read_bytes())
            if name == corrupt:
                payload[len(payload) // 2] ^= 0xFF
            info = tarfile.TarInfo(f"{cifar.FOLDER}/{name}")
            info.size, info.mtime, info.mode = len(payload), 0, 0o644
            tar.addfile(info, io.BytesIO(bytes(payload)))
    return buffer.getvalue()


def _sentiment_zip(folder, corrupt: str | None = None) -> bytes:
    """The UCI zip's layout: ``sentiment labelled sentences/*.txt`` plus macOS resource forks to skip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.iterdir()):
            payload = bytearray(path.read_bytes())
            if path.name == corrupt:
                payload[100] ^= 0x01
            zf.writestr(f"sentiment labelled sentences/{path.name}", bytes(payload))
            zf.writestr(f"__MACOSX/sentiment labelled sentences/._{path.name}", b"\x00\x05\x16\x07junk")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def mirror() -> Path:
    """The data mirror, as in conftest.py but module-scoped (the served archives are built once)."""
    root = Path(os.environ.get("MINISSL_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
    if not (root / "tinyshakespeare").is_dir():
        pytest.skip(f"no data mirror at {root}: set MINISSL_DATA to it")
    return root.resolve()


@pytest.fixture(scope="module")
def served(mirror):
    """``{url path: bytes}``: what the canonical hosts serve, built once from the mirror."""
    cifar_folder = mirror / "cifar10-subset" / cifar.FOLDER
    files = {
        _path(cifar.URL): _cifar_archive(cifar_folder),
        _path(text_sets.SHAKESPEARE_URL): (mirror / "tinyshakespeare" / "input.txt").read_bytes(),
        _path(text_sets.SENTIMENT_URL): _sentiment_zip(mirror / "sentiment-labelled-sentences"),
    }
    for split in ("valid", "test"):
        files[_path(text_sets.WIKITEXT_BASE + f"{split}.txt")] = (mirror / "wikitext-2" / f"{split}.txt").read_bytes()
    return files


@pytest.fixture
def server(served, monkeypatch):
    """A server on 127.0.0.1 (free port, own thread) serving a copy of ``served``; downloads are sent to it."""
    monkeypatch.delenv("MINISSL_DATA", raising=False)
    with serve_files(served, monkeypatch) as httpd:
        yield httpd


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _md5(payload: bytes) -> str:
    return hashlib.md5(payload).hexdigest()


def test_resolve_url(monkeypatch):
    monkeypatch.delenv(store.DOWNLOAD_BASE_ENV, raising=False)
    assert store.resolve_url(cifar.URL) == cifar.URL
    monkeypatch.setenv(store.DOWNLOAD_BASE_ENV, "http://127.0.0.1:9/mirror/")
    assert store.resolve_url(cifar.URL) == "http://127.0.0.1:9/mirror/~kriz/cifar-10-python.tar.gz"
    assert store.resolve_url("https://h/a/b?x=1") == "http://127.0.0.1:9/mirror/a/b?x=1"


def test_cifar10_download_extract_matches_mirror(server, mirror, tmp_path, monkeypatch):
    archive = server.files[_path(cifar.URL)]
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", _md5(archive))  # archive-level only; per-file checksums stay real
    for split in ("train", "test"):
        x, y = data.cifar10(split, root=tmp_path)
        xm, ym = data.cifar10(split, root=mirror)
        assert np.array_equal(x, xm) and np.array_equal(y, ym)
    assert server.requests == [_path(cifar.URL)]  # downloaded once, then read from disk
    # only the verified batches, under the real name; the archive and the staging folder are gone
    assert _files(tmp_path) == [f"cifar10/{cifar.FOLDER}/{name}" for name in sorted(CIFAR_FILES)]
    x, y = data.cifar10("train", root=tmp_path, per_file=1000)
    assert x.shape == (5000, 32, 32, 3)


def test_cifar10_corrupt_archive_is_refused(server, tmp_path, monkeypatch):
    good = server.files[_path(cifar.URL)]
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", _md5(good))
    bad = bytearray(good)
    bad[len(bad) // 3] ^= 0x01
    server.files[_path(cifar.URL)] = bytes(bad)
    with pytest.raises(data.DatasetError, match="wrong checksum.*discarded"):
        data.cifar10("train", root=tmp_path)
    assert _files(tmp_path) == []


def test_cifar10_corrupt_member_is_refused(server, mirror, tmp_path, monkeypatch):
    # an archive whose own md5 is accepted but which holds a bad data_batch_3: the per-file check refuses it
    bad = _cifar_archive(mirror / "cifar10-subset" / cifar.FOLDER, corrupt="data_batch_3")
    server.files[_path(cifar.URL)] = bad
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", _md5(bad))
    with pytest.raises(data.DatasetError, match="data_batch_3 is corrupt"):
        data.cifar10("train", root=tmp_path)
    assert _files(tmp_path) == [] and not (tmp_path / "cifar10" / cifar.FOLDER).exists()


def test_text_downloads_match_mirror(server, mirror, tmp_path):
    assert data.tiny_shakespeare(root=tmp_path) == data.tiny_shakespeare(root=mirror)
    for split in ("valid", "test"):
        assert data.wikitext2(split, root=tmp_path) == data.wikitext2(split, root=mirror)
    sentences, labels = data.sentiment_sentences(root=tmp_path)
    sentences_m, labels_m = data.sentiment_sentences(root=mirror)
    assert sentences == sentences_m and np.array_equal(labels, labels_m)
    assert _files(tmp_path) == [
        "sentiment-labelled-sentences/amazon_cells_labelled.txt",
        "sentiment-labelled-sentences/imdb_labelled.txt",
        "sentiment-labelled-sentences/yelp_labelled.txt",
        "tinyshakespeare/input.txt", "wikitext-2/test.txt", "wikitext-2/valid.txt",
    ]


@pytest.mark.parametrize("url, load", [
    (text_sets.SHAKESPEARE_URL, lambda root: data.tiny_shakespeare(root=root)),
    (text_sets.WIKITEXT_BASE + "valid.txt", lambda root: data.wikitext2("valid", root=root)),
], ids=["tiny_shakespeare", "wikitext2"])
def test_corrupt_text_download_is_refused(server, tmp_path, url, load):
    bad = bytearray(server.files[_path(url)])
    bad[1234] ^= 0x01
    server.files[_path(url)] = bytes(bad)
    with pytest.raises(data.DatasetError, match="wrong checksum.*discarded"):
        load(tmp_path)
    assert _files(tmp_path) == []


def test_corrupt_sentiment_member_is_refused(server, mirror, tmp_path):
    server.files[_path(text_sets.SENTIMENT_URL)] = _sentiment_zip(
        mirror / "sentiment-labelled-sentences", corrupt="imdb_labelled.txt")
    with pytest.raises(data.DatasetError, match="corrupt"):
        data.sentiment_sentences(root=tmp_path)
    # nothing half-written under a real name: the bad file and the zip are gone; what is there was verified
    assert "sentiment-labelled-sentences/imdb_labelled.txt" not in _files(tmp_path)
    assert all(name.endswith("amazon_cells_labelled.txt") for name in _files(tmp_path))


def test_wikitext2_train_comes_from_pytorch_examples(server, tmp_path, monkeypatch):
    path = _path(text_sets.WIKITEXT_BASE + "train.txt")
    fake = b" = Not WikiText = \n"
    server.files[path] = fake
    # the pinned sha256 refuses anything but the real file ...
    with pytest.raises(data.DatasetError, match="wrong checksum.*discarded"):
        data.wikitext2("train", root=tmp_path)
    assert server.requests == [path] and _files(tmp_path) == []
    # ... and the same path, given a checksum that accepts the file served, puts it in place
    monkeypatch.setitem(text_sets.WIKITEXT_SHA256, "train", hashlib.sha256(fake).hexdigest())
    assert data.wikitext2("train", root=tmp_path) == fake.decode()
    assert _files(tmp_path) == ["wikitext-2/train.txt"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("load", [
    lambda root: data.cifar10("train", root=root),
    lambda root: data.tiny_shakespeare(root=root),
    lambda root: data.wikitext2("train", root=root),
    lambda root: data.sentiment_sentences(root=root),
], ids=["cifar10", "tiny_shakespeare", "wikitext2", "sentiment"])
def test_server_down_gives_clear_error(tmp_path, monkeypatch, load):
    monkeypatch.setenv(store.DOWNLOAD_BASE_ENV, f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with pytest.raises(data.DatasetError, match=r"no copy under .* failed .*set MINISSL_DATA"):
        load(tmp_path)
    assert _files(tmp_path) == []


def test_read_only_root_gives_clear_error(tmp_path, monkeypatch):
    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(store, "atomic_path", refuse)  # as a read-only mirror would (chmod does not stop root)
    with pytest.raises(data.DatasetError, match="cannot be written to .*Set MINISSL_DATA"):
        data.wikitext2("train", root=tmp_path)
