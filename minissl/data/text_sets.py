"""The text datasets: Tiny Shakespeare, WikiText-2, and labelled sentiment sentences.

Each function returns plain Python/NumPy data; tokenizing is the job of :mod:`minissl.text`.
"""

from __future__ import annotations

import zipfile

import numpy as np

from minissl.data.store import data_root, fetch, retrieve, verify
from minissl.utils import atomic_path

SHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


def tiny_shakespeare(root=None) -> str:
    """The Tiny Shakespeare corpus (Karpathy's char-rnn): one string of 1,115,394 characters."""
    path = fetch("tinyshakespeare/input.txt", SHAKESPEARE_URL, {"sha256": SHAKESPEARE_SHA256},
                 "tiny_shakespeare", root=root)
    return path.read_text(encoding="utf-8")


WIKITEXT_BASE = "https://raw.githubusercontent.com/pytorch/examples/main/word_language_model/data/wikitext-2/"
WIKITEXT_SHA256 = {
    "valid": "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8",
    "test": "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0",
}
# The train split comes from the original archive (pinned by torchtext), the only copy with a published hash.
WIKITEXT_ZIP_URL = "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip"
WIKITEXT_ZIP_MD5 = "542ccefacc6c27f945fb54453812b3cd"


def wikitext2(split: str = "valid", root=None) -> str:
    """WikiText-2 (Merity et al., 2016), tokenized v1: rare words are ``<unk>``; titles look like ``= Title =``.

    ``valid`` (217,646 tokens with one ``<eos>`` a line) and ``test`` are verified by sha256. ``train`` comes
    from the original archive, verified by its md5.
    """
    if split in WIKITEXT_SHA256:
        path = fetch(f"wikitext-2/{split}.txt", WIKITEXT_BASE + f"{split}.txt",
                     {"sha256": WIKITEXT_SHA256[split]}, "wikitext2", root=root)
        return path.read_text(encoding="utf-8")
    if split != "train":
        raise ValueError(f"wikitext2: split must be 'train', 'valid' or 'test', got {split!r}")
    path = data_root(root) / "wikitext-2" / "train.txt"
    if not path.exists():
        archive = fetch("wikitext-2/wikitext-2-v1.zip", WIKITEXT_ZIP_URL, {"md5": WIKITEXT_ZIP_MD5},
                        "wikitext2", root=root)
        with zipfile.ZipFile(archive) as zf, atomic_path(path) as tmp:
            tmp.write_bytes(zf.read("wikitext-2/wiki.train.tokens"))
    return path.read_text(encoding="utf-8")


SENTIMENT_URL = "https://archive.ics.uci.edu/static/public/331/sentiment+labelled+sentences.zip"
SENTIMENT_FOLDER = "sentiment-labelled-sentences"
SENTIMENT_SHA256 = {
    "amazon": ("amazon_cells_labelled.txt", "47003fc0a0d4840b00e96e715b6189bad09e7443a3da41c4cbe12ffc79f86ae3"),
    "imdb": ("imdb_labelled.txt", "aef2e49e3da25714d61175e3a6e68eeef74a20a2f914318dc3be9947ea86512d"),
    "yelp": ("yelp_labelled.txt", "c76468b7b5c6e56a0804d728345c5f84aa2142ddb214420f61cc9cfd4c00d2ea"),
}


def _download_sentiment(folder) -> None:
    # The archive has no published hash: each extracted file is verified instead, before it is moved in.
    with atomic_path(folder / "sentiment.zip") as tmp:
        retrieve(SENTIMENT_URL, tmp, "sentiment_sentences", folder)
        with zipfile.ZipFile(tmp) as zf:
            names = {n.rsplit("/", 1)[-1]: n for n in zf.namelist() if "MACOSX" not in n}
            for filename, sha in SENTIMENT_SHA256.values():
                with atomic_path(folder / filename) as part:
                    part.write_bytes(zf.read(names[filename]))
                    verify(part, {"sha256": sha}, "sentiment_sentences")
        tmp.unlink()  # only the verified text files are kept


def sentiment_sentences(sources=("amazon", "imdb", "yelp"), root=None) -> tuple[list[str], np.ndarray]:
    """Sentiment Labelled Sentences (Kotzias et al., KDD 2015): 1,000 sentences per source.

    Returns ``(sentences, labels)`` with labels int64 ``(N,)``: 1 positive, 0 negative (500 of each per source).
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
