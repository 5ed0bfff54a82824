"""The 50,000 unlabelled IMDb reviews of Maas et al. (2011), *Learning Word Vectors for Sentiment Analysis*
(ACL), normalised to the form of Pang & Lee's reviews: lower-cased, punctuation split from words, one sentence a
line.

Used by the ``gpu`` and ``h100`` presets of the chapter *Predicting missing words*
(``notebooks/05_masked_words.ipynb``, section *The data: two thousand movie reviews, nobody's labels*) as more
in-domain text to pre-train on. Read from ``aclImdb_v1.tar.gz`` (84 MB, the authors' published archive), only
its ``train/unsup/`` folder, after a sha256 check.
"""

from __future__ import annotations

import re
import tarfile

from minissl.data.store import DatasetError, fetch

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
IMDB_PATH = "aclImdb/aclImdb_v1.tar.gz"
N_UNLABELLED = 50_000

# Pang & Lee's tokenization: words (with inner apostrophes, "don't"), numbers, and every other mark on its own
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[^\sa-z0-9]")
_SENTENCE_END = re.compile(r"(?<=[.!?]) (?=[a-z0-9])")


def normalize_review(text: str) -> str:
    """One raw IMDb review -> its sentences, lower-cased and tokenized with spaces, joined by ``"\\n"``.

    ``<br />`` (the archive's line breaks) ends a sentence; so does ``.``, ``!`` or ``?`` followed by a word.
    """
    text = re.sub(r"<br\s*/?>", "\n", text.lower())
    sentences = []
    for line in text.split("\n"):
        tokens = " ".join(_TOKEN.findall(line))
        sentences += [s.strip() for s in _SENTENCE_END.split(tokens) if s.strip()]
    return "\n".join(sentences)


def imdb_unlabelled(root=None) -> list[str]:
    """The 50,000 unlabelled reviews of the IMDb archive (``train/unsup/``), sorted by file name, each
    normalised by :func:`normalize_review` (about 11 million words in all).

    Read from ``<root>/aclImdb/aclImdb_v1.tar.gz`` or downloaded from :data:`IMDB_URL`, verified by sha256.

    Raises:
        DatasetError: no copy and the download failed, a file with the wrong checksum, or an archive that does
        not hold the 50,000 reviews.
    """
    path = fetch(IMDB_PATH, IMDB_URL, {"sha256": IMDB_SHA256}, "imdb_unlabelled", root=root)
    texts = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if member.isfile() and re.fullmatch(r"aclImdb/train/unsup/[^/]+\.txt", member.name):
                    texts[member.name] = tar.extractfile(member).read().decode("utf-8")
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as err:
        raise DatasetError(f"imdb_unlabelled: cannot read {path} ({err}); delete it and run again to download "
                           "a fresh copy") from err
    if len(texts) != N_UNLABELLED:
        raise DatasetError(f"imdb_unlabelled: expected {N_UNLABELLED:,} reviews in train/unsup/ of {path}, "
                           f"found {len(texts):,}")
    return [normalize_review(texts[name]) for name in sorted(texts)]
