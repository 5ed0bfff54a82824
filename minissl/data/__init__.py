"""Datasets, each in three steps: locate (``root``, ``MINISSL_DATA``, ``~/.cache/minissl``) -> download and
verify (temporary file, checksum, move into place; ``MINISSL_DOWNLOAD_BASE`` redirects every download, see
:mod:`minissl.data.store`) -> parse. No models here.
"""

from minissl.data.captions import CAPTIONS, clip_captions
from minissl.data.cifar import CLASSES as CIFAR10_CLASSES
from minissl.data.cifar import cifar10
from minissl.data.emoji import emoji_styles, prepare_images
from minissl.data.fsdd import spoken_digits
from minissl.data.imdb import imdb_unlabelled
from minissl.data.reviews import movie_reviews, sentence_polarity, subjectivity
from minissl.data.store import DatasetError, data_root
from minissl.data.text_sets import sentiment_sentences, tiny_shakespeare, wikitext2

__all__ = [
    "CAPTIONS", "CIFAR10_CLASSES", "DatasetError", "cifar10", "cifar10_jpeg", "clip_captions", "data_root",
    "emoji_styles", "imdb_unlabelled", "movie_reviews", "prepare_images", "sentence_polarity", "sentiment_sentences",
    "spoken_digits", "subjectivity", "tiny_shakespeare", "wikitext2",
]


def __getattr__(name: str):
    # cifar10_jpeg is imported on first use, so that ``python -m minissl.data.cifar_jpeg`` (which builds the part)
    # does not find its own module already imported by this package.
    if name == "cifar10_jpeg":
        from minissl.data.cifar_jpeg import cifar10_jpeg

        return cifar10_jpeg
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
