"""The text datasets: Tiny Shakespeare, WikiText-2, and labelled sentiment sentences.

Each function returns plain Python/NumPy data; tokenizing is the job of :mod:`minissl.text`.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from minissl.data.store import DatasetError, data_root, fetch, resolve_url, retrieve, staging_folder, verify
from minissl.utils import atomic_path

SHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


def tiny_shakespeare(root=None) -> str:
    """The Tiny Shakespeare corpus (Karpathy's char-rnn): one string of 1,115,394 characters."""
    path = fetch("tinyshakespeare/input.txt", SHAKESPEARE_URL, {"sha256": SHAKESPEARE_SHA256},
                 "tiny_shakespeare", root=root)
    return path.read_text(encoding="utf-8")


WIKITEXT_BASE = "https://raw.githubusercontent.com/pytorch/examples/main/word_language_model/data/wikitext-2/"
# All three splits come from pytorch/examples (word_language_model/data/wikitext-2/{train,valid,test}.txt), the
# tokenized WikiText-2 v1 files wiki.{train,valid,test}.tokens renamed. valid/test: hashed here from the offline
# mirror (shared/data/README.md, section 3). train (about 10.8 MB, 36,718 lines, 2,088,628 tokens counting one
# <eos> a line) is not in the mirror, so its sha256 was not computed here: it is the value pinned for this same
# URL in files of at least five unrelated public projects (found by code search over public GitHub code), each
# pinning the same valid/test digests as below; one of them records that it compared the three files with cmp(1)
# against wiki.{train,valid,test}.tokens from the author's wikitext-2-v1.zip. Whatever is downloaded must match
# it, so a wrong pin fails closed (a DatasetError), never silently. The original archive's S3 bucket
# (research.metamind.io), used before, is gone.
WIKITEXT_SHA256 = {
    "train": "9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f",
    "valid": "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8",
    "test": "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0",
}


def wikitext2(split: str = "valid", root=None) -> str:
    """WikiText-2 (Merity et al., 2016), tokenized v1: rare words are ``<unk>``; titles look like `` = Title = ``.

    Returns the split as one string (lines end in ``\\n``): ``train`` 36,718 lines, 2,088,628 tokens counting
    one ``<eos>`` a line (about 10.8 MB); ``valid`` 3,760 lines, 217,646 tokens; ``test`` 4,358 lines, 245,569
    tokens. Each file is read from ``<root>/wikitext-2/<split>.txt`` or downloaded from :data:`WIKITEXT_BASE`
    (pytorch/examples), verified by sha256 either way.

    Raises:
        ValueError: an unknown ``split``.
        DatasetError: no copy and the download failed, or a file with the wrong checksum.
    """
    if split not in WIKITEXT_SHA256:
        raise ValueError(f"wikitext2: split must be 'train', 'valid' or 'test', got {split!r}")
    path = fetch(f"wikitext-2/{split}.txt", WIKITEXT_BASE + f"{split}.txt",
                 {"sha256": WIKITEXT_SHA256[split]}, "wikitext2", root=root)
    return path.read_text(encoding="utf-8")


# The UCI zip holds "sentiment labelled sentences/{amazon_cells,imdb,yelp}_labelled.txt".
SENTIMENT_URL = "https://archive.ics.uci.edu/static/public/331/sentiment+labelled+sentences.zip"
SENTIMENT_FOLDER = "sentiment-labelled-sentences"
SENTIMENT_SHA256 = {
    "amazon": ("amazon_cells_labelled.txt", "47003fc0a0d4840b00e96e715b6189bad09e7443a3da41c4cbe12ffc79f86ae3"),
    "imdb": ("imdb_labelled.txt", "aef2e49e3da25714d61175e3a6e68eeef74a20a2f914318dc3be9947ea86512d"),
    "yelp": ("yelp_labelled.txt", "c76468b7b5c6e56a0804d728345c5f84aa2142ddb214420f61cc9cfd4c00d2ea"),
}


def _download_sentiment(folder: Path) -> None:
    """Download the UCI zip to a temporary folder, extract the three text files, verify each, move each in.

    The archive has no published hash: each extracted file is verified instead, before it is moved into place.
    A file is either verified under its real name or absent; the zip itself is never kept.
    """
    with staging_folder("sentiment_sentences", folder, SENTIMENT_URL) as staging:
        archive = Path(staging) / "sentiment.zip"
        retrieve(SENTIMENT_URL, archive, "sentiment_sentences", folder)
        try:
            with zipfile.ZipFile(archive) as zf:
                # members sit under "sentiment labelled sentences/"; skip the __MACOSX resource forks
                names = {n.rsplit("/", 1)[-1]: n for n in zf.namelist() if "MACOSX" not in n}
                for filename, sha in SENTIMENT_SHA256.values():
                    if filename not in names:
                        raise DatasetError(
                            f"sentiment_sentences: the zip from {resolve_url(SENTIMENT_URL)} has no {filename}; "
                            "it is not the UCI archive. Retry later, or set MINISSL_DATA to a folder holding "
                            f"{SENTIMENT_FOLDER}/."
                        )
                    with atomic_path(folder / filename) as part:
                        part.write_bytes(zf.read(names[filename]))
                        verify(part, {"sha256": sha}, "sentiment_sentences")
        except zipfile.BadZipFile as err:
            raise DatasetError(
                f"sentiment_sentences: the file downloaded from {resolve_url(SENTIMENT_URL)} is not a zip ({err}); "
                "it was discarded. Retry later, or set MINISSL_DATA to a folder that holds the dataset."
            ) from err


def sentiment_sentences(sources=("amazon", "imdb", "yelp"), root=None) -> tuple[list[str], np.ndarray]:
    """Sentiment Labelled Sentences (Kotzias et al., KDD 2015): 1,000 sentences per source.

    Returns ``(sentences, labels)`` with labels int64 ``(N,)``: 1 positive, 0 negative (500 of each per source).
    Read from ``<root>/sentiment-labelled-sentences/``, else downloaded from :data:`SENTIMENT_URL` (UCI zip);
    each text file is verified by sha256.

    Raises:
        ValueError: an unknown source.
        DatasetError: no copy and the download failed, or a file with the wrong checksum.
    """
    folder = data_root(root) / SENTIMENT_FOLDER
    unknown = [s for s in sources if s not in SENTIMENT_SHA256]
    if unknown:
        raise ValueError(f"sentiment_sentences: unknown sources {unknown}; choose from {list(SENTIMENT_SHA256)}")
    if not all((folder / SENTIMENT_SHA256[s][0]).exists() for s in sources):
        _download_sentiment(folder)
    sentences, labels = [], []
    for source in sources:
        filename, sha = SENTIMENT_SHA256[source]
        path = verify(folder / filename, {"sha256": sha}, "sentiment_sentences")
        # split on "\n" only: imdb_labelled.txt has U+0085 inside sentences, which str.splitlines() splits on.
        for line in path.read_text(encoding="utf-8").split("\n"):
            if line.strip():
                text, label = line.rstrip().rsplit("\t", 1)
                sentences.append(text.strip())
                labels.append(int(label))
    return sentences, np.asarray(labels, dtype=np.int64)
