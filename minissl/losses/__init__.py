"""Losses: pure functions of tensors (no models, no training loop), one file per idea."""

from minissl.losses.clip import MAX_LOGIT_SCALE, clip_logits, clip_loss  # chapter: CLIP
from minissl.losses.dino import collapse_metrics, dino_loss, teacher_probs, update_center  # chapter: DINO
from minissl.losses.mlm import mlm_accuracy, mlm_loss  # chapter: Predicting missing words
from minissl.losses.nt_xent import nt_xent, nt_xent_accuracy  # chapter: SimCLR
