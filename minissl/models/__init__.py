"""Models: compositions of the blocks in :mod:`minissl.nn`, one file per model."""

from minissl.models.bert import BERT, SequenceClassifier  # chapter: Predicting missing words
from minissl.models.cbow import CBOW  # chapter: Predicting missing words
from minissl.models.clip import CLIP, FlatResNet, TextEncoder  # chapter: CLIP
from minissl.models.dino_head import DINOHead  # chapter: DINO
from minissl.models.gpt import GPT  # chapter: GPT from the blocks
from minissl.models.simclr import ProjectionHead, SimCLR  # chapter: SimCLR
from minissl.models.small_cnn import PretextModel, SmallCNN  # chapter: Labels from the data itself
from minissl.models.speech import SpeechEncoder, pool_frames  # chapter: Speech
from minissl.models.vit import ViT, patchify  # chapter: DINO
