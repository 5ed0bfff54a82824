"""CIFAR-10 from its original python batches (Krizhevsky, 2009), or from a JPEG copy.

Used by the image chapters (SimCLR, DINO). On Colab the full 50,000 / 10,000 images are downloaded once
(170 MB). Offline, the tests point ``MINISSL_DATA`` at a mirror that holds a *real subset* of the same files
(5,170 train / 1,017 test images, the first images of each original batch); the loader reads however many
images each batch file holds, or exactly the first ``per_file`` of each, so that the subset and a full
download give the same images. ``source="jpeg"`` reads the JPEG-compressed copy instead
(:mod:`minissl.data.cifar_jpeg`).
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import numpy as np

from minissl.data import safe_pickle
from minissl.data.store import DatasetError, data_root, file_digest, retrieve_verified, staging_folder, verify

# The canonical archive. Downloads go through minissl.data.store.retrieve, so MINISSL_DOWNLOAD_BASE can point
# them at another host (the tests use a local server); the path stays /~kriz/cifar-10-python.tar.gz.
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"
# Where a copy may sit under the data root: our own download, or the offline mirror's subset.
LOCATIONS = ("cifar10", "cifar10-subset", ".")
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILES = ("test_batch",)
SOURCES = ("batches", "jpeg")
SOURCE_ENV = "MINISSL_CIFAR_SOURCE"

# Accepted checksums per file: the published full files (md5, as torchvision pins them) and the real
# subset in the offline mirror (sha256, listed in shared/data/README.md). Every file read is checked against
# this table (tests with synthetic batch files monkeypatch it; nothing else turns the check off).
CHECKSUMS = {
    "batches.meta": {"md5": "5ff9c542aee3614f3951f8cda6e48888"},
    "data_batch_1": {"md5": "c99cafc152244af753f735de768cd75f",
                     "sha256": "980b80a7d44523ce3817c8fbdd72c913fa328406e41e49bf3989d4d1aad393b1"},
    "data_batch_2": {"md5": "d4bba439e000b95fd0a9bffe97cbabec",
                     "sha256": "5b4a2588acc0f01c171cf5b9e8055695998c04e2cd8f223707753244a66be407"},
    "data_batch_3": {"md5": "54ebc095f3ab1f0389bbae665268c751",
                     "sha256": "ac95c4eeeafc18202297b0f0ca014ada9951deb7b924fca44bc4a4404004074b"},
    "data_batch_4": {"md5": "634d18415352ddfa80567beed471001a",
                     "sha256": "46d042a5e3c7284834a45c86c01afdcbaede4ce272c90b90aa5419ae9682970d"},
    "data_batch_5": {"md5": "482c414d41f54cd18b22e5b47cb7c3cb",
                     "sha256": "b6ef20b8338a154c445bd56c4341a1d129766d63a0c364eca08a363a91a55474"},
    "test_batch": {"md5": "40351d587109b95175f43aff81a1287e",
                   "sha256": "f3fc367e02f3e9652ca8850594633604a6e3441c67438ba503bfad0307c44014"},
}


def _find_folder(root: Path) -> Path | None:
    for location in LOCATIONS:
        folder = root / location / FOLDER
        if folder.is_dir():
            return folder
    return None


def _extract(archive: Path, dest: Path) -> None:
    """Extract only the expected members of ``archive`` into the (new) folder ``dest``, each verified."""
    dest.mkdir()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for name, checksums in CHECKSUMS.items():
                try:
                    source = tar.extractfile(tar.getmember(f"{FOLDER}/{name}"))
                except KeyError:
                    source = None
                if source is None:
                    raise DatasetError(
                        f"cifar10: {archive} has no file {FOLDER}/{name}; it is not the CIFAR-10 python archive. "
                        f"Delete it and run again to download {URL}."
                    )
                target = dest / name
                with open(target, "wb") as out:
                    out.write(source.read())
                verify(target, checksums, "cifar10")
    except (tarfile.TarError, EOFError, OSError) as err:
        raise DatasetError(f"cifar10: cannot read {archive} ({err}); delete it and run again.") from err


def _download_and_extract(root: Path) -> Path:
    """Fetch the official archive, verify it, extract the expected members (each verified), move them into place.

    Everything happens in a temporary folder beside the destination, which is renamed to
    ``<root>/cifar10/cifar-10-batches-py`` only once every file checked out: a failure leaves no folder under
    the real name, so the next call starts afresh. The 170 MB archive is deleted afterwards; one placed at
    ``<root>/cifar10/cifar-10-python.tar.gz`` by hand is verified, used and kept.
    """
    parent = root / "cifar10"
    folder = parent / FOLDER
    with staging_folder("cifar10", parent, URL, where=root) as staging:
        staging = Path(staging)
        archive = parent / ARCHIVE_NAME
        if archive.exists():
            verify(archive, {"md5": ARCHIVE_MD5}, "cifar10")
        else:
            archive = retrieve_verified(URL, staging / ARCHIVE_NAME, {"md5": ARCHIVE_MD5}, "cifar10", parent)
        _extract(archive, staging / FOLDER)
        os.replace(staging / FOLDER, folder)
    return folder


def read_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One python batch file -> images uint8 ``(N, 32, 32, 3)``, labels int64 ``(N,)``.

    The pickle is read with a restricted unpickler: it may build NumPy arrays and nothing else. A file that is
    not such a batch (other keys, data that is not a uint8 array of shape ``(N, 3072)``, labels that are not N
    integers in 0..9) is a :class:`DatasetError`; unreadable bytes are a ``safe_pickle.CorruptPickleError``.
    """
    batch = safe_pickle.load(path)
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DatasetError(f"cifar10: {path} is not a CIFAR-10 batch (no b'data'/b'labels' keys)")
    data, labels = batch[b"data"], batch[b"labels"]
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == 3 * 32 * 32):
        shape = data.shape if isinstance(data, np.ndarray) else type(data).__name__
        raise DatasetError(f"cifar10: {path} holds data {shape} (dtype {getattr(data, 'dtype', '-')}); expected a "
                           "uint8 array of shape (N, 3072). The file is not a CIFAR-10 batch: delete it.")
    if not (isinstance(labels, (list, tuple, np.ndarray)) and len(labels) == len(data)
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v < 10 for v in labels)):
        count = len(labels) if hasattr(labels, "__len__") else type(labels).__name__
        raise DatasetError(f"cifar10: {path} holds {len(data)} images but labels {count!s:.40}; expected "
                           f"{len(data)} integers in 0..9. The file is not a CIFAR-10 batch: delete it.")
    # Each row is 1024 red, then 1024 green, then 1024 blue values: (N, 3, 32, 32) -> channels last.
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()
    return images, np.asarray(labels, dtype=np.int64)


