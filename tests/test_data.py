import io
import json
import os
import pickle
import shutil
import urllib.error
import zipfile
from pathlib import Path

import numpy as np
import pytest

from minissl import data
from minissl.data import cifar, cifar_jpeg, safe_pickle, store, text_sets


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


# --- CIFAR-10: per_file -------------------------------------------------------------------------------------------


def _write_batches(folder, n: int) -> dict:
    """Six batch files of ``n`` images in the original layout; pixel 0 of image i in file f encodes (f, i)."""
    folder.mkdir(parents=True)
    checksums = {}
    rng = np.random.default_rng(0)
    for f, name in enumerate(cifar.TRAIN_FILES + cifar.TEST_FILES):
        pixels = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        pixels[:, 0] = f
        pixels[:, 1] = np.arange(n) % 256
        pixels[:, 2] = np.arange(n) // 256
        labels = [int(v) for v in rng.integers(0, 10, size=n)]
        batch = {b"batch_label": f"batch {f}".encode(), b"labels": labels, b"data": pixels}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        checksums[name] = {"sha256": store.file_digest(folder / name)}
    return checksums


def test_cifar_per_file_keeps_the_first_n_of_each_file(tmp_path, monkeypatch):
    folder = tmp_path / "cifar10" / cifar.FOLDER
    # synthetic files have their own checksums; the hook the loader verifies against is CHECKSUMS
    monkeypatch.setattr(cifar, "CHECKSUMS", _write_batches(folder, 2000))
    x, y = data.cifar10("train", root=tmp_path, per_file=1000)
    xt, yt = data.cifar10("test", root=tmp_path, per_file=1000)
    assert x.shape == (5000, 32, 32, 3) and y.shape == (5000,) and xt.shape == (1000, 32, 32, 3)
    index = x[:, 0, 1, 0].astype(int) + 256 * x[:, 0, 2, 0].astype(int)  # red values of pixels (0, 1) and (0, 2)
    assert x[:, 0, 0, 0].tolist() == [f for f in range(5) for _ in range(1000)]  # file order
    assert index.tolist() == list(range(1000)) * 5  # the first 1000, in order
    full_x, full_y = data.cifar10("train", root=tmp_path)
    assert full_x.shape == (10000, 32, 32, 3)
    keep = np.concatenate([np.arange(1000) + 2000 * f for f in range(5)])
    assert np.array_equal(x, full_x[keep]) and np.array_equal(y, full_y[keep])
    with pytest.raises(data.DatasetError, match=r"data_batch_1 holds 2000 images but per_file=2001.*per_file <= 2000"):
        data.cifar10("train", root=tmp_path, per_file=2001)


def test_cifar_per_file_on_the_mirror(mirror):
    x, y = data.cifar10("train", root=mirror, per_file=1000)
    xt, yt = data.cifar10("test", root=mirror, per_file=1000)
    assert x.shape == (5000, 32, 32, 3) and xt.shape == (1000, 32, 32, 3)
    folder = mirror / "cifar10-subset" / cifar.FOLDER
    first = [cifar.read_batch(folder / name)[1][:1000] for name in cifar.TRAIN_FILES]
    assert np.array_equal(y, np.concatenate(first))
    assert np.array_equal(yt, cifar.read_batch(folder / "test_batch")[1][:1000])
    with pytest.raises(data.DatasetError, match=r"data_batch_2 holds 1017 images but per_file=1100"):
        data.cifar10("train", root=mirror, per_file=1100)


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-5, ValueError), (1.5, TypeError), ("10", TypeError),
                                        (True, TypeError)])
def test_cifar_bad_per_file(bad, error):
    with pytest.raises(error, match="per_file"):
        data.cifar10("train", per_file=bad)


def test_cifar_unknown_source(monkeypatch):
    with pytest.raises(ValueError, match=r"source must be one of \['batches', 'jpeg'\]"):
        data.cifar10("train", source="png")
    monkeypatch.setenv("MINISSL_CIFAR_SOURCE", "tfrecord")
    with pytest.raises(ValueError, match="tfrecord"):
        data.cifar10("train")


# --- CIFAR-10 as JPEG ---------------------------------------------------------------------------------------------


@pytest.fixture
def jpeg_zip(mirror):
    path = mirror / "cifar10-jpeg" / "cifar10-jpeg.zip"
    if not path.is_file():
        pytest.skip(f"no {path} in the data mirror")
    return path


def test_make_part_is_deterministic(jpeg_zip, tmp_path):
    a = cifar_jpeg.make_part(jpeg_zip, tmp_path / "a" / "part.zip", train_per_class=3, test_per_class=2)
    b = cifar_jpeg.make_part(jpeg_zip, tmp_path / "b" / "part.zip", train_per_class=3, test_per_class=2)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        names = zf.namelist()
        assert names == sorted(names) and len(names) == 10 * (3 + 2)
        assert "cifar10-jpeg/train/cat/0002.jpg" in names and "cifar10-jpeg/train/cat/0003.jpg" not in names
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["part.zip"]  # no temporary file left
    with pytest.raises(ValueError, match="train_per_class must be 1..5000"):
        cifar_jpeg.make_part(jpeg_zip, tmp_path / "c.zip", train_per_class=5001)


