"""Pretext tasks for images: labels made from the images themselves, no human in the loop.

Built in chapter 1, *Labels from the data itself* (``notebooks/01_labels_from_data.ipynb``), section
*Two pretext tasks, cell by cell*. Each function takes a batch of images ``(B, C, H, W)`` and returns a new
input and the target that the network must predict from it:

* :func:`rotate_batch`: rotate each image by 0, 90, 180 or 270 degrees; the target is which one
  (a 4-way classification, Gidaris et al., 2018).
* :func:`hide_patch`: blank out a random square of each image; the target is the hidden pixels
  (a small context encoder, Pathak et al., 2016).

Both draw their randomness from an optional ``torch.Generator``, so the same seed gives the same batch.
"""

from __future__ import annotations

import torch

from minissl.utils import check_images, draw

ROTATIONS = (0, 90, 180, 270)  # degrees, counter-clockwise; rotation label k means ROTATIONS[k]


def rotate_batch(images: torch.Tensor, generator: torch.Generator | None = None):
    """Rotate each image by a random multiple of 90 degrees.

    Args:
        images: ``(B, C, H, W)`` with ``H == W`` (a rotated square stays the same shape).
        generator: the random stream for the choice of rotations (default: torch's global one).

    Returns:
        ``(rotated, labels)``: ``rotated`` ``(B, C, H, W)``, where image ``i`` is ``images[i]`` turned
        counter-clockwise by ``90 * labels[i]`` degrees; ``labels`` ``(B,)`` int64 in ``{0, 1, 2, 3}``.
    """
    check_images(images, "rotate_batch")
    if images.shape[-1] != images.shape[-2]:
        raise ValueError(
            f"rotate_batch: images must be square to rotate by 90 degrees, got H x W = "
            f"{images.shape[-2]} x {images.shape[-1]}; crop them to a square first"
        )
    labels = draw(torch.randint, len(ROTATIONS), (images.shape[0],), generator=generator, device=images.device)
    all_four = torch.stack([torch.rot90(images, k, dims=(2, 3)) for k in range(len(ROTATIONS))])  # (4, B, C, H, W)
    rotated = all_four[labels, torch.arange(images.shape[0], device=images.device)]
    return rotated, labels


def hide_patch(images: torch.Tensor, patch_size: int, generator: torch.Generator | None = None,
               fill: float = 0.0):
    """Hide one random ``patch_size x patch_size`` square of each image (every channel).

    Args:
        images: ``(B, C, H, W)``.
        patch_size: side of the hidden square, ``1 <= patch_size <= min(H, W)``.
        generator: the random stream for the positions (default: torch's global one).
        fill: the value written into the hidden square (0: black, the background of the digits).

    Returns:
        ``(masked, mask)``: ``masked`` ``(B, C, H, W)`` is ``images`` with the square set to ``fill``;
        ``mask`` ``(B, 1, H, W)`` bool is True on the hidden pixels. The target is ``images`` where ``mask``
        is True, e.g. ``((prediction - images) ** 2)[mask.expand_as(images)].mean()``.
    """
    check_images(images, "hide_patch")
    height, width = images.shape[-2:]
    if not isinstance(patch_size, int) or not 1 <= patch_size <= min(height, width):
        raise ValueError(
            f"hide_patch: patch_size must be an int from 1 to {min(height, width)} (the image is "
            f"{height} x {width}), got {patch_size!r}"
        )
    batch, device = images.shape[0], images.device
    top = draw(torch.randint, height - patch_size + 1, (batch, 1, 1), generator=generator, device=device)  # (B, 1, 1)
    left = draw(torch.randint, width - patch_size + 1, (batch, 1, 1), generator=generator, device=device)
    rows = torch.arange(height, device=device)[None, :, None]  # (1, H, 1)
    cols = torch.arange(width, device=device)[None, None, :]  # (1, 1, W)
    mask = (rows >= top) & (rows < top + patch_size) & (cols >= left) & (cols < left + patch_size)  # (B, H, W)
    mask = mask[:, None]  # (B, 1, H, W)
    return images.masked_fill(mask, fill), mask
