"""A small ResNet (He et al., 2016) for 32-pixel images: the image encoder of the SimCLR, DINO, CLIP chapters.

Built in the SimCLR chapter (``06_simclr``), section *Encoder and projection head*.

    image (B, 3, 32, 32)
      -> stem: 3x3 conv, stride 1, no max-pool (the "CIFAR stem": a 32-px image has no pixels to spare)
      -> stages of residual blocks; each stage after the first halves H and W and widens the channels
      -> global average pool -> features (B, widths[-1])

``ResNet(widths=(64, 128, 256, 512), depths=(2, 2, 2, 2))`` is ResNet-18 (11.2 M parameters with the CIFAR
stem); narrower and shallower settings give the CPU-sized encoders. ``stem="imagenet"`` gives the original
7x7 stride-2 convolution and max-pool for larger images.
"""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm, added to a shortcut: ``relu(x' + F(x))``.

    ``(B, C_in, H, W)`` -> ``(B, C_out, H / stride, W / stride)``. When the shape changes the shortcut is a
    1x1 convolution (with stride) and batch norm, else the identity.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """Image ``(B, in_channels, H, W)`` -> feature vector ``(B, out_dim)`` with ``out_dim = widths[-1]``.

    Args:
        widths: channels of each stage; stage ``i > 0`` starts with a stride-2 block.
        depths: number of :class:`BasicBlock` per stage (same length as ``widths``).
        stem: ``"cifar"`` (3x3 conv, stride 1, no pooling) or ``"imagenet"`` (7x7 stride 2 + max-pool).
        in_channels: channels of the input images.

    There is no classification layer: add ``nn.Linear(model.out_dim, classes)`` for supervised training.
    """

    def __init__(self, widths=(64, 128, 256, 512), depths=(2, 2, 2, 2), stem: str = "cifar",
                 in_channels: int = 3):
        super().__init__()
        widths, depths = tuple(widths), tuple(depths)
        if len(widths) != len(depths) or not widths:
            raise ValueError(f"ResNet: widths {widths} and depths {depths} must be non-empty and of equal "
                             "length")
        if any(w < 1 for w in widths) or any(d < 1 for d in depths):
            raise ValueError(f"ResNet: every width and depth must be >= 1, got widths {widths}, "
                             f"depths {depths}")
        if stem == "cifar":
            self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
                                      nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        elif stem == "imagenet":
            self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 7, stride=2, padding=3, bias=False),
                                      nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True),
                                      nn.MaxPool2d(3, stride=2, padding=1))
        else:
            raise ValueError(f"ResNet: stem must be 'cifar' (32-px images) or 'imagenet', got {stem!r}")
        stages, channels = [], widths[0]
        for i, (width, depth) in enumerate(zip(widths, depths)):
            blocks = [BasicBlock(channels, width, stride=1 if i == 0 else 2)]
            blocks += [BasicBlock(width, width) for _ in range(depth - 1)]
            stages.append(nn.Sequential(*blocks))
            channels = width
        self.stages = nn.Sequential(*stages)
        self.out_dim = widths[-1]
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        for block in self.modules():  # start each residual branch at zero: every block begins as the identity
            if isinstance(block, BasicBlock):
                nn.init.zeros_(block.bn2.weight)

    def hidden_states(self, x: torch.Tensor) -> torch.Tensor:
        """The last stage's map ``(B, out_dim, H', W')`` before pooling: one hidden vector per position."""
        if x.dim() != 4:
            raise ValueError(f"ResNet: expected images (B, C, H, W), got shape {tuple(x.shape)}")
        return self.stages(self.stem(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden_states(x).mean(dim=(2, 3))


def resnet18(stem: str = "cifar", in_channels: int = 3) -> ResNet:
    """ResNet-18 without its classifier: widths 64-512, two blocks per stage, ``out_dim = 512``."""
    return ResNet((64, 128, 256, 512), (2, 2, 2, 2), stem=stem, in_channels=in_channels)
