"""CIFAR-10 from its original python batches (Krizhevsky, 2009).

Used by the image chapters (SimCLR, DINO). On Colab the full 50,000 / 10,000 images are downloaded once
(170 MB). Offline, the tests point ``MINISSL_DATA`` at a mirror that holds a *real subset* of the same files
(5,170 train / 1,017 test images, the first images of each original batch); the loader reads however many
images each batch file holds.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np

from minissl.data import safe_pickle
from minissl.data.store import DatasetError, data_root, fetch, file_digest, verify
from minissl.utils import atomic_path

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
FOLDER = "cifar-10-batches-py"
# Where a copy may sit under the data root: our own download, or the offline mirror's subset.
LOCATIONS = ("cifar10", "cifar10-subset", ".")
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILES = ("test_batch",)

# Accepted checksums per file: the published full files (md5, as torchvision pins them) and the real
# subset in the offline mirror (sha256, listed in shared/data/README.md).
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


def _download_and_extract(root: Path) -> Path:
    """Fetch the official archive, verify it, and extract only the expected members, each verified."""
    archive = fetch(f"cifar10/{Path(URL).name}", URL, {"md5": ARCHIVE_MD5}, "cifar10", root=root)
    folder = root / "cifar10" / FOLDER
    with tarfile.open(archive, "r:gz") as tar:
        for name, checksums in CHECKSUMS.items():
            member = tar.getmember(f"{FOLDER}/{name}")
            with atomic_path(folder / name) as tmp:
                source = tar.extractfile(member)
                tmp.write_bytes(source.read())
                verify(tmp, checksums, "cifar10")
    archive.unlink()  # 170 MB we no longer need; the verified batches stay
    return folder


def read_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One python batch file -> images uint8 ``(N, 32, 32, 3)``, labels int64 ``(N,)``.

    The pickle is read with a restricted unpickler: it may build NumPy arrays and nothing else.
    """
    batch = safe_pickle.load(path)
    try:
        data, labels = batch[b"data"], batch[b"labels"]
    except (KeyError, TypeError) as err:
        raise DatasetError(f"cifar10: {path} is not a CIFAR-10 batch (no b'data'/b'labels' keys)") from err
    data = np.asarray(data, dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise DatasetError(
            f"cifar10: {path} holds data of shape {data.shape} and {len(labels)} labels; "
            "expected (N, 3072) and N labels"
        )
    # Each row is 1024 red, then 1024 green, then 1024 blue values: (N, 3, 32, 32) -> channels last.
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()
    return images, np.asarray(labels, dtype=np.int64)


def cifar10(split: str = "train", root=None) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 images and labels as NumPy arrays.

    Args:
        split: ``"train"`` or ``"test"``.
        root: data folder; else ``MINISSL_DATA``; else ``~/.cache/minissl``.

    Returns:
        images: uint8 ``(N, 32, 32, 3)`` (height, width, RGB), labels: int64 ``(N,)`` in ``0..9``
        (names in :data:`CLASSES`). N is 50,000 / 10,000 for the full set, fewer for a subset.
    """
    if split not in ("train", "test"):
        raise ValueError(f"cifar10: split must be 'train' or 'test', got {split!r}")
    root = data_root(root)
    folder = _find_folder(root) or _download_and_extract(root)
    names = TRAIN_FILES if split == "train" else TEST_FILES
    missing = [n for n in names if not (folder / n).exists()]
    if missing:
        raise DatasetError(
            f"cifar10: {folder} lacks {missing}. Delete the folder to download a complete copy from {URL}, "
            "or point MINISSL_DATA at a folder that holds all of cifar-10-batches-py."
        )
    parts = [read_batch(verify(folder / n, CHECKSUMS[n], "cifar10")) for n in names]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    return images, labels


__all__ = ["cifar10", "read_batch", "CLASSES", "file_digest"]
