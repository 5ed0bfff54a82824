"""Emoji drawn in three independent styles, each with its human-written name: image-text pairs for CLIP.

Used in the chapter *CLIP: matching pictures with their names* (``notebooks/08_clip.ipynb``). 1,704 emoji
(base emoji only, no skin-tone variants), each as a 64 x 64 RGBA picture in the styles of Noto Color Emoji,
Twemoji and OpenMoji, with its CLDR short name ("face blowing a kiss", "flag: Haiti"), its CLDR keywords, its
category (10) and subcategory (~100).

The folder ``<root>/emoji-styles/`` holds ``noto/``, ``twemoji/``, ``openmoji/`` (``<unified>.png``),
``emoji.json`` and ``SHA256SUMS``. The digests of ``SHA256SUMS``'s parts are pinned here and every file is
checked against it before it is read; only OpenMoji's part may differ (with a warning), because those images
are rendered from SVG where the folder is built. No single upstream archive holds all three styles at this
size: where the folder is missing, :mod:`minissl.data.emoji_build` builds it from the upstream npm packages
(pinned versions and digests), see its docstring.

Sources and licences: Noto Color Emoji (Apache-2.0), Twemoji (graphics CC BY 4.0), OpenMoji (CC BY-SA 4.0, "All
emojis designed by OpenMoji"), emoji-data (MIT), Unicode CLDR annotations (Unicode License v3).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from minissl.data.store import DatasetError, data_root, verified_bytes

FOLDER = "emoji-styles"
STYLES = ("noto", "twemoji", "openmoji")
PART_DIGESTS = {  # sha256 of the lines of SHA256SUMS that list each part
    "noto": "b0949cf7aa6c8bdd90db06bd93dbd6de5a6ebe4fd8c27680251655b25a7146bc",
    "twemoji": "3b4a5648d3bcb02bfd6b122dfde4cf803bab5b40ba66ef8ff96c7ecff7b301e4",
    "openmoji": "fbf2b33664c9c40c4b90bd704ccef70e43031617870fc83571c2d28db9a397d7",
    "emoji.json": "b962ebb43a0e0625d7b54858eae1e8b0cfc1c32d0bf5a7885e7b8c27ab679996",
}
SIZE = 64


@dataclass(frozen=True)
class EmojiStyles:
    """The dataset in memory.

    Attributes:
        images: uint8 ``(3, N, 64, 64, 4)``: style (in the order of ``styles``), emoji, height, width, RGBA.
        styles: ``("noto", "twemoji", "openmoji")``.
        names: N CLDR short names, lower case except proper nouns ("flag: Haiti").
        keywords: N lists of CLDR keywords (empty for 326 emoji, mostly flags and keycaps).
        categories, subcategories: N strings each.
        unified: N code-point strings ("1F600"), the file names.
    """

    images: torch.Tensor
    styles: tuple
    names: list
    keywords: list
    categories: list
    subcategories: list
    unified: list

    def __len__(self) -> int:
        return len(self.names)


def differing_parts(sums_text: str) -> list[str]:
    """The parts (``"noto"``, ``"twemoji"``, ``"openmoji"``, ``"emoji.json"``) whose lines in the text of a
    ``SHA256SUMS`` file differ from the book's (:data:`PART_DIGESTS`)."""
    parts: dict[str, list[str]] = {}
    for line in sums_text.splitlines(keepends=True):
        if line.strip():
            parts.setdefault(line.split(maxsplit=1)[1].strip().split("/")[0], []).append(line)
    return [part for part, expected in PART_DIGESTS.items()
            if hashlib.sha256("".join(parts.get(part, [])).encode("utf-8")).hexdigest() != expected]


