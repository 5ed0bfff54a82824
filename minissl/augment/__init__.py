"""Batched augmentations on float image tensors ``(B, 3, H, W)`` in [0, 1]: the views of the image chapters.

Primitives in :mod:`minissl.augment.transforms`; SimCLR's two-view transform in :mod:`minissl.augment.simclr`.
"""

from minissl.augment.multicrop import MultiCrop  # chapter: DINO
from minissl.augment.simclr import SimCLRAugment
from minissl.augment.transforms import (
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    color_jitter,
    crop_and_resize,
    crop_boxes,
    gaussian_blur,
    grayscale,
    hsv_to_rgb,
    random_grayscale,
    random_horizontal_flip,
    random_resized_crop,
    random_solarize,
    rgb_to_hsv,
    to_tensor_images,
)

__all__ = [
    "MultiCrop",
    "SimCLRAugment",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_hue",
    "adjust_saturation",
    "color_jitter",
    "crop_and_resize",
    "crop_boxes",
    "gaussian_blur",
    "grayscale",
    "hsv_to_rgb",
    "random_grayscale",
    "random_horizontal_flip",
    "random_resized_crop",
    "random_solarize",
    "rgb_to_hsv",
    "to_tensor_images",
]
