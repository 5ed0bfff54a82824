"""Datasets, each in three steps: locate (``root``, ``MINISSL_DATA``, ``~/.cache/minissl``) -> download and
verify (temporary file, checksum, move into place) -> parse. No models here.
"""

from minissl.data.captions import CAPTIONS, clip_captions
from minissl.data.cifar import CLASSES as CIFAR10_CLASSES
from minissl.data.cifar import cifar10
from minissl.data.store import DatasetError, data_root
from minissl.data.text_sets import sentiment_sentences, tiny_shakespeare, wikitext2

__all__ = [
    "CAPTIONS", "CIFAR10_CLASSES", "DatasetError", "cifar10", "clip_captions", "data_root",
    "sentiment_sentences", "tiny_shakespeare", "wikitext2",
]
