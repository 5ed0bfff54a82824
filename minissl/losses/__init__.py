"""Losses: pure functions of tensors (no models, no training loop), one file per idea."""

from minissl.losses.mlm import mlm_accuracy, mlm_loss  # chapter: Predicting missing words
