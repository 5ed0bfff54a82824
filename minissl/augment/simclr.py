"""SimCLR's view generator: crop, flip, colour jitter, grayscale, optional blur, all batched.

Built in the SimCLR chapter (``06_simclr``), section *Augmentations from scratch, batched*. The composition
and its strengths follow Chen et al. (2020), appendix A, with the CIFAR-10 settings (colour strength 0.5, no
blur).
DINO's multi-crop (:mod:`minissl.augment.multicrop`) makes each of its views with it, adding solarisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from minissl.augment.transforms import (
    color_jitter,
    crop_and_resize,
    crop_boxes,
    gaussian_blur,
    random_grayscale,
    random_solarize,
)
from minissl.utils import draw


@dataclass(frozen=True)
class SimCLRAugment:
    """The random view of SimCLR, applied to a batch of float images ``(B, 3, H, W)`` in [0, 1].

    ``aug(images, generator)`` -> one view ``(B, 3, size, size)``; ``aug.two_views(images, generator)`` ->
    two independent views of every image. Switch a part off for an ablation with ``dataclasses.replace``,
    e.g. ``replace(aug, jitter_p=0.0)``; ``crop_scale=(1.0, 1.0)`` keeps the whole image.

    Colour jitter strength ``s`` gives brightness, contrast, saturation ``0.8 s`` and hue ``0.2 s``
    (SimCLR's convention; ``s = 0.5`` for CIFAR-10, ``s = 1`` for ImageNet). Solarisation (``solarize_p``) is
    not SimCLR's: BYOL and DINO add it.
    """

    size: int = 32
    crop_scale: tuple[float, float] = (0.08, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_p: float = 0.5
    jitter_strength: float = 0.5
    jitter_p: float = 0.8
    gray_p: float = 0.2
    blur_p: float = 0.0
    blur_sigma: tuple[float, float] = (0.1, 2.0)
    solarize_p: float = 0.0

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        b, _, height, width = images.shape
        boxes = crop_boxes(b, height, width, self.crop_scale, self.crop_ratio, generator, images.device)
        flip = draw(torch.rand, b, generator=generator, device=images.device) < self.flip_p
        x = crop_and_resize(images, boxes, self.size, flip=flip)  # crop + flip in one resampling
        s = self.jitter_strength
        if self.jitter_p > 0 and s > 0:
            x = color_jitter(x, 0.8 * s, 0.8 * s, 0.8 * s, min(0.2 * s, 0.5), p=self.jitter_p,
                             generator=generator)
        if self.gray_p > 0:
            x = random_grayscale(x, p=self.gray_p, generator=generator)
        if self.blur_p > 0:
            x = gaussian_blur(x, sigma=self.blur_sigma, p=self.blur_p, generator=generator)
        if self.solarize_p > 0:
            x = random_solarize(x, p=self.solarize_p, generator=generator)
        return x

    def two_views(self, images: torch.Tensor, generator: torch.Generator | None = None):
        """Two independent random views ``(x1, x2)`` of the same images, each ``(B, 3, size, size)``."""
        return self(images, generator), self(images, generator)
