"""Build the ``emoji-styles/`` folder (1,704 emoji in three drawing styles, with their names) from upstream releases.

The book's copy was made this way, and a build here reproduces it byte for byte (same ``SHA256SUMS``) with
librsvg 2.54.7, the version that rendered the book's OpenMoji images. Layout::

    emoji-styles/
      noto/<unified>.png       64 x 64, Noto Color Emoji   (byte copies from emoji-datasource-google)
      twemoji/<unified>.png    64 x 64, Twemoji            (byte copies from emoji-datasource-twitter)
      openmoji/<unified>.png   64 x 64 RGBA, OpenMoji      (color/svg/<unified>.svg, ``rsvg-convert -w 64 -h 64``)
      emoji.json               one entry per emoji (below)
      SHA256SUMS               ``<sha256>  <path>`` for every image (folders in turn, names sorted), then emoji.json
      LICENSES/                emoji-datasource-MIT.txt, openmoji.txt, unicode-cldr.txt

Sources: four npm tarballs, each pinned by sha256 (:data:`TARBALLS`), fetched from the npm registry with
:func:`minissl.data.store.retrieve_verified` (so ``MINISSL_DOWNLOAD_BASE`` redirects them too):

* ``emoji-datasource-google`` 16.0.0 (iamcal/emoji-data, MIT; images from googlefonts/noto-emoji, Apache-2.0):
  ``img/google/64/*.png`` and ``emoji.json``, the same file (same sha256) as in the ``emoji-datasource`` package,
  so that 25 MB package is not fetched;
* ``emoji-datasource-twitter`` 16.0.0 (images from jdecked/twemoji, CC BY 4.0): ``img/twitter/64/*.png``;
* ``openmoji`` 17.0.0 (hfg-gmuend/openmoji, CC BY-SA 4.0, "All emojis designed by OpenMoji"):
  ``color/svg/*.svg`` and ``data/openmoji.json``;
* ``cldr-annotations-full`` 48.2.0 (unicode-org/cldr-json, Unicode License v3): ``annotations/en/annotations.json``.

The selection: every entry of emoji-datasource's ``emoji.json`` (base emoji only: skin-tone variants are not
entries there) with ``has_img_google`` and ``has_img_twitter`` whose ``unified`` is also an OpenMoji file name,
in that file's order: 1,704. Each ``emoji.json`` entry, keys in this order: ``unified``; ``emoji`` (its
characters); ``name``, the CLDR short name (``tts``), or for the 326 emoji the English annotations lack (flags,
keycaps ``#``/``*``; CLDR derives those names) OpenMoji's ``annotation``, which is that derived CLDR name;
``unicode_name`` (emoji-datasource's ``name``, lower-cased); ``category`` and ``subcategory`` (emoji-datasource);
``keywords``, the CLDR annotations (looked up with, then without, U+FE0F; empty for those 326); ``openmoji_tags``,
OpenMoji's ``tags`` then its ``openmoji_tags``, split at commas (duplicates kept). Written with
``json.dumps(entries, indent=0, ensure_ascii=False)``, UTF-8, no final newline.

Tar members are read by name (regular files only); nothing is extracted and no member name becomes a path.
The build happens in a temporary folder beside the destination, renamed into place when complete.
Command line: ``python -m minissl.data.emoji_build DEST_PARENT [--reference SHA256SUMS]``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from minissl.data.store import DatasetError, file_digest, retrieve_verified, staging_folder

DATASET = "emoji-styles"
NPM_REGISTRY = "https://registry.npmjs.org"
TARBALLS = {  # npm package: (version, sha256 of its .tgz)
    "emoji-datasource-google": ("16.0.0", "fb5fd131b362aab7a55542d2a147a79708cce0a8b1c1bbacd470172708b5c438"),
    "emoji-datasource-twitter": ("16.0.0", "f64a530c63bca463bd8317fdc4615ce63a53a0c65018e4ce2d848aaba7a28877"),
    "openmoji": ("17.0.0", "55ee7d13485dec86e9f38c1f3a645a13382d33ff97c0cd845ee824b0aef45e68"),
    "cldr-annotations-full": ("48.2.0", "28576e51225deb51e3ddd734b0f824a0079682cb5d8c27faa9f68149317a14d1"),
}
# sha256 of the published folder's SHA256SUMS: a build is identical to it exactly when its SHA256SUMS has this digest
EMOJI_SHA256SUMS_DIGEST = "dda1e07489434c61b096a6430f86ad5a6a440b0a84d5cd10a6f3a6ed0b3e12ae"
RSVG_VERSION = "2.54.7"  # the librsvg (Debian 12) that rendered the published OpenMoji images
STYLES = ("noto", "openmoji", "twemoji")
METADATA = {  # npm package: the members read besides images
    "emoji-datasource-google": ("package/emoji.json", "package/LICENSE"),
    "openmoji": ("package/data/openmoji.json", "package/LICENSE.txt"),
    "cldr-annotations-full": ("package/annotations/en/annotations.json", "package/LICENSE"),
}
LICENSES = {  # file under LICENSES/: (package, member)
    "emoji-datasource-MIT.txt": ("emoji-datasource-google", "package/LICENSE"),
    "openmoji.txt": ("openmoji", "package/LICENSE.txt"),
    "unicode-cldr.txt": ("cldr-annotations-full", "package/LICENSE"),
}
INSTALL_RSVG = ("rsvg-convert (librsvg) is needed to render the OpenMoji SVGs and is not on PATH. Install it: "
                "`apt-get install -y librsvg2-bin` (Debian, Ubuntu, Colab: `!apt-get install -y librsvg2-bin`), "
                "`brew install librsvg` (macOS) or `conda install -c conda-forge librsvg`; then run again.")


def tarball_url(package: str) -> str:
    """The npm registry's URL of the pinned tarball, e.g. ``.../openmoji/-/openmoji-17.0.0.tgz``."""
    version = TARBALLS[package][0]
    return f"{NPM_REGISTRY}/{package}/-/{package}-{version}.tgz"