def _read_sums(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` from the folder's ``SHA256SUMS``, after checking each part of that list against
    :data:`PART_DIGESTS`. Only the OpenMoji part may differ (its images are rendered from SVG on the reader's
    machine, and another librsvg version can give other bytes): that is a warning, not an error."""
    sums = folder / "SHA256SUMS"
    if not sums.exists():
        raise DatasetError(f"emoji_styles: {folder} has no SHA256SUMS; delete the folder and run again to rebuild it")
    text = sums.read_text(encoding="utf-8")
    rows = (line.split(maxsplit=1) for line in text.splitlines() if line.strip())
    pairs = {path.strip(): digest for digest, path in rows}
    count = {part: sum(p.startswith(f"{part}/") for p in pairs) for part in STYLES}
    for part in differing_parts(text):
        if part == "openmoji" and count["openmoji"] == count["noto"]:  # a complete folder, other renders
            warnings.warn(f"emoji_styles: the OpenMoji images under {folder} differ from the book's copy (they were "
                          "rendered with another librsvg version than 2.54.7); the figures may differ a little from "
                          "the book's", stacklevel=3)
            continue
        raise DatasetError(
            f"emoji_styles: the {part} part of {sums} is not the expected list: those files differ from the book's "
            f"copy. Delete {folder} and run again to rebuild it, or point MINISSL_DATA at a folder with a verified "
            "copy.")
    return pairs


def _verified_bytes(folder: Path, rel: str, sums: dict[str, str]) -> bytes:
    return verified_bytes(folder / rel, sums.get(rel), "emoji_styles", f"Delete {folder} and run again to rebuild it.")


def _decode_png(data: bytes, path: str) -> np.ndarray:
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as im:
            array = np.asarray(im.convert("RGBA"))
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise DatasetError(f"emoji_styles: {path} is not a readable PNG ({err})") from err
    if array.shape != (SIZE, SIZE, 4):
        raise DatasetError(f"emoji_styles: {path} is {array.shape[1]} x {array.shape[0]} px, expected {SIZE} x {SIZE}")
    return array


def emoji_styles(root=None) -> EmojiStyles:
    """Load the 1,704 emoji in three styles with their names; see :class:`EmojiStyles` for what comes back.

    Read from ``<root>/emoji-styles/`` (``root``, else ``MINISSL_DATA``, else ``~/.cache/minissl``); where it is
    missing, built from the upstream packages by :func:`minissl.data.emoji_build.build_emoji_styles` (a download
    of about 150 MB and, for OpenMoji, the ``rsvg-convert`` program).

    Raises:
        DatasetError: a missing file, a file whose sha256 differs from the pinned list, or an unreadable PNG;
        the message says what to do.
    """
    folder = data_root(root) / FOLDER
    if not folder.exists():
        from minissl.data.emoji_build import build_emoji_styles

        build_emoji_styles(folder.parent)
    sums = _read_sums(folder)
    records = json.loads(_verified_bytes(folder, "emoji.json", sums).decode("utf-8"))
    images = np.empty((len(STYLES), len(records), SIZE, SIZE, 4), dtype=np.uint8)
    for s, style in enumerate(STYLES):
        for i, rec in enumerate(records):
            rel = f"{style}/{rec['unified']}.png"
            images[s, i] = _decode_png(_verified_bytes(folder, rel, sums), str(folder / rel))
    return EmojiStyles(torch.from_numpy(images), STYLES, [r["name"] for r in records],
                       [list(r["keywords"]) for r in records], [r["category"] for r in records],
                       [r["subcategory"] for r in records], [r["unified"] for r in records])


def prepare_images(rgba: torch.Tensor, size: int, margin: float = 0.04) -> torch.Tensor:
    """Drawings on white, cropped to their content and resized: uint8 ``(N, H, W, 4)`` -> float ``(N, 3, size,
    size)`` in [0, 1].

    Each picture is cropped to the smallest square (plus ``margin`` of its side on each edge) that holds every
    pixel with alpha > 0, so that a style that draws small (OpenMoji's drawings span about 51 of 64 px on
    average, Noto's 61 and Twemoji's 64) is not told apart by its size alone. The crop is resampled with
    antialiasing.
    """
    if rgba.dim() != 4 or rgba.shape[-1] != 4 or rgba.dtype != torch.uint8:
        raise ValueError(f"prepare_images: expected uint8 RGBA images (N, H, W, 4), got {rgba.dtype} of shape "
                         f"{tuple(rgba.shape)}")
    x = rgba.permute(0, 3, 1, 2).float() / 255  # (N, 4, H, W)
    alpha = x[:, 3:]
    rgb = x[:, :3] * alpha + (1 - alpha)  # composite on white
    out = torch.empty(len(x), 3, size, size)
    H, W = rgba.shape[1:3]
    for i in range(len(x)):
        rows = torch.nonzero(alpha[i, 0].amax(1) > 0).flatten()
        cols = torch.nonzero(alpha[i, 0].amax(0) > 0).flatten()
        if len(rows) == 0:  # an empty picture: keep it whole
            top, bottom, left, right = 0, H, 0, W
        else:
            top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        side = max(bottom - top, right - left)
        side = side + 2 * round(margin * side)
        cy, cx = (top + bottom) / 2, (left + right) / 2
        y0, x0 = round(cy - side / 2), round(cx - side / 2)
        # pad with white so the square crop may reach past the edges
        pad = max(0, -y0, -x0, y0 + side - H, x0 + side - W)
        img = F.pad(rgb[i:i + 1], (pad, pad, pad, pad), value=1.0)
        crop = img[:, :, y0 + pad:y0 + pad + side, x0 + pad:x0 + pad + side]
        out[i] = F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0]
    return out.clamp_(0, 1)
