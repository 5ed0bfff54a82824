"""Batched image augmentations on tensors: every image of a batch gets its own random parameters, in one call.

Built in the SimCLR chapter (``06_simclr``), section *Augmentations from scratch, batched*; reused by DINO's
multi-crop.

All functions take float images ``(B, 3, H, W)`` with values in [0, 1], on any device, and return a new
tensor of the same dtype and device (values stay in [0, 1]). Randomness comes from ``generator`` when given
(a ``torch.Generator``; the same seed gives the same views), else from torch's global random state. Random
numbers are drawn on the generator's device and then moved to the images' device, so a CPU generator gives
the same parameters for CPU and CUDA images.

Nothing here loops over images: a batch of 512 costs a handful of tensor operations, which is what lets the
augmentations run on the GPU next to the model instead of in a slow data-loading process.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from minissl.utils import check_images, draw

# ITU-R 601 luma weights, as torchvision's rgb_to_grayscale uses.
_LUMA = (0.299, 0.587, 0.114)


# --------------------------------------------------------------------------------------------- helpers
def _check_p(p: float, what: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{what}: p must be a probability in [0, 1], got {p}")


def _uniform(n: int, low: float, high: float, generator, device, shape=()) -> torch.Tensor:
    """``(n, *shape)`` uniform numbers in [low, high), drawn on the generator's device, then moved."""
    return low + (high - low) * draw(torch.rand, (n, *shape), generator=generator, device=device)


def _coin(n: int, p: float, generator, device) -> torch.Tensor:
    """``(n,)`` booleans, each True with probability ``p``."""
    return _uniform(n, 0.0, 1.0, generator, device) < p


