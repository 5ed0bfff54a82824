"""DINO's multi-crop: two large global crops and several small local crops of every image, all batched.

Built in the chapter *DINO: self-distillation without labels*, section *Multi-crop*, from the SimCLR
chapter's view (:class:`minissl.augment.SimCLRAugment`). Following Caron et al. (2020, 2021):

* two **global** crops covering ``global_scale`` of the image, resized to ``global_size``; the teacher sees
  only these. The first is always blurred, the second rarely, and only the second may be solarised, so the
  two global views differ in their photometric distortions too;
* ``n_local`` **local** crops covering ``local_scale`` (a small part), resized to ``local_size``; only the
  student sees them, and must predict from a part what the teacher says about the whole ("local to global").

Every crop is flipped, colour-jittered and turned to grayscale at random, as in SimCLR.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from minissl.augment.simclr import SimCLRAugment
from minissl.utils import check_images


@dataclass(frozen=True)
class MultiCrop:
    """``crops = MultiCrop(...)(images, generator)`` -> a list of ``2 + n_local`` views of float images
    ``(B, 3, H, W)`` in [0, 1]: ``[global_1, global_2, local_1, ..., local_n]``, the global ones
    ``(B, 3, global_size, global_size)``, the local ones ``(B, 3, local_size, local_size)``.

    The blur and solarisation probabilities of the two global views are pairs (first view, second view).
    Defaults are DINO's ImageNet recipe with CIFAR sizes; on 32-pixel images blur mostly destroys
    information, so the CIFAR presets switch it off.
    """

    global_size: int = 32
    local_size: int = 16
    n_local: int = 6
    global_scale: tuple[float, float] = (0.4, 1.0)
    local_scale: tuple[float, float] = (0.05, 0.4)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_p: float = 0.5
    jitter_strength: float = 0.5
    jitter_p: float = 0.8
    gray_p: float = 0.2
    global_blur_p: tuple[float, float] = (1.0, 0.1)
    local_blur_p: float = 0.5
    solarize_p: tuple[float, float] = (0.0, 0.2)
    blur_sigma: tuple[float, float] = (0.1, 2.0)

    def __post_init__(self):
        if self.n_local < 0:
            raise ValueError(f"MultiCrop: n_local must be >= 0, got {self.n_local}")
        if self.local_scale[1] > self.global_scale[1] or self.local_scale[0] > self.global_scale[0]:
            raise ValueError(f"MultiCrop: local_scale={self.local_scale} should cover less of the image than "
                             f"global_scale={self.global_scale}")

    def view(self, images: torch.Tensor, size: int, scale, blur_p: float, solarize_p: float,
             generator: torch.Generator | None = None) -> torch.Tensor:
        """One random view of every image: SimCLR's (crop + flip, colour jitter, grayscale, blur), then solarise."""
        simclr = SimCLRAugment(size=size, crop_scale=scale, crop_ratio=self.ratio, flip_p=self.flip_p,
                               jitter_strength=self.jitter_strength, jitter_p=self.jitter_p, gray_p=self.gray_p,
                               blur_p=blur_p, blur_sigma=self.blur_sigma, solarize_p=solarize_p)
        return simclr(images, generator)

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        check_images(images, "MultiCrop", rgb=True)
        crops = [self.view(images, self.global_size, self.global_scale, self.global_blur_p[i], self.solarize_p[i],
                           generator) for i in range(2)]
        crops += [self.view(images, self.local_size, self.local_scale, self.local_blur_p, 0.0, generator)
                  for _ in range(self.n_local)]
        return crops
