"""Models: compositions of the blocks in :mod:`minissl.nn`, one file per model."""

from minissl.models.bert import BERT, SequenceClassifier  # chapter: Predicting missing words