def check_count(value, name: str, function: str = "cifar10") -> int | None:
    """``None`` or a positive ``int`` (not a bool); else ``TypeError`` / ``ValueError`` naming ``name``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{function}: {name} must be a positive int or None, got {value!r} ({type(value).__name__})")
    if value <= 0:
        raise ValueError(f"{function}: {name} must be a positive int or None, got {value}")
    return int(value)


def _jpeg_per_class(per_file: int | None, n_files: int) -> int | None:
    """``per_file`` for the batches -> ``per_class`` for the JPEG copy, giving the same number of images."""
    if per_file is None:
        return None
    if per_file % 10:
        raise ValueError(
            f"cifar10: with source='jpeg', per_file must be a multiple of 10 (it maps to per_class = "
            f"{n_files} * per_file / 10 so the image count matches the batches), got {per_file}. "
            "Or call minissl.data.cifar_jpeg.cifar10_jpeg(per_class=...) directly."
        )
    return n_files * per_file // 10


def cifar10(split: str = "train", root=None, per_file: int | None = None,
            source: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 images and labels as NumPy arrays.

    Args:
        split: ``"train"`` (the five files ``data_batch_1..5``) or ``"test"`` (``test_batch``).
        root: data folder; else ``MINISSL_DATA``; else ``~/.cache/minissl`` (downloaded there if absent, from
            :data:`URL`, 170 MB, md5-verified, each extracted file verified too).
        per_file: keep only the first ``per_file`` images of each batch file, in file order. ``per_file=1000``
            gives the same 5,000 train / 1,000 test images from the offline mirror's subset (files of 1,102 /
            1,017 images) as from a full download (files of 10,000). ``None`` keeps every image each file holds.
        source: ``"batches"`` (the original python batches, above) or ``"jpeg"`` (the JPEG-compressed copy read
            by :func:`minissl.data.cifar_jpeg.cifar10_jpeg`; its pixels differ slightly, PSNR about 30 dB, so
            say "JPEG-compressed CIFAR-10" for figures from it). ``None`` means ``$MINISSL_CIFAR_SOURCE``, else
            ``"batches"``. With ``"jpeg"``, ``per_file=n`` (a multiple of 10) means ``per_class = 5n/10`` for
            train and ``n/10`` for test: the same 5n / n images as the batches, balanced over the classes, in
            the class-interleaved order of the JPEG loader (not the same images as the batches).

    Returns:
        images: uint8 ``(N, 32, 32, 3)`` (height, width, RGB, values 0..255), labels: int64 ``(N,)`` in
        ``0..9`` (names in :data:`CLASSES`). N is 50,000 / 10,000 for the full set, 5,170 / 1,017 for the
        mirror's subset, ``5 * per_file`` / ``per_file`` with ``per_file``.

    Raises:
        ValueError: an unknown ``split`` or ``source``, ``per_file <= 0`` (or not a multiple of 10 with jpeg).
        TypeError: ``per_file`` that is not an int (a bool included).
        DatasetError: no copy and the download failed; a file with the wrong checksum; a batch file holding
            fewer than ``per_file`` images; a folder that lacks some batch files.
    """
    if split not in ("train", "test"):
        raise ValueError(f"cifar10: split must be 'train' or 'test', got {split!r}")
    per_file = check_count(per_file, "per_file")
    source = source if source is not None else (os.environ.get(SOURCE_ENV) or "batches")
    if source not in SOURCES:
        raise ValueError(f"cifar10: source must be one of {list(SOURCES)} (or ${SOURCE_ENV}), got {source!r}")
    names = TRAIN_FILES if split == "train" else TEST_FILES
    if source == "jpeg":
        from minissl.data.cifar_jpeg import cifar10_jpeg  # imported here: it imports this module

        return cifar10_jpeg(split, root=root, per_class=_jpeg_per_class(per_file, len(names)))
    root = data_root(root)
    folder = _find_folder(root) or _download_and_extract(root)
    missing = [n for n in names if not (folder / n).exists()]
    if missing:
        raise DatasetError(
            f"cifar10: {folder} lacks {missing}. Delete the folder to download a complete copy from {URL}, "
            "or point MINISSL_DATA at a folder that holds all of cifar-10-batches-py."
        )
    images, labels = [], []
    for name in names:
        path = verify(folder / name, CHECKSUMS[name], "cifar10")
        x, y = read_batch(path)
        if per_file is not None:
            if len(x) < per_file:
                raise DatasetError(
                    f"cifar10: {path} holds {len(x)} images but per_file={per_file} were asked for. Ask for "
                    f"per_file <= {len(x)}, or point MINISSL_DATA at a copy with larger files (the full download "
                    f"has 10,000 per file; delete {folder} to download it)."
                )
            x, y = x[:per_file], y[:per_file]
        images.append(x)
        labels.append(y)
    return np.concatenate(images), np.concatenate(labels)


__all__ = ["cifar10", "read_batch", "CLASSES", "file_digest"]
