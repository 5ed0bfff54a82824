"""``minissl.data.emoji_build`` against small fake npm tarballs served by a local HTTP server (no internet).

``MINISSL_DOWNLOAD_BASE`` sends the four tarball downloads to the server at their canonical registry paths; the
pinned tarball digests are replaced by the fakes' own. The OpenMoji renders are faked (any bytes) except in the
tests marked as needing ``rsvg-convert``, which skip without it.
"""

import gzip
import hashlib
import io
import json
import shutil
import struct
import tarfile
import urllib.parse
import warnings

import pytest
from conftest import serve_files

from minissl.data import emoji_build, store
from minissl.data.store import DatasetError

EMOJI_DATA = [  # emoji-datasource's emoji.json, the fields read
    {"unified": "0030-FE0F-20E3", "name": "KEYCAP 0", "image": "0030-fe0f-20e3.png", "category": "Symbols",
     "subcategory": "keycap", "has_img_google": True, "has_img_twitter": True},
    {"unified": "1F600", "name": "GRINNING FACE", "image": "1f600.png", "category": "Smileys & Emotion",
     "subcategory": "face-smiling", "has_img_google": True, "has_img_twitter": True},
    {"unified": "1F1E6-1F1E8", "name": "Ascension Island Flag", "image": "1f1e6-1f1e8.png", "category": "Flags",
     "subcategory": "country-flag", "has_img_google": True, "has_img_twitter": True},
    {"unified": "00A9-FE0F", "name": "COPYRIGHT SIGN", "image": "00a9-fe0f.png", "category": "Symbols",  # 00A9 there
     "subcategory": "other-symbol", "has_img_google": True, "has_img_twitter": True},
    {"unified": "1FAE9", "name": "FACE WITH BAGS UNDER EYES", "image": "1fae9.png", "category": "Smileys & Emotion",
     "subcategory": "face-sleepy", "has_img_google": True, "has_img_twitter": False},
]
OPENMOJI = [  # OpenMoji's data/openmoji.json, the fields read
    {"hexcode": "1F600", "annotation": "grinning face", "tags": "face, grin", "openmoji_tags": "smile, face"},
    {"hexcode": "0030-FE0F-20E3", "annotation": "keycap: 0", "tags": "0, keycap, zero", "openmoji_tags": ""},
    {"hexcode": "1F1E6-1F1E8", "annotation": "flag: Ascension Island", "tags": "AC, flag", "openmoji_tags": ""},
    {"hexcode": "00A9", "annotation": "copyright", "tags": "C", "openmoji_tags": ""},
    {"hexcode": "1FAE9", "annotation": "face with bags under eyes", "tags": "tired", "openmoji_tags": ""},
]
CLDR = {"annotations": {"identity": {"language": "en"}, "annotations": {  # keycaps are keyed without U+FE0F
    "0\u20e3": {"default": ["0", "keycap", "zero"], "tts": ["keycap: 0"]},
    "\U0001f600": {"default": ["face", "grin"], "tts": ["grinning face"]},
}}}
SELECTED = ["0030-FE0F-20E3", "1F600", "1F1E6-1F1E8"]  # emoji-datasource's order


def _svg(hexcode: str) -> bytes:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 72 72"><!-- {hexcode} -->'
            f'<circle cx="36" cy="36" r="30" fill="#FCEA2B"/></svg>').encode()


def _png(name: str) -> bytes:
    return b"\x89PNG fake " + name.encode()  # copied, never decoded


def _tgz(members: dict[str, bytes], evil: bool = False) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=1, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(payload), 0, 0o644
            tar.addfile(info, io.BytesIO(payload))
        if evil:  # a member that would escape the folder if extracted blindly
            info = tarfile.TarInfo("package/../../evil.png")
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def tarballs() -> dict[str, bytes]:
    """``{npm package: .tgz bytes}``, laid out as the real packages."""
    emoji_json = json.dumps(EMOJI_DATA).encode()
    google = {"package/emoji.json": emoji_json, "package/LICENSE": b"MIT (emoji-data)\n"}
    google |= {f"package/img/google/64/{e['image']}": _png("google " + e["unified"]) for e in EMOJI_DATA}
    twitter = {"package/emoji.json": emoji_json, "package/LICENSE": b"MIT (emoji-data)\n"}
    twitter |= {f"package/img/twitter/64/{e['image']}": _png("twitter " + e["unified"])
                for e in EMOJI_DATA if e["has_img_twitter"]}
    openmoji = {"package/data/openmoji.json": json.dumps(OPENMOJI).encode(), "package/LICENSE.txt": b"CC BY-SA\n"}
    openmoji |= {f"package/color/svg/{o['hexcode']}.svg": _svg(o["hexcode"]) for o in OPENMOJI}
    openmoji |= {f"package/black/svg/{o['hexcode']}.svg": b"<svg/>" for o in OPENMOJI}
    cldr = {"package/annotations/en/annotations.json": json.dumps(CLDR, ensure_ascii=False).encode(),
            "package/LICENSE": b"UNICODE LICENSE V3\n"}
    return {"emoji-datasource-google": _tgz(google, evil=True), "emoji-datasource-twitter": _tgz(twitter),
            "openmoji": _tgz(openmoji), "cldr-annotations-full": _tgz(cldr)}


