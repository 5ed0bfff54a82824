"""Building blocks shared by every model in the book: one attention, one transformer block, one MLP."""

from minissl.nn.attention import KVCache, MultiHeadAttention
from minissl.nn.block import MLP, TransformerBlock, init_transformer_
from minissl.nn.resnet import BasicBlock, ResNet, resnet18  # chapter: SimCLR

__all__ = ["BasicBlock", "KVCache", "MLP", "MultiHeadAttention", "ResNet", "TransformerBlock", "init_transformer_",
           "resnet18"]
