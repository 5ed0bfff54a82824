import io
import json
import os
import pickle
import shutil
import urllib.error

import numpy as np
import pytest

from minissl import data
from minissl.data import cifar, safe_pickle, store, text_sets


def test_mirror_cifar10_subset(mirror):
    x, y = data.cifar10("train", root=mirror)
    assert x.shape == (5170, 32, 32, 3) and x.dtype == np.uint8
    assert y.shape == (5170,) and y.dtype == np.int64
    # the well-known first images: frog, truck, truck, deer, car, car, bird, horse
    assert y[:8].tolist() == [6, 9, 9, 4, 1, 1, 2, 7]
    xt, yt = data.cifar10("test", root=mirror)
    assert xt.shape == (1017, 32, 32, 3)
    assert np.bincount(yt).tolist() == [105, 93, 100, 104, 92, 87, 114, 102, 110, 110]
    assert len(data.CIFAR10_CLASSES) == 10


def test_cifar_bad_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        data.cifar10("valid")


def test_mirror_text_sets(mirror):
    text = data.tiny_shakespeare(root=mirror)
    assert len(text) == 1_115_394 and len(set(text)) == 65
    valid = data.wikitext2("valid", root=mirror)
    assert len(valid.split("\n")) - 1 == 3760 and len(valid.split()) == 213_886
    sentences, labels = data.sentiment_sentences(root=mirror)
    assert len(sentences) == 3000 and labels.sum() == 1500  # U+0085 inside imdb sentences does not split them


def test_captions_match_mirror(mirror):
    entries = json.loads((mirror / "clip-skimage-captions" / "captions.json").read_text())
    assert {e["skimage_file"]: e["caption"] for e in entries} == data.CAPTIONS
    pairs = data.clip_captions()
    assert len(pairs) == 8 and all(img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8
                                   for img, _ in pairs)


def test_root_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("MINISSL_DATA", str(tmp_path))
    assert store.data_root() == tmp_path.resolve()
    assert store.data_root(tmp_path / "x") == (tmp_path / "x").resolve()
    monkeypatch.delenv("MINISSL_DATA")
    assert store.data_root() == store.DEFAULT_ROOT.expanduser().resolve()


def test_corrupt_file_is_refused_and_not_used(mirror, tmp_path):
    folder = tmp_path / "tinyshakespeare"
    folder.mkdir()
    raw = bytearray((mirror / "tinyshakespeare" / "input.txt").read_bytes())
    raw[1000] ^= 1  # one flipped bit
    (folder / "input.txt").write_bytes(bytes(raw))
    with pytest.raises(data.DatasetError, match="corrupt.*Delete it"):
        data.tiny_shakespeare(root=tmp_path)


def test_corrupt_cifar_batch_is_refused(mirror, tmp_path):
    shutil.copytree(mirror / "cifar10-subset", tmp_path / "cifar10-subset")
    batch = tmp_path / "cifar10-subset" / "cifar-10-batches-py" / "data_batch_3"
    os.chmod(batch, 0o644)
    with open(batch, "r+b") as f:
        f.seek(5000)
        f.write(b"\x00\x01\x02")
    with pytest.raises(data.DatasetError, match="data_batch_3 is corrupt"):
        data.cifar10("train", root=tmp_path)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/minissl-pwned",))


def test_malicious_pickle_is_refused(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": _Evil(), b"labels": [0]}, protocol=2))
    with pytest.raises(safe_pickle.UnsafePickleError, match="refusing to load (posix|os|nt).system"):
        cifar.read_batch(path)
    assert not os.path.exists("/tmp/minissl-pwned")


def test_restricted_unpickler_reads_numpy_arrays(tmp_path):
    path = tmp_path / "batch"
    arr = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    path.write_bytes(pickle.dumps({b"data": arr, b"labels": [3, 4]}, protocol=2))
    images, labels = cifar.read_batch(path)
    assert images.shape == (2, 32, 32, 3) and labels.tolist() == [3, 4]
    # channel order: the first 1024 values of a row are red
    assert images[0, 0, 1, 0] == arr[0, 1] and images[0, 0, 0, 1] == arr[0, 1024]


def _fake_urlopen(payload: bytes | None):
    def urlopen(url, timeout=None):
        if payload is None:
            raise urllib.error.URLError("no network")
        return io.BytesIO(payload)

    return urlopen


def test_offline_without_copy_gives_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(store.urllib.request, "urlopen", _fake_urlopen(None))
    with pytest.raises(data.DatasetError) as err:
        data.tiny_shakespeare(root=tmp_path)
    message = str(err.value)
    assert text_sets.SHAKESPEARE_URL in message and "MINISSL_DATA" in message
    assert not any(p.is_file() for p in tmp_path.rglob("*"))  # nothing half-written left behind


def test_download_with_wrong_checksum_is_discarded(tmp_path, monkeypatch):
    monkeypatch.setattr(store.urllib.request, "urlopen", _fake_urlopen(b"not shakespeare"))
    with pytest.raises(data.DatasetError, match="wrong checksum.*discarded"):
        data.tiny_shakespeare(root=tmp_path)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_download_verified_and_moved_into_place(mirror, tmp_path, monkeypatch):
    good = (mirror / "tinyshakespeare" / "input.txt").read_bytes()
    monkeypatch.setattr(store.urllib.request, "urlopen", _fake_urlopen(good))
    assert len(data.tiny_shakespeare(root=tmp_path)) == 1_115_394
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["input.txt"]
