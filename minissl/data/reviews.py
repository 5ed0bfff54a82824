"""Pang & Lee's movie-review text: 2,000 full reviews (unlabelled text here), the sentence polarity set (MR) and
the subjectivity set (SUBJ).

Used in the chapter *Predicting missing words* (``notebooks/05_masked_words.ipynb``): the reviews are the
in-domain text a masked-word model pre-trains on; MR and SUBJ are the labelled sentence tasks it transfers to.
All three come as the zips NLTK distributes (``nltk_data``, ``packages/corpora/``), read in place with
:mod:`zipfile` after a sha256 check. The text is already lower-cased and tokenized (spaces around punctuation,
``don't`` kept whole), the same way in all three sets.

Sources: Pang & Lee (2004), *A Sentimental Education* (reviews v2.0, SUBJ v1.0); Pang & Lee (2005), *Seeing
Stars* (sentence polarity v1.0). Licence CC BY 4.0.
"""

from __future__ import annotations

import zipfile

import numpy as np

from minissl.data.store import DatasetError, fetch

NLTK_BASE = "https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/packages/corpora/"
NLTK_FOLDER = "nltk-corpora"
REVIEW_SHA256 = {
    "movie_reviews": "a41211ae685019137410268134db6a1a14428c89b671eb83056151a878539008",
    "sentence_polarity": "6e1ed4405b65c7eabf1d199a7f7c437091ac21da0ea7467b410a74062574566b",
    "subjectivity": "741f3371e1a4375051b874fd82fd55857b90975473c91c19a3101cbe17fc4d8c",
}
# NLTK converted the original ISO-8859-1 files to UTF-8, so Windows-1252 punctuation survives as C1 control
# characters (U+0091 ...). They are given their Windows-1252 meaning.
_C1 = str.maketrans({"\x91": "'", "\x92": "'", "\x93": '"', "\x94": '"', "\x96": "-", "\x97": "--"})


def _open_zip(name: str, root) -> zipfile.ZipFile:
    path = fetch(f"{NLTK_FOLDER}/{name}.zip", NLTK_BASE + f"{name}.zip", {"sha256": REVIEW_SHA256[name]}, name,
                 root=root)
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:  # only reachable if the pinned file itself were not a zip
        raise DatasetError(f"{name}: {path} is not a zip ({err}); delete it and run again to download it") from err


def _read(zf: zipfile.ZipFile, member: str, name: str) -> str:
    try:
        raw = zf.read(member)
    except KeyError as err:
        raise DatasetError(f"{name}: {zf.filename} has no member {member!r}; delete it and run again") from err
    return raw.decode("utf-8").translate(_C1)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def movie_reviews(root=None) -> list[str]:
    """The 2,000 movie reviews of Pang & Lee's polarity dataset v2.0 (1,000 positive, 1,000 negative; about
    1.5 million words), as a list of 2,000 strings, one review each (its sentences joined by ``"\\n"``).

    The order is ``neg/`` then ``pos/``, each sorted by file name; the chapter uses them without their labels.
    Read from ``<root>/nltk-corpora/movie_reviews.zip`` or downloaded from :data:`NLTK_BASE`, verified by sha256.

    Raises:
        DatasetError: no copy and the download failed, or a file with the wrong checksum.
    """
    with _open_zip("movie_reviews", root) as zf:
        members = sorted(n for n in zf.namelist() if n.endswith(".txt") and n.count("/") == 2)
        reviews = ["\n".join(_lines(_read(zf, m, "movie_reviews"))) for m in members]
    if len(reviews) != 2000:
        raise DatasetError(f"movie_reviews: expected 2,000 reviews, found {len(reviews)}")
    return reviews


def _two_files(name: str, first: str, second: str, expected: int, root) -> tuple[list[str], np.ndarray]:
    """Sentences of ``first`` (label 1) then of ``second`` (label 0); ``expected`` sentences in all."""
    with _open_zip(name, root) as zf:
        ones, zeros = (_lines(_read(zf, f"{name}/{f}", name)) for f in (first, second))
    if len(ones) + len(zeros) != expected:
        raise DatasetError(f"{name}: expected {expected:,} sentences, found {len(ones) + len(zeros):,}")
    labels = np.concatenate([np.ones(len(ones), np.int64), np.zeros(len(zeros), np.int64)])
    return ones + zeros, labels


def sentence_polarity(root=None) -> tuple[list[str], np.ndarray]:
    """MR: 10,662 Rotten Tomatoes snippets (Pang & Lee 2005), 5,331 positive then 5,331 negative.

    Returns ``(sentences, labels)``, labels int64 ``(10662,)``: 1 positive, 0 negative. Read from
    ``<root>/nltk-corpora/sentence_polarity.zip`` or downloaded from :data:`NLTK_BASE`, verified by sha256.

    Raises:
        DatasetError: no copy and the download failed, or a file with the wrong checksum.
    """
    return _two_files("sentence_polarity", "rt-polarity.pos", "rt-polarity.neg", 10662, root)


def subjectivity(root=None) -> tuple[list[str], np.ndarray]:
    """SUBJ: 5,000 subjective review snippets then 5,000 objective plot-summary sentences (Pang & Lee 2004).

    Returns ``(sentences, labels)``, labels int64 ``(10000,)``: 1 subjective, 0 objective. Read from
    ``<root>/nltk-corpora/subjectivity.zip`` or downloaded from :data:`NLTK_BASE`, verified by sha256.

    Raises:
        DatasetError: no copy and the download failed, or a file with the wrong checksum.
    """
    return _two_files("subjectivity", "quote.tok.gt9.5000", "plot.tok.gt9.5000", 10000, root)
