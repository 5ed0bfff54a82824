"""Building blocks shared by every model in the book: one attention, one transformer block, one MLP."""

from minissl.nn.attention import KVCache, MultiHeadAttention
from minissl.nn.block import MLP, TransformerBlock

__all__ = ["KVCache", "MLP", "MultiHeadAttention", "TransformerBlock"]