def rsvg_convert() -> str:
    """The path of ``rsvg-convert``, or a :class:`DatasetError` that says what to install."""
    path = shutil.which("rsvg-convert")
    if path is None:
        raise DatasetError(f"{DATASET}: {INSTALL_RSVG}")
    return path


def rsvg_version(rsvg: str) -> str:
    """``"2.54.7"`` from ``rsvg-convert --version`` (``"unknown"`` if it does not say)."""
    try:
        out = subprocess.run([rsvg, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return "unknown"
    return out.split()[-1] if out.split() else "unknown"


def read_members(tgz: Path, names) -> dict[str, bytes]:
    """``{name: bytes}`` for the regular-file members ``names`` of a .tgz, in one pass; a missing one is an error."""
    wanted, found = set(names), {}
    try:
        with tarfile.open(tgz, "r:gz") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    found[member.name] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as err:
        raise DatasetError(f"{DATASET}: cannot read {tgz.name} ({err})") from err
    missing = sorted(wanted - found.keys())
    if missing:
        raise DatasetError(f"{DATASET}: {tgz.name} lacks {len(missing)} expected file(s), e.g. {missing[:3]}")
    return found


def _split(tags: str) -> list[str]:
    return [tag.strip() for tag in tags.split(",") if tag.strip()]


def catalogue(emoji_data: list[dict], openmoji: list[dict], annotations: dict) -> list[dict]:
    """The ``emoji.json`` entries (selection, order and fields as in the module docstring).

    ``emoji_data``: emoji-datasource's ``emoji.json``; ``openmoji``: OpenMoji's ``data/openmoji.json``;
    ``annotations``: CLDR's ``annotations.json`` for English, ``["annotations"]["annotations"]``.
    """
    by_hexcode = {item["hexcode"]: item for item in openmoji}
    entries = []
    for item in emoji_data:
        om = by_hexcode.get(item["unified"])
        if om is None or not (item.get("has_img_google") and item.get("has_img_twitter")):
            continue
        chars = "".join(chr(int(code, 16)) for code in item["unified"].split("-"))
        cldr = annotations.get(chars) or annotations.get(chars.replace("\ufe0f", "")) or {}
        entries.append({
            "unified": item["unified"],
            "emoji": chars,
            "name": cldr.get("tts", [om["annotation"]])[0],
            "unicode_name": item["name"].lower(),
            "category": item["category"],
            "subcategory": item["subcategory"],
            "keywords": list(cldr.get("default", [])),
            "openmoji_tags": _split(om["tags"]) + _split(om["openmoji_tags"]),
        })
    return entries


def render(rsvg: str, svg: bytes) -> bytes:
    """One SVG as a 64 x 64 PNG: ``rsvg-convert -w 64 -h 64`` (stdin to stdout; same bytes as from a file)."""
    try:
        done = subprocess.run([rsvg, "-w", "64", "-h", "64"], input=svg, capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DatasetError(f"{DATASET}: rsvg-convert failed ({err}). {INSTALL_RSVG}") from err
    if done.returncode != 0 or not done.stdout:
        raise DatasetError(f"{DATASET}: rsvg-convert failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def write_sums(folder: Path) -> str:
    """Write ``folder/SHA256SUMS`` (each style folder in turn, names sorted, then emoji.json); return its sha256."""
    paths = [f"{style}/{p.name}" for style in STYLES for p in sorted((folder / style).iterdir())] + ["emoji.json"]
    lines = "".join(f"{file_digest(folder / p)}  {p}\n" for p in paths)
    (folder / "SHA256SUMS").write_bytes(lines.encode("utf-8"))
    return file_digest(folder / "SHA256SUMS")


def _read_sums(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines if line)}


def _check_reference(reference: Path) -> None:
    if file_digest(reference) != EMOJI_SHA256SUMS_DIGEST:
        raise DatasetError(f"{DATASET}: {reference} is not the published SHA256SUMS (its sha256 is "
                           f"{file_digest(reference)}, expected {EMOJI_SHA256SUMS_DIGEST})")


def match_counts(folder: Path, reference: Path) -> dict[str, tuple[int, int]]:
    """``{"noto": (matching, total), ..., "emoji.json": (0 or 1, 1)}``: ``folder``'s SHA256SUMS against
    ``reference``, a copy of the published SHA256SUMS (refused unless its digest is the pinned one)."""
    _check_reference(reference)
    built, published = _read_sums(Path(folder) / "SHA256SUMS"), _read_sums(reference)
    counts = {}
    for group in STYLES + ("emoji.json",):
        names = [n for n in published if n.split("/")[0] == group]
        counts[group] = (sum(built.get(n) == published[n] for n in names), len(names))
    return counts


def build_emoji_styles(dest_parent: Path, *, reference: Path | None = None) -> Path:
    """Build ``dest_parent/emoji-styles`` from the pinned npm tarballs (see the module docstring); return its path.

    Needs ``rsvg-convert`` on PATH (checked before anything is downloaded) and about 150 MB of downloads. A
    tarball whose sha256 is not the pinned one is refused (:class:`DatasetError`) and nothing is left behind.
    If the result's SHA256SUMS differs from the published one (another librsvg renders other OpenMoji bytes),
    the folder is still written and a warning says so: with ``reference`` (a copy of the published SHA256SUMS)
    it counts the files that differ. An existing ``emoji-styles`` there is never replaced.
    """
    dest_parent = Path(dest_parent).expanduser().resolve()
    dest = dest_parent / DATASET
    if dest.exists():
        raise DatasetError(f"{DATASET}: {dest} already exists; delete it to build it again")
    if reference is not None:
        _check_reference(reference)
    rsvg = rsvg_convert()
    with staging_folder(DATASET, dest_parent, tarball_url("openmoji")) as tmp:
        tgz = {package: retrieve_verified(tarball_url(package), Path(tmp) / f"{package}-{version}.tgz",
                                          {"sha256": sha256}, DATASET, dest_parent)
               for package, (version, sha256) in TARBALLS.items()}
        meta = {package: read_members(tgz[package], members) for package, members in METADATA.items()}
        emoji_data = json.loads(meta["emoji-datasource-google"]["package/emoji.json"])
        entries = catalogue(emoji_data, json.loads(meta["openmoji"]["package/data/openmoji.json"]),
                            json.loads(meta["cldr-annotations-full"]["package/annotations/en/annotations.json"])
                            ["annotations"]["annotations"])
        image = {item["unified"]: item["image"] for item in emoji_data}  # "1f600.png": lower case there

        out = Path(tmp) / DATASET
        for style in STYLES + ("LICENSES",):
            (out / style).mkdir(parents=True)
        for style, package, subdir in (("noto", "emoji-datasource-google", "google"),
                                       ("twemoji", "emoji-datasource-twitter", "twitter")):
            members = {e["unified"]: f"package/img/{subdir}/64/{image[e['unified']]}" for e in entries}
            pngs = read_members(tgz[package], members.values())
            for unified, member in members.items():
                (out / style / f"{unified}.png").write_bytes(pngs[member])
        svgs = read_members(tgz["openmoji"], [f"package/color/svg/{e['unified']}.svg" for e in entries])
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            pngs = pool.map(lambda e: render(rsvg, svgs[f"package/color/svg/{e['unified']}.svg"]), entries)
            for entry, png in zip(entries, pngs):
                (out / "openmoji" / f"{entry['unified']}.png").write_bytes(png)
        (out / "emoji.json").write_bytes(json.dumps(entries, indent=0, ensure_ascii=False).encode("utf-8"))
        for name, (package, member) in LICENSES.items():
            (out / "LICENSES" / name).write_bytes(meta[package][member])
        digest = write_sums(out)
        try:
            os.rename(out, dest)
        except OSError as err:
            raise DatasetError(f"{DATASET}: could not move the built folder to {dest} ({err})") from err
    if digest != EMOJI_SHA256SUMS_DIGEST:
        warnings.warn(_differs(dest, digest, rsvg, reference), stacklevel=2)
    return dest


def _differs(dest: Path, digest: str, rsvg: str, reference: Path | None) -> str:
    """The warning for a build whose SHA256SUMS is not the published one."""
    head = (f"{DATASET}: built {dest}, but its SHA256SUMS (sha256 {digest}) differs from the published one "
            f"({EMOJI_SHA256SUMS_DIGEST}). ")
    if reference is not None:
        counts = match_counts(dest, reference)
        head += "Files that differ: " + ", ".join(f"{group} {total - ok} of {total}"
                                                  for group, (ok, total) in counts.items()) + ". "
    else:
        from minissl.data.emoji import differing_parts

        parts = differing_parts((dest / "SHA256SUMS").read_text(encoding="utf-8"))
        head += (f"Parts that differ: {', '.join(parts)} (how many files differ can be counted against a copy of "
                 "the published SHA256SUMS: reference=...). ")
    return head + (f"This rsvg-convert is version {rsvg_version(rsvg)}; the published OpenMoji images were rendered "
                   f"with librsvg {RSVG_VERSION}, and another librsvg (or libpng, zlib) can write other bytes. "
                   "The folder is complete and its own SHA256SUMS lists what was built.")


def _main(argv: list[str]) -> int:
    if len(argv) not in (1, 3) or (len(argv) == 3 and argv[1] != "--reference"):
        print("usage: python -m minissl.data.emoji_build DEST_PARENT [--reference PUBLISHED_SHA256SUMS]\n"
              f"builds DEST_PARENT/{DATASET} from the npm registry (needs rsvg-convert)", file=sys.stderr)
        return 2
    reference = Path(argv[2]) if len(argv) == 3 else None
    try:
        dest = build_emoji_styles(Path(argv[0]), reference=reference)
    except DatasetError as err:
        print(err, file=sys.stderr)
        return 1
    digest = file_digest(dest / "SHA256SUMS")
    identical = digest == EMOJI_SHA256SUMS_DIGEST
    print(f"{dest}: SHA256SUMS sha256 {digest} "
          f"({'identical to the published folder' if identical else 'differs from the published folder'})")
    sizes = {group: sum(1 for _ in (dest / group).iterdir()) if group in STYLES else 1
             for group in STYLES + ("emoji.json",)}
    if reference is not None:
        counts = match_counts(dest, reference)
    else:  # an identical SHA256SUMS means every file matches; otherwise, without the list, they cannot be counted
        counts = {group: (n if identical else "?", n) for group, n in sizes.items()}
    for group, (ok, total) in counts.items():
        print(f"  {group}: {ok}/{total} files match the pinned checksums")
    if not identical and reference is None:
        print("  (to count the files that differ, pass --reference with a copy of the published SHA256SUMS)")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