def test_make_part_refuses_a_corrupt_source(tmp_path):
    fake = tmp_path / "cifar10-jpeg.zip"
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr("cifar10-jpeg/train/cat/0000.jpg", b"not a jpeg")
    with pytest.raises(data.DatasetError, match="corrupt"):
        cifar_jpeg.make_part(fake, tmp_path / "part.zip")
    assert not (tmp_path / "part.zip").exists()


def test_cifar10_jpeg_from_the_full_zip(jpeg_zip, mirror, capsys, monkeypatch):
    monkeypatch.setattr(cifar_jpeg, "_told_jpeg", False)
    x, y = data.cifar10_jpeg("train", root=mirror, per_class=20)
    assert x.shape == (200, 32, 32, 3) and x.dtype == np.uint8 and y.dtype == np.int64
    assert y.tolist() == list(range(10)) * 20  # classes interleaved: every prefix of 10 m images is balanced
    xt, yt = data.cifar10_jpeg("test", root=mirror, per_class=5)
    assert xt.shape == (50, 32, 32, 3) and np.bincount(yt).tolist() == [5] * 10
    assert capsys.readouterr().out.count("reading the JPEG-compressed copy") == 1  # said once
    # the JPEGs are the original images, compressed: image 0 of each class is close to the batches' first one
    xb, yb = data.cifar10("train", root=mirror)
    for c in range(10):
        mse = np.mean((xb[yb == c][0].astype(float) - x[c].astype(float)) ** 2)
        assert 10 * np.log10(255**2 / mse) > 24, data.CIFAR10_CLASSES[c]
    # through cifar10(): per_file=n gives the batches' counts, 5n train / n test, balanced over the classes
    xs, ys = data.cifar10("test", root=mirror, source="jpeg", per_file=20)
    assert xs.shape == (20, 32, 32, 3) and np.array_equal(xs, xt[:20])
    monkeypatch.setenv("MINISSL_CIFAR_SOURCE", "jpeg")
    assert data.cifar10("train", root=mirror, per_file=10)[0].shape == (50, 32, 32, 3)
    with pytest.raises(ValueError, match="multiple of 10"):
        data.cifar10("train", root=mirror, per_file=15)


def test_cifar10_jpeg_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("MINISSL_DATA", raising=False)
    with pytest.raises(data.DatasetError, match="neither .*cifar10-jpeg.zip nor .*cifar10-jpeg-part.zip"):
        data.cifar10_jpeg("train", root=tmp_path)
    with pytest.raises(ValueError, match="split must be"):
        data.cifar10_jpeg("valid", root=tmp_path)
    with pytest.raises(TypeError, match="per_class"):
        data.cifar10_jpeg("train", root=tmp_path, per_class=2.5)


@pytest.fixture(scope="module")
def default_part(tmp_path_factory):
    """The default part, built once (about 10 s) from the mirror's full zip."""
    root = Path(os.environ.get("MINISSL_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
    source = root / "cifar10-jpeg" / "cifar10-jpeg.zip"
    if not source.is_file():
        pytest.skip(f"no {source} in the data mirror")
    dest = tmp_path_factory.mktemp("jpeg") / "cifar10-jpeg" / cifar_jpeg.PART_NAME
    return cifar_jpeg.make_part(source, dest)


def test_default_part_matches_its_pinned_sha256(default_part):
    assert store.file_digest(default_part) == cifar_jpeg.PART_SHA256
    root = default_part.parent.parent
    x, y = data.cifar10_jpeg("test", root=root, per_class=30)
    assert x.shape == (300, 32, 32, 3) and y.tolist() == list(range(10)) * 30
    with pytest.raises(data.DatasetError, match="holds 2500 train images per class but per_class=2501"):
        data.cifar10_jpeg("train", root=root, per_class=2501)


def test_corrupt_part_is_refused(default_part, tmp_path):
    folder = tmp_path / "cifar10-jpeg"
    folder.mkdir()
    raw = bytearray(default_part.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    (folder / cifar_jpeg.PART_NAME).write_bytes(bytes(raw))
    with pytest.raises(data.DatasetError, match="cifar10-jpeg-part.zip is corrupt"):
        data.cifar10_jpeg("test", root=tmp_path)


def test_verified_bytes_reads_checks_and_names_the_remedy(tmp_path):
    import hashlib

    from minissl.data.store import verified_bytes

    f = tmp_path / "a.bin"
    f.write_bytes(b"abc")
    assert verified_bytes(f, hashlib.sha256(b"abc").hexdigest(), "demo", "Do X.") == b"abc"
    with pytest.raises(data.DatasetError, match=r"demo: .*a.bin is corrupt .*it was not used. Do X.$"):
        verified_bytes(f, hashlib.sha256(b"abd").hexdigest(), "demo", "Do X.")
    with pytest.raises(data.DatasetError, match="is corrupt"):  # a file the pinned list does not name
        verified_bytes(f, None, "demo", "Do X.")
    with pytest.raises(data.DatasetError, match=r"demo: cannot read .*missing.bin .*Do X.$"):
        verified_bytes(tmp_path / "missing.bin", "0" * 64, "demo", "Do X.")
