"""DINO's multi-crop: two large global crops and several small local crops of every image, all batched.

Built in the chapter *DINO: self-distillation without labels*, section *Multi-crop*, from the SimCLR
chapter's primitives (:mod:`minissl.augment.transforms`). Following Caron et al. (2020, 2021):

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

from minissl.augment.transforms import (
    color_jitter,
    crop_and_resize,
    crop_boxes,
    gaussian_blur,
    random_grayscale,
    random_solarize,
)


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
        """One random view of every image: crop + flip, colour jitter, grayscale, blur, solarise."""
        b, _, height, width = images.shape
        boxes = crop_boxes(b, height, width, scale, self.ratio, generator, images.device)
        gen_device = generator.device if generator is not None else images.device
        flip = torch.rand(b, generator=generator, device=gen_device).to(images.device) < self.flip_p
        x = crop_and_resize(images, boxes, size, flip=flip)
        s = self.jitter_strength
        if self.jitter_p > 0 and s > 0:
            x = color_jitter(x, 0.8 * s, 0.8 * s, 0.8 * s, min(0.2 * s, 0.5), p=self.jitter_p, generator=generator)
        if self.gray_p > 0:
            x = random_grayscale(x, p=self.gray_p, generator=generator)
        if blur_p > 0:
            x = gaussian_blur(x, sigma=self.blur_sigma, p=blur_p, generator=generator)
        if solarize_p > 0:
            x = random_solarize(x, p=solarize_p, generator=generator)
        return x

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None) -> list[torch.Tensor]:
        if not isinstance(images, torch.Tensor) or images.dim() != 4 or not images.is_floating_point():
            raise ValueError("MultiCrop: images must be a float tensor (B, 3, H, W) in [0, 1]; convert loader "
                             "arrays with minissl.augment.to_tensor_images")
        crops = [self.view(images, self.global_size, self.global_scale, self.global_blur_p[i], self.solarize_p[i],
                           generator) for i in range(2)]
        crops += [self.view(images, self.local_size, self.local_scale, self.local_blur_p, 0.0, generator)
                  for _ in range(self.n_local)]
        return crops
