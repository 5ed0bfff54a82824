"""The emoji-styles loader: the mirror's contents, corrupt or altered files refused, the image preparation."""

import shutil

import pytest
import torch

from minissl.data import DatasetError, emoji_styles, prepare_images


def test_mirror_emoji_styles(mirror):
    emoji = emoji_styles(mirror)
    assert emoji.images.shape == (3, 1704, 64, 64, 4) and emoji.images.dtype == torch.uint8
    assert emoji.styles == ("noto", "twemoji", "openmoji")
    assert len(emoji) == 1704 == len(set(emoji.names)) == len(emoji.keywords) == len(emoji.categories)
    i = emoji.names.index("face blowing a kiss")
    assert "kiss" in emoji.keywords[i] and emoji.categories[i] == "Smileys & Emotion"
    assert "flag: Haiti" in emoji.names
    assert sum(not k for k in emoji.keywords) == 326
    assert len(set(emoji.categories)) == 10
    # every picture has something drawn in it, in all three styles
    assert (emoji.images[..., 3].flatten(2).amax(2) > 0).all()


def _copy(mirror, tmp_path):
    dest = tmp_path / "emoji-styles"
    shutil.copytree(mirror / "emoji-styles", dest)
    return dest


def test_corrupt_png_is_refused(mirror, tmp_path):
    folder = _copy(mirror, tmp_path)
    png = folder / "noto" / "1F600.png"
    raw = bytearray(png.read_bytes())
    raw[100] ^= 1
    png.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="1F600.png is corrupt"):
        emoji_styles(tmp_path)


def test_a_changed_list_is_refused_except_for_openmoji_renders(mirror, tmp_path):
    folder = _copy(mirror, tmp_path)
    sums = folder / "SHA256SUMS"
    original = sums.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    # a different noto image, its line rewritten to match: the pinned list says it is not the book's file
    noto = next(i for i, line in enumerate(lines) if "noto/" in line)
    lines[noto] = "0" * 64 + lines[noto][64:]
    sums.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DatasetError, match="noto part"):
        emoji_styles(tmp_path)
    # a different OpenMoji render (another librsvg) is accepted with a warning, and still checked for corruption
    lines = original.splitlines(keepends=True)
    om = next(i for i, line in enumerate(lines) if "openmoji/" in line)
    path = folder / lines[om].split(maxsplit=1)[1].strip()
    path.write_bytes(path.read_bytes())  # unchanged bytes, but listed with another digest
    lines[om] = "f" * 64 + lines[om][64:]
    sums.write_text("".join(lines), encoding="utf-8")
    with pytest.warns(UserWarning, match="OpenMoji"), pytest.raises(DatasetError, match="is corrupt"):
        emoji_styles(tmp_path)


def test_prepare_images_crops_to_content_on_white():
    rgba = torch.zeros(2, 64, 64, 4, dtype=torch.uint8)
    rgba[0, 20:40, 10:30] = torch.tensor([255, 0, 0, 255], dtype=torch.uint8)  # a small red square
    rgba[1, 0:64, 0:64] = torch.tensor([0, 0, 255, 255], dtype=torch.uint8)  # a blue picture, edge to edge
    out = prepare_images(rgba, 16, margin=0.0)
    assert out.shape == (2, 3, 16, 16) and out.dtype == torch.float32
    torch.testing.assert_close(out[0], torch.tensor([1.0, 0, 0])[:, None, None].expand(3, 16, 16))  # fills it
    torch.testing.assert_close(out[1], torch.tensor([0, 0, 1.0])[:, None, None].expand(3, 16, 16))
    empty = prepare_images(torch.zeros(1, 8, 8, 4, dtype=torch.uint8), 4)
    torch.testing.assert_close(empty, torch.ones(1, 3, 4, 4))  # transparent -> white
    with pytest.raises(ValueError, match="RGBA"):
        prepare_images(torch.zeros(1, 8, 8, 3, dtype=torch.uint8), 4)
