"""Image-caption pairs for CLIP-style demos: photos bundled with scikit-image, captions from OpenAI's CLIP
notebook (``notebooks/Interacting_with_CLIP.ipynb``, MIT license).

Eight pairs: enough to show zero-shot matching and retrieval, far too few to train on. The eight short
captions are quoted here (they are text, not a dataset), and the tests check them against the data mirror.
"""

from __future__ import annotations

import os

import numpy as np

CAPTIONS = {
    "page.png": "a page of text about segmentation",
    "chelsea.png": "a facial photo of a tabby cat",
    "astronaut.png": "a portrait of an astronaut with the American flag",
    "rocket.jpg": "a rocket standing on a launchpad",
    "motorcycle_right.png": "a red motorcycle standing in a garage",
    "camera.png": "a person looking at a camera on a tripod",
    "horse.png": "a black-and-white silhouette of a horse",
    "coffee.png": "a cup of coffee on a saucer",
}


def clip_captions() -> list[tuple[np.ndarray, str]]:
    """``[(image, caption), ...]`` with images uint8 ``(H, W, 3)`` RGB, read from ``skimage.data_dir``."""
    try:
        import skimage.io
        from skimage import data_dir
    except ImportError as err:
        raise ImportError("clip_captions needs scikit-image: pip install scikit-image") from err
    pairs = []
    for filename, caption in CAPTIONS.items():
        image = np.asarray(skimage.io.imread(os.path.join(data_dir, filename)))
        if image.ndim == 2:  # grayscale -> three equal channels
            image = np.repeat(image[..., None], 3, axis=-1)
        image = image[..., :3]  # drop the alpha channel of the horse silhouette
        if image.dtype != np.uint8:
            image = (255 * (image > 0)).astype(np.uint8) if image.dtype == bool else image.astype(np.uint8)
        pairs.append((image, caption))
    return pairs
