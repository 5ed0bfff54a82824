"""The unlabelled IMDb reviews (minissl.data.imdb): normalisation to Pang & Lee's form, and the loader run through
the real download path against a local server serving a small archive in the published layout (its pinned
sha256 patched to the small archive's, since no test can hold the 84 MB original)."""

import gzip
import hashlib
import io
import tarfile

import pytest
from conftest import serve_files

from minissl.data import DatasetError, imdb


def test_normalize_review_matches_pang_and_lee_form():
    raw = "This movie was GREAT! I didn't expect it.<br /><br />10/10, would watch again... Really?"
    assert imdb.normalize_review(raw) == ("this movie was great !\ni didn't expect it .\n10 / 10 , would watch "
                                          "again . . .\nreally ?")
    assert imdb.normalize_review("") == ""
    assert imdb.normalize_review("<br />  <br/>") == ""


def _archive(n: int, extra=()) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        members = [(f"aclImdb/train/unsup/{i}_0.txt", f"Review number {i}. Fine.") for i in range(n)]
        members += [("aclImdb/train/pos/0_9.txt", "A labelled review: left out."), *extra]
        for name, text in members:
            payload = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def _serve(archive, monkeypatch):
    monkeypatch.setattr(imdb, "IMDB_SHA256", hashlib.sha256(archive).hexdigest())
    return serve_files({"/~amaas/data/sentiment/aclImdb_v1.tar.gz": archive}, monkeypatch)


def test_imdb_unlabelled_downloads_verifies_and_reads_only_unsup(tmp_path, monkeypatch):
    monkeypatch.setattr(imdb, "N_UNLABELLED", 12)
    archive = _archive(12)
    with _serve(archive, monkeypatch) as server:
        texts = imdb.imdb_unlabelled(root=tmp_path)
        assert server.requests == ["/~amaas/data/sentiment/aclImdb_v1.tar.gz"]
        assert (tmp_path / imdb.IMDB_PATH).read_bytes() == archive  # moved into place whole
        assert imdb.imdb_unlabelled(root=tmp_path) == texts and len(server.requests) == 1  # read from the copy
    assert len(texts) == 12 and texts[0] == "review number 0 .\nfine ."  # sorted by name: 0, 1, 10, 11, 2, ...
    assert all("labelled" not in t for t in texts)


def test_imdb_unlabelled_refuses_a_wrong_count_and_a_corrupt_copy(tmp_path, monkeypatch):
    monkeypatch.setattr(imdb, "N_UNLABELLED", 12)
    with _serve(_archive(11), monkeypatch):
        with pytest.raises(DatasetError, match="expected 12 reviews"):
            imdb.imdb_unlabelled(root=tmp_path)
    path = tmp_path / imdb.IMDB_PATH
    path.write_bytes(b"not the archive")
    with pytest.raises(DatasetError, match="corrupt or not the expected file"):
        imdb.imdb_unlabelled(root=tmp_path)
