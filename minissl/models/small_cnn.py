"""A small convolutional encoder for tiny images (the 8x8 digits of chapter 1), and a model that puts a
pretext-task head on top of it.

Built in chapter 1, *Labels from the data itself* (``notebooks/01_labels_from_data.ipynb``), section
*An encoder and a head*. The encoder is what we keep; the head only serves the pretext task and is thrown
away, as the projection heads of the later chapters are.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 convolution (same size) -> batch norm -> ReLU: ``(B, in, H, W)`` -> ``(B, out, H, W)``."""
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


class SmallCNN(nn.Module):
    """Three conv blocks and two 2x2 max-pools: ``(B, C, S, S)`` -> features ``(B, 2 * width * (S // 4) ** 2)``.

    For 8x8 digits with ``width=32``: ``(B, 1, 8, 8)`` -> ``(B, 32, 8, 8)`` -> ``(B, 32, 4, 4)`` ->
    ``(B, 64, 2, 2)`` -> 256 features. The features keep *where* things are (a flatten, not an average):
    an average over positions could not tell a rotated image from the upright one.
    """

    def __init__(self, in_channels: int = 1, width: int = 32, image_size: int = 8):
        super().__init__()
        if image_size % 4 != 0 or image_size < 4:
            raise ValueError(f"SmallCNN: image_size must be a multiple of 4 (two 2x2 pools), got {image_size}")
        self.in_channels, self.image_size = in_channels, image_size
        self.blocks = nn.Sequential(
            conv_bn_relu(in_channels, width),
            conv_bn_relu(width, width), nn.MaxPool2d(2),
            conv_bn_relu(width, 2 * width), nn.MaxPool2d(2),
        )
        self.out_dim = 2 * width * (image_size // 4) ** 2

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        expected = (self.in_channels, self.image_size, self.image_size)
        if images.dim() != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"SmallCNN: expected images (B, {', '.join(map(str, expected))}), "
                             f"got {tuple(images.shape)}")
        return self.blocks(images).flatten(1)


class PretextModel(nn.Module):
    """``encoder`` followed by a small MLP ``head``: ``(B, C, S, S)`` -> ``(B, out_dim)``.

    ``out_dim`` is what the pretext task predicts: 4 rotation logits, or the ``C * S * S`` pixels of a
    reconstruction. A hidden layer in the head lets the last encoder layer stay general instead of
    specialising in the pretext task.
    """

    def __init__(self, encoder: SmallCNN, out_dim: int, hidden: int = 256):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Sequential(nn.Linear(encoder.out_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(images))