@pytest.fixture
def server(tarballs, monkeypatch):
    """The fake tarballs served at their registry paths; the pinned digests are the fakes'."""
    pinned = {p: (version, hashlib.sha256(tarballs[p]).hexdigest())
              for p, (version, _) in emoji_build.TARBALLS.items()}
    monkeypatch.setattr(emoji_build, "TARBALLS", pinned)
    files = {urllib.parse.urlsplit(emoji_build.tarball_url(p)).path: b for p, b in tarballs.items()}
    with serve_files(files, monkeypatch) as httpd:
        yield httpd


@pytest.fixture
def fake_rsvg(monkeypatch):
    """An ``rsvg-convert`` "on PATH" whose renders are a PNG signature and the SVG's sha256."""
    monkeypatch.setattr(emoji_build.shutil, "which", lambda name: f"/fake/bin/{name}")
    monkeypatch.setattr(emoji_build, "render", lambda rsvg, svg: _png("render " + hashlib.sha256(svg).hexdigest()))
    monkeypatch.setattr(emoji_build, "rsvg_version", lambda rsvg: "0.0-fake")


def _build_quietly(parent):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        folder = emoji_build.build_emoji_styles(parent)
    return folder, [str(w.message) for w in caught]


def test_catalogue_selection_order_and_fields():
    entries = emoji_build.catalogue(EMOJI_DATA, OPENMOJI, CLDR["annotations"]["annotations"])
    assert [e["unified"] for e in entries] == SELECTED  # not in OpenMoji as such, or no Twemoji: left out
    keycap, face, flag = entries
    assert list(face) == ["unified", "emoji", "name", "unicode_name", "category", "subcategory", "keywords",
                          "openmoji_tags"]
    assert face == {"unified": "1F600", "emoji": "\U0001f600", "name": "grinning face",
                    "unicode_name": "grinning face", "category": "Smileys & Emotion", "subcategory": "face-smiling",
                    "keywords": ["face", "grin"], "openmoji_tags": ["face", "grin", "smile", "face"]}
    assert keycap["emoji"] == "0\ufe0f\u20e3" and keycap["keywords"] == ["0", "keycap", "zero"]
    assert flag["name"] == "flag: Ascension Island" and flag["keywords"] == []  # not in CLDR's annotations
    assert flag["unicode_name"] == "ascension island flag" and flag["openmoji_tags"] == ["AC", "flag"]


def test_build_layout_files_and_checksums(server, fake_rsvg, tmp_path, monkeypatch):
    parent = tmp_path / "data"
    folder, messages = _build_quietly(parent)
    assert folder == parent / "emoji-styles" and sorted(p.name for p in parent.iterdir()) == ["emoji-styles"]
    assert not (tmp_path / "evil.png").exists() and not (parent / "evil.png").exists()
    assert sorted(server.requests) == sorted(urllib.parse.urlsplit(emoji_build.tarball_url(p)).path
                                             for p in emoji_build.TARBALLS)
    for style, source in (("noto", "google"), ("twemoji", "twitter")):
        assert sorted(p.name for p in (folder / style).iterdir()) == sorted(f"{u}.png" for u in SELECTED)
        assert (folder / style / "1F600.png").read_bytes() == _png(f"{source} 1F600")
    rendered = _png("render " + hashlib.sha256(_svg("1F600")).hexdigest())
    assert (folder / "openmoji" / "1F600.png").read_bytes() == rendered
    raw = (folder / "emoji.json").read_bytes()
    entries = json.loads(raw)
    assert [e["unified"] for e in entries] == SELECTED
    assert raw == json.dumps(entries, indent=0, ensure_ascii=False).encode() and not raw.endswith(b"\n")
    assert sorted(p.name for p in (folder / "LICENSES").iterdir()) == sorted(emoji_build.LICENSES)
    assert (folder / "LICENSES" / "unicode-cldr.txt").read_bytes() == b"UNICODE LICENSE V3\n"
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    order = sorted(f"{u}.png" for u in SELECTED)
    assert [line.split("  ")[1] for line in lines] == [f"{s}/{n}" for s in ("noto", "openmoji", "twemoji")
                                                       for n in order] + ["emoji.json"]
    for line in lines:
        digest, name = line.split("  ")
        assert digest == store.file_digest(folder / name)
    # not the published folder's SHA256SUMS: a warning, and the folder is written all the same
    assert len(messages) == 1 and "differs from the published one" in messages[0] and "0.0-fake" in messages[0]

    # pinned to what was just built: a second build is "identical", without a warning
    monkeypatch.setattr(emoji_build, "EMOJI_SHA256SUMS_DIGEST", store.file_digest(folder / "SHA256SUMS"))
    again, messages = _build_quietly(tmp_path / "again")
    assert messages == [] and (again / "SHA256SUMS").read_bytes() == (folder / "SHA256SUMS").read_bytes()