def _where(mask: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image choice: ``a[i]`` where ``mask[i]`` else ``b[i]``."""
    return torch.where(mask.view(-1, 1, 1, 1), a, b)


def to_tensor_images(images, device=None, dtype=torch.float32) -> torch.Tensor:
    """Loader images uint8 ``(N, H, W, 3)`` -> float ``(N, 3, H, W)`` in [0, 1], on ``device``.

    The uint8 -> float conversion happens on ``device``: moving uint8 to the GPU moves 4x fewer bytes.
    """
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"to_tensor_images: expected a uint8 array (N, H, W, 3), got {type(images).__name__}")
    if images.dim() != 4 or images.shape[-1] != 3:
        raise ValueError(f"to_tensor_images: expected shape (N, H, W, 3) as minissl.data.cifar10 returns, "
                         f"got {tuple(images.shape)}")
    if images.dtype != torch.uint8:
        raise TypeError(f"to_tensor_images: expected dtype uint8 (values 0..255), got {images.dtype}")
    images = images.to(device) if device is not None else images
    return images.permute(0, 3, 1, 2).to(dtype).div_(255.0).contiguous()


# ------------------------------------------------------------------------------------------ geometry
def crop_boxes(batch: int, height: int, width: int, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
               generator=None, device=None, tries: int = 10) -> torch.Tensor:
    """Random boxes ``(B, 4)`` as ``(x0, y0, w, h)`` in fractions of the image width and height.

    Each box covers a fraction of the image area drawn uniformly from ``scale`` and has an aspect ratio w/h
    drawn log-uniformly from ``ratio`` (Szegedy et al., 2015). As in torchvision, a box that does not fit is
    redrawn (``tries`` times, all drawn at once); an image with no fitting box gets the whole image.
    """
    if not (0 < scale[0] <= scale[1] <= 1):
        raise ValueError(f"random_resized_crop: scale must satisfy 0 < low <= high <= 1, got {scale}")
    if not (0 < ratio[0] <= ratio[1]):
        raise ValueError(f"random_resized_crop: ratio must satisfy 0 < low <= high, got {ratio}")
    device = device or torch.device("cpu")
    area = _uniform(batch, scale[0], scale[1], generator, device, (tries,))
    log_r = _uniform(batch, math.log(ratio[0]), math.log(ratio[1]), generator, device, (tries,))
    aspect = log_r.exp() * height / width  # w/h in pixels -> w_frac/h_frac
    w = (area * aspect).sqrt()  # fractions of the width / height: w * h = area (as a fraction of H*W)
    h = (area / aspect).sqrt()
    ok = (w <= 1) & (h <= 1)
    first = ok.float().argmax(dim=1, keepdim=True)  # first try that fits (0 if none does)
    w = torch.where(ok.any(1), w.gather(1, first).squeeze(1), torch.ones(batch, device=device))
    h = torch.where(ok.any(1), h.gather(1, first).squeeze(1), torch.ones(batch, device=device))
    x0 = _uniform(batch, 0.0, 1.0, generator, device) * (1 - w)
    y0 = _uniform(batch, 0.0, 1.0, generator, device) * (1 - h)
    return torch.stack([x0, y0, w, h], dim=1)


def crop_and_resize(images: torch.Tensor, boxes: torch.Tensor, size, flip: torch.Tensor | None = None,
                    mode: str = "bilinear") -> torch.Tensor:
    """Cut box ``i`` out of image ``i`` and resample it to ``size`` (int or (h, w)): one ``grid_sample`` call.

    ``boxes`` ``(B, 4)`` are ``(x0, y0, w, h)`` in fractions of the image. Each output pixel is an affine
    function of the box: ``x_in = cx + w * x_out`` in the [-1, 1] coordinates of ``F.affine_grid``. A
    mirrored crop (``flip[i]`` True) is the same box with ``-w``: flipping costs nothing extra.
    """
    check_images(images, "crop_and_resize", rgb=True)
    out_h, out_w = (size, size) if isinstance(size, int) else tuple(size)
    b = images.shape[0]
    x0, y0, w, h = boxes.to(images.device, torch.float32).unbind(1)
    cx, cy = 2 * x0 + w - 1, 2 * y0 + h - 1  # box centres in [-1, 1]
    sx = w if flip is None else torch.where(flip.to(images.device), -w, w)
    theta = torch.zeros(b, 2, 3, device=images.device)
    theta[:, 0, 0], theta[:, 0, 2] = sx, cx
    theta[:, 1, 1], theta[:, 1, 2] = h, cy
    grid = F.affine_grid(theta, [b, 3, out_h, out_w], align_corners=False).to(images.dtype)
    return grid_sample_images(images, grid, mode)


def grid_sample_images(images: torch.Tensor, grid: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """``F.grid_sample`` with border padding; float16/bfloat16 images are sampled in float32 (not every
    backend has a half-precision kernel) and returned in their dtype."""
    dtype = images.dtype
    work = images if dtype in (torch.float32, torch.float64) else images.float()
    out = F.grid_sample(work, grid.to(work.dtype), mode=mode, padding_mode="border", align_corners=False)
    return out.to(dtype).clamp_(0.0, 1.0)


def random_resized_crop(images: torch.Tensor, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                        generator=None) -> torch.Tensor:
    """A random box of every image, resized to ``size``: ``(B, 3, H, W)`` -> ``(B, 3, size, size)``.

    Area fraction in ``scale`` (0.08-1 in SimCLR), aspect ratio in ``ratio`` (3/4-4/3), bilinear resampling.
    Strong shrinking (say 224 px -> 32 px) aliases a little, as bilinear resizing without antialiasing does.
    """
    check_images(images, "random_resized_crop", rgb=True)
    b, _, height, width = images.shape
    boxes = crop_boxes(b, height, width, scale, ratio, generator, images.device)
    return crop_and_resize(images, boxes, size)


def random_horizontal_flip(images: torch.Tensor, p: float = 0.5, generator=None) -> torch.Tensor:
    """Mirror each image left-right with probability ``p``."""
    check_images(images, "random_horizontal_flip", rgb=True)
    _check_p(p, "random_horizontal_flip")
    flip = _coin(images.shape[0], p, generator, images.device)
    return _where(flip, images.flip(-1), images)


# ------------------------------------------------------------------------------------------- colour
def grayscale(images: torch.Tensor) -> torch.Tensor:
    """Luma ``(B, 1, H, W)`` = 0.299 R + 0.587 G + 0.114 B."""
    r, g, b = images.unbind(1)
    return (_LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b).unsqueeze(1)


def adjust_brightness(images: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Multiply every pixel of image i by ``factor[i]`` (``(B,)``), clamp to [0, 1]."""
    return (images * factor.view(-1, 1, 1, 1)).clamp(0.0, 1.0)


def adjust_contrast(images: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Blend image i with its mean grey level: ``mean + factor[i] * (x - mean)``, clamp to [0, 1]."""
    mean = grayscale(images).mean(dim=(1, 2, 3), keepdim=True)
    return (mean + factor.view(-1, 1, 1, 1) * (images - mean)).clamp(0.0, 1.0)


def adjust_saturation(images: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Blend image i with its own grayscale version: ``gray + factor[i] * (x - gray)``, clamp to [0, 1]."""
    gray = grayscale(images)
    return (gray + factor.view(-1, 1, 1, 1) * (images - gray)).clamp(0.0, 1.0)


def rgb_to_hsv(images: torch.Tensor) -> torch.Tensor:
    """``(B, 3, H, W)`` RGB in [0, 1] -> HSV, each channel in [0, 1] (hue as a fraction of a full turn)."""
    r, g, b = images.unbind(1)
    maxc, _ = images.max(dim=1)
    minc, _ = images.min(dim=1)
    delta = maxc - minc
    safe = torch.where(delta > 0, delta, torch.ones_like(delta))
    hue = torch.where(maxc == r, (g - b) / safe,
                      torch.where(maxc == g, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe))
    hue = torch.where(delta > 0, (hue / 6.0) % 1.0, torch.zeros_like(hue))
    safe_max = torch.where(maxc > 0, maxc, torch.ones_like(maxc))
    sat = torch.where(maxc > 0, delta / safe_max, torch.zeros_like(maxc))
    return torch.stack([hue, sat, maxc], dim=1)


def hsv_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_hsv` (the standard piecewise-linear formula, written without branches)."""
    h, s, v = hsv.unbind(1)
    # channel c = v - v s clamp(min(k, 4 - k), 0, 1) with k = (n + 6h) mod 6 and n = 5, 3, 1 for r, g, b
    n = torch.tensor([5.0, 3.0, 1.0], device=hsv.device, dtype=hsv.dtype).view(1, 3, 1, 1)
    k = (n + 6.0 * h.unsqueeze(1)) % 6.0
    ramp = torch.minimum(k, 4.0 - k).clamp(0.0, 1.0)
    return v.unsqueeze(1) * (1.0 - s.unsqueeze(1) * ramp)


def adjust_hue(images: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate the hue of image i by ``shift[i]`` turns (``(B,)``, in [-0.5, 0.5])."""
    hsv = rgb_to_hsv(images)
    hue = (hsv[:, 0] + shift.view(-1, 1, 1)) % 1.0
    return hsv_to_rgb(torch.stack([hue, hsv[:, 1], hsv[:, 2]], dim=1)).clamp(0.0, 1.0)


def color_jitter(images: torch.Tensor, brightness: float = 0.4, contrast: float = 0.4,
                 saturation: float = 0.4, hue: float = 0.1, p: float = 0.8, generator=None,
                 random_order: bool = True) -> torch.Tensor:
    """With probability ``p`` per image, change brightness, contrast, saturation and hue by random amounts.

    Factors are drawn per image: brightness, contrast and saturation uniformly in ``[max(0, 1 - s), 1 + s]``
    for strength ``s``, the hue shift uniformly in ``[-hue, hue]`` turns (``hue <= 0.5``). Like torchvision,
    the four operations are applied in a random order, chosen per image (``random_order=False``: always
    brightness, contrast, saturation, hue). The per-image order needs no loop over images: at each of the
    four positions, each operation runs once on the images whose order puts it there.
    """
    check_images(images, "color_jitter", rgb=True)
    _check_p(p, "color_jitter")
    for name, value in (("brightness", brightness), ("contrast", contrast), ("saturation", saturation)):
        if value < 0:
            raise ValueError(f"color_jitter: {name} must be >= 0, got {value}")
    if not 0 <= hue <= 0.5:
        raise ValueError(f"color_jitter: hue must be in [0, 0.5] (a fraction of a turn), got {hue}")
    b, device = images.shape[0], images.device
    factors = [
        _uniform(b, max(0.0, 1 - brightness), 1 + brightness, generator, device),
        _uniform(b, max(0.0, 1 - contrast), 1 + contrast, generator, device),
        _uniform(b, max(0.0, 1 - saturation), 1 + saturation, generator, device),
        _uniform(b, -hue, hue, generator, device),
    ]
    apply = _coin(b, p, generator, device)
    ops = [adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue]
    if random_order:
        order = _uniform(b, 0.0, 1.0, generator, device, (4,)).argsort(dim=1)  # a permutation per image
    else:
        order = torch.arange(4, device=device).expand(b, 4)
    strengths = (brightness, contrast, saturation, hue)
    out = images.clone()
    for position in range(4):
        for i, op in enumerate(ops):
            if strengths[i] == 0:
                continue
            chosen = (order[:, position] == i).nonzero().squeeze(1)  # images whose order has op i here
            out[chosen] = op(out[chosen], factors[i][chosen].to(out.dtype))
    return _where(apply, out, images)


def random_grayscale(images: torch.Tensor, p: float = 0.2, generator=None) -> torch.Tensor:
    """Replace each image by its grayscale version (copied to 3 channels) with probability ``p``."""
    check_images(images, "random_grayscale", rgb=True)
    _check_p(p, "random_grayscale")
    gray = _coin(images.shape[0], p, generator, images.device)
    return _where(gray, grayscale(images).expand_as(images), images)


def random_solarize(images: torch.Tensor, threshold: float = 0.5, p: float = 0.2,
                    generator=None) -> torch.Tensor:
    """With probability ``p`` per image, invert every pixel value above ``threshold`` (BYOL, DINO)."""
    check_images(images, "random_solarize", rgb=True)
    _check_p(p, "random_solarize")
    flip = _coin(images.shape[0], p, generator, images.device)
    solarized = torch.where(images >= threshold, 1.0 - images, images)
    return _where(flip, solarized, images)


def gaussian_blur(images: torch.Tensor, kernel_size: int | None = None, sigma=(0.1, 2.0), p: float = 0.5,
                  generator=None) -> torch.Tensor:
    """With probability ``p`` per image, blur it with a Gaussian of standard deviation drawn from ``sigma``.

    ``kernel_size`` (odd) defaults to about 10% of the image side, at least 3, as in SimCLR. Every image has
    its own kernel: the blur is two 1-D convolutions (rows, then columns) with ``groups = 3 B``, one kernel
    per image and channel, and reflect padding at the borders. ``sigma`` is in pixels.
    """
    check_images(images, "gaussian_blur", rgb=True)
    _check_p(p, "gaussian_blur")
    b, c, height, width = images.shape
    if kernel_size is None:
        kernel_size = max(3, int(0.1 * min(height, width)) // 2 * 2 + 1)
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"gaussian_blur: kernel_size must be a positive odd int, got {kernel_size}")
    if not 0 < sigma[0] <= sigma[1]:
        raise ValueError(f"gaussian_blur: sigma must satisfy 0 < low <= high, got {sigma}")
    blur = _coin(b, p, generator, images.device)
    std = _uniform(b, sigma[0], sigma[1], generator, images.device)
    radius = kernel_size // 2
    offsets = torch.arange(-radius, radius + 1, device=images.device, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (offsets / std.view(-1, 1)) ** 2)
    kernel = kernel / kernel.sum(dim=1, keepdim=True)
    kernel = kernel.repeat_interleave(c, dim=0).to(images.dtype)  # (3B, k): one kernel per image and channel
    x = images.reshape(1, b * c, height, width)
    pad_mode = "reflect" if radius < min(height, width) else "replicate"
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode=pad_mode), kernel.view(b * c, 1, 1, -1), groups=b * c)
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode=pad_mode), kernel.view(b * c, 1, -1, 1), groups=b * c)
    return _where(blur, x.view(b, c, height, width).clamp(0.0, 1.0), images)
