"""A Vision Transformer (Dosovitskiy et al., 2021): the book's one transformer block, run on image patches.

Built in the chapter *DINO: self-distillation without labels*, section *A Vision Transformer from scratch*.

    image (B, 3, H, W) in [0, 1]
      -> standardise each channel: (x - mean) / std              (B, 3, H, W)
      -> patchify: cut into non-overlapping p x p patches        (B, N, 3 p p),   N = (H / p) (W / p)
      -> linear patch embedding                                   (B, N, C)
      -> prepend a learned class token                            (B, 1 + N, C)
      -> add learned position embeddings                          (B, 1 + N, C)
      -> depth x TransformerBlock(causal=False)                   (B, 1 + N, C)
      -> LayerNorm, keep the class token                          (B, C)

Standardising the pixels matters more for a ViT than for a ResNet (which has batch norm): raw pixels in
[0, 1] share a large common offset, so at initialisation every image's class token is almost the same
vector (cosine similarity ~0.97 between CIFAR images) and a self-distillation run starts collapsed.

The position embeddings are learned for the training image size. An image of another size (DINO's small
local crops) gets them resized by bicubic interpolation over the patch grid, so one network reads every crop.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from minissl.nn import TransformerBlock

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)  # per-channel mean of the CIFAR-10 training images in [0, 1]
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Cut ``(B, 3, H, W)`` images into patches ``(B, N, 3 * p * p)``, row by row (N = H/p * W/p).

    Each patch is flattened channel-first: ``(3, p, p)`` -> ``3 p p`` values, the layout of a
    ``Conv2d(3, C, kernel_size=p, stride=p)`` weight, so a linear layer on patches equals that convolution.
    """
    if images.dim() != 4:
        raise ValueError(f"patchify: images must be (B, 3, H, W), got shape {tuple(images.shape)}")
    B, c, H, W = images.shape
    p = patch_size
    if H % p or W % p:
        raise ValueError(
            f"patchify: image size {H}x{W} is not divisible by patch_size={p}; "
            f"resize or crop the images to a multiple of {p}"
        )
    x = images.reshape(B, c, H // p, p, W // p, p)  # (B, c, rows, p, cols, p)
    x = x.permute(0, 2, 4, 1, 3, 5)  # (B, rows, cols, c, p, p)
    return x.reshape(B, (H // p) * (W // p), c * p * p)


class ViT(nn.Module):
    """Vision Transformer ``(B, 3, H, W)`` -> class-token features ``(B, n_embd)``.

    Args:
        image_size: side of the square images the position embeddings are learned for (32 for CIFAR).
        patch_size: side p of a patch; must divide the image size (4 -> 8 x 8 = 64 patches at 32 px).
        n_embd: width C of every token.
        depth: number of transformer blocks.
        n_head: attention heads per block; must divide ``n_embd``.
        mlp_ratio: hidden width of each block's MLP, as a multiple of C.
        in_chans: channels of the input images.
        dropout: dropout inside the blocks (0 for self-supervised training).
        pixel_mean, pixel_std: per-channel statistics used to standardise the input images (CIFAR-10's by
            default); ``None`` feeds the pixels as they are.
    """

    def __init__(self, image_size: int = 32, patch_size: int = 4, n_embd: int = 192, depth: int = 6,
                 n_head: int = 3, mlp_ratio: int = 4, in_chans: int = 3, dropout: float = 0.0,
                 pixel_mean: tuple[float, ...] | None = CIFAR10_MEAN,
                 pixel_std: tuple[float, ...] | None = CIFAR10_STD):
        super().__init__()
        if image_size % patch_size:
            raise ValueError(
                f"ViT: image_size={image_size} is not divisible by patch_size={patch_size}; "
                f"choose a patch_size among {[p for p in range(1, image_size + 1) if image_size % p == 0]}"
            )
        if depth < 1:
            raise ValueError(f"ViT: depth must be >= 1, got {depth}")
        self.image_size, self.patch_size, self.in_chans = image_size, patch_size, in_chans
        self.grid = image_size // patch_size  # patches per side at the training size
        self.n_embd = n_embd
        if (pixel_mean is None) != (pixel_std is None):
            raise ValueError("ViT: give both pixel_mean and pixel_std, or neither")
        if pixel_mean is not None and not (len(pixel_mean) == len(pixel_std) == in_chans):
            raise ValueError(f"ViT: pixel_mean and pixel_std need {in_chans} values (one per channel), "
                             f"got {pixel_mean} and {pixel_std}")
        self.standardise = pixel_mean is not None
        self.register_buffer("pixel_mean", torch.tensor(pixel_mean or [0.0] * in_chans).view(1, -1, 1, 1))
        self.register_buffer("pixel_std", torch.tensor(pixel_std or [1.0] * in_chans).view(1, -1, 1, 1))
        self.patch_embed = nn.Linear(in_chans * patch_size * patch_size, n_embd)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, n_embd))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.grid * self.grid, n_embd))
        self.blocks = nn.ModuleList(
            [TransformerBlock(n_embd, n_head, causal=False, dropout=dropout, mlp_ratio=mlp_ratio)
             for _ in range(depth)]
        )
        self.norm = nn.LayerNorm(n_embd)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Truncated-normal(0.02) weights, zero biases, unit LayerNorm gains: the usual ViT initialisation."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _check(self, images: torch.Tensor) -> None:
        if images.dim() != 4 or images.shape[1] != self.in_chans:
            raise ValueError(
                f"ViT: images must be (B, {self.in_chans}, H, W) floats, got shape {tuple(images.shape)}; "
                "convert uint8 (N, H, W, 3) arrays with torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255"
            )
        H, W = images.shape[-2:]
        if H % self.patch_size or W % self.patch_size:
            raise ValueError(
                f"ViT: image size {H}x{W} is not divisible by patch_size={self.patch_size}; "
                f"use crops whose side is a multiple of {self.patch_size}"
            )

    def position_embeddings(self, rows: int, cols: int) -> torch.Tensor:
        """Position embeddings ``(1, 1 + rows * cols, C)`` for a ``rows x cols`` patch grid; resized from the
        learned ``grid x grid`` by bicubic interpolation when the grid differs (the class token's is kept)."""
        if rows == self.grid and cols == self.grid:
            return self.pos_embed
        cls_pos, patch_pos = self.pos_embed[:, :1], self.pos_embed[:, 1:]
        C = patch_pos.shape[-1]
        patch_pos = patch_pos.reshape(1, self.grid, self.grid, C).permute(0, 3, 1, 2)  # (1, C, g, g)
        patch_pos = F.interpolate(patch_pos, size=(rows, cols), mode="bicubic", align_corners=False)
        patch_pos = patch_pos.permute(0, 2, 3, 1).reshape(1, rows * cols, C)
        return torch.cat([cls_pos, patch_pos], dim=1)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``(B, 3, H, W)`` -> tokens ``(B, 1 + N, C)`` (class token first) before the blocks."""
        self._check(images)
        B, _, H, W = images.shape
        if self.standardise:
            images = (images - self.pixel_mean) / self.pixel_std
        x = self.patch_embed(patchify(images, self.patch_size))  # (B, N, C)
        x = torch.cat([self.cls_token.expand(B, -1, -1), x], dim=1)  # (B, 1 + N, C)
        return x + self.position_embeddings(H // self.patch_size, W // self.patch_size)

    def hidden_states(self, images: torch.Tensor) -> torch.Tensor:
        """Every output token ``(B, 1 + N, C)`` after the final LayerNorm; index 0 is the class token."""
        x = self.embed(images)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Class-token features ``(B, C)``: the image representation."""
        return self.hidden_states(images)[:, 0]

    @torch.no_grad()
    def attention_maps(self, images: torch.Tensor) -> torch.Tensor:
        """How the class token attends to the patches in the last block: ``(B, n_head, rows, cols)``; each
        head's map sums to at most 1 (the rest is the class token's attention to itself)."""
        x = self.embed(images)
        for block in self.blocks[:-1]:
            x = block(x)
        last = self.blocks[-1]
        weights = last.attn.attention_weights(last.ln1(x))  # (B, heads, 1 + N, 1 + N)
        B, heads = weights.shape[:2]
        rows, cols = images.shape[-2] // self.patch_size, images.shape[-1] // self.patch_size
        return weights[:, :, 0, 1:].reshape(B, heads, rows, cols)