def test_wrong_tarball_digest_is_refused_and_nothing_is_left(server, fake_rsvg, tmp_path, monkeypatch):
    pinned = dict(emoji_build.TARBALLS)
    pinned["openmoji"] = (pinned["openmoji"][0], "0" * 64)
    monkeypatch.setattr(emoji_build, "TARBALLS", pinned)
    parent = tmp_path / "data"
    with pytest.raises(DatasetError, match="wrong checksum"):
        emoji_build.build_emoji_styles(parent)
    assert list(parent.iterdir()) == []  # no emoji-styles, no staging folder, no tarball


def test_missing_rsvg_convert_says_what_to_install(server, tmp_path, monkeypatch):
    monkeypatch.setattr(emoji_build.shutil, "which", lambda name: None)
    with pytest.raises(DatasetError, match=r"apt-get install -y librsvg2-bin"):
        emoji_build.build_emoji_styles(tmp_path)
    assert server.requests == [] and list(tmp_path.iterdir()) == []  # checked before any download


def test_existing_folder_is_not_replaced(server, fake_rsvg, tmp_path):
    (tmp_path / "emoji-styles").mkdir()
    with pytest.raises(DatasetError, match="already exists"):
        emoji_build.build_emoji_styles(tmp_path)
    assert server.requests == []


def test_command_line_counts_against_the_published_list(server, fake_rsvg, tmp_path, monkeypatch, capsys):
    folder, _ = _build_quietly(tmp_path / "first")
    # a "published" list whose OpenMoji 1F600 differs from what this build renders
    published = (folder / "SHA256SUMS").read_text().replace(
        store.file_digest(folder / "openmoji" / "1F600.png"), "f" * 64)
    reference = tmp_path / "SHA256SUMS"
    reference.write_text(published)
    monkeypatch.setattr(emoji_build, "EMOJI_SHA256SUMS_DIGEST", store.file_digest(reference))
    with pytest.warns(UserWarning, match="openmoji 1 of 3"):
        assert emoji_build._main([str(tmp_path / "second"), "--reference", str(reference)]) == 0
    out = capsys.readouterr().out
    assert "differs from the published folder" in out
    for line in ("noto: 3/3", "openmoji: 2/3", "twemoji: 3/3", "emoji.json: 1/1"):
        assert line in out
    assert emoji_build._main([]) == 2


def _png_header(payload: bytes) -> tuple[int, int, int, int]:
    assert payload[:8] == b"\x89PNG\r\n\x1a\n" and payload[12:16] == b"IHDR"
    width, height, depth, colour = struct.unpack(">IIBB", payload[16:26])
    return width, height, depth, colour


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="rsvg-convert (librsvg2-bin) is not installed")
def test_real_rsvg_renders_64px_rgba(server, tmp_path):
    folder, messages = _build_quietly(tmp_path)
    for unified in SELECTED:
        assert _png_header((folder / "openmoji" / f"{unified}.png").read_bytes()) == (64, 64, 8, 6)  # 8-bit RGBA
    assert len(messages) == 1 and "This rsvg-convert is version" in messages[0]


def test_a_reference_that_is_not_the_published_list_is_refused_first(server, fake_rsvg, tmp_path):
    reference = tmp_path / "SHA256SUMS"
    reference.write_text("0" * 64 + "  emoji.json\n")
    with pytest.raises(DatasetError, match="is not the published SHA256SUMS"):
        emoji_build.build_emoji_styles(tmp_path / "data", reference=reference)
    assert server.requests == [] and not (tmp_path / "data").exists()
