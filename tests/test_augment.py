"""Unit tests for minissl.augment: shapes, value range, determinism with a seed, CUDA when present."""

import math

import numpy as np
import pytest
import torch

from minissl import augment as A


def _images(b=6, h=32, w=32, seed=0):
    return torch.rand(b, 3, h, w, generator=torch.Generator().manual_seed(seed))


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


ALL = {
    "crop": lambda x, g: A.random_resized_crop(x, 24, generator=g),
    "flip": lambda x, g: A.random_horizontal_flip(x, generator=g),
    "jitter": lambda x, g: A.color_jitter(x, 0.4, 0.4, 0.4, 0.1, p=0.8, generator=g),
    "gray": lambda x, g: A.random_grayscale(x, p=0.5, generator=g),
    "blur": lambda x, g: A.gaussian_blur(x, p=0.5, generator=g),
    "solarize": lambda x, g: A.random_solarize(x, p=0.5, generator=g),
    "simclr": lambda x, g: A.SimCLRAugment(size=24, blur_p=0.5)(x, g),
}


@pytest.mark.parametrize("name", sorted(ALL))
def test_shape_range_and_seed(name):
    x = _images()
    out = ALL[name](x, _gen(1))
    size = 24 if name in ("crop", "simclr") else 32
    assert out.shape == (6, 3, size, size) and out.dtype == x.dtype
    assert out.min() >= 0 and out.max() <= 1
    torch.testing.assert_close(out, ALL[name](x, _gen(1)), rtol=0, atol=0)  # same seed, same views
    assert not torch.equal(out, ALL[name](x, _gen(2))) or name == "flip"  # another seed, other views
    assert torch.equal(x, _images())  # the input is never modified in place


def test_to_tensor_images():
    raw = np.random.default_rng(0).integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
    x = A.to_tensor_images(raw)
    assert x.shape == (4, 3, 32, 32) and x.dtype == torch.float32
    assert x[1, 2, 3, 4].item() == pytest.approx(raw[1, 3, 4, 2] / 255)
    with pytest.raises(TypeError, match="uint8"):
        A.to_tensor_images(raw.astype(np.float32))
    with pytest.raises(ValueError, match="N, H, W, 3"):
        A.to_tensor_images(raw.transpose(0, 3, 1, 2))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="B, 3, H, W"):
        A.random_grayscale(torch.rand(3, 32, 32))
    with pytest.raises(TypeError, match="float"):
        A.random_horizontal_flip(torch.zeros(2, 3, 8, 8, dtype=torch.uint8))
    with pytest.raises(ValueError, match="p must be"):
        A.random_grayscale(_images(), p=1.5)
    with pytest.raises(ValueError, match="kernel_size"):
        A.gaussian_blur(_images(), kernel_size=4)
    with pytest.raises(ValueError, match="scale"):
        A.random_resized_crop(_images(), 32, scale=(0.5, 0.1))


def test_crop_geometry():
    x = _images(4)
    whole = torch.tensor([[0.0, 0.0, 1.0, 1.0]]).repeat(4, 1)
    torch.testing.assert_close(A.crop_and_resize(x, whole, 32), x)  # the whole box at the same size: identity
    mirrored = A.crop_and_resize(x, whole, 32, flip=torch.ones(4, dtype=torch.bool))
    torch.testing.assert_close(mirrored, x.flip(-1))
    # the left half, resampled to 16 x 32 pixels: exactly the left 16 columns
    left = torch.tensor([[0.0, 0.0, 0.5, 1.0]]).repeat(4, 1)
    torch.testing.assert_close(A.crop_and_resize(x, left, (32, 16)), x[..., :16])
    boxes = A.crop_boxes(10_000, 32, 32, generator=_gen())
    x0, y0, w, h = boxes.unbind(1)
    assert (x0 >= 0).all() and (y0 >= 0).all() and (x0 + w <= 1 + 1e-6).all() and (y0 + h <= 1 + 1e-6).all()
    area, ratio = w * h, w / h
    assert area.min() >= 0.08 - 1e-6 and area.max() <= 1 + 1e-6
    assert ratio.min() >= 3 / 4 - 1e-4 and ratio.max() <= 4 / 3 + 1e-4
    # area drawn uniformly in [0.08, 1] (mean 0.54), but large boxes with a far-from-square shape do not fit
    # and are redrawn, as in torchvision: the mean area of the boxes kept is a little lower
    assert 0.44 < area.mean().item() < 0.54


def test_probabilities_are_respected():
    x = _images(2000, 8, 8)
    gray = A.random_grayscale(x, p=0.2, generator=_gen())
    is_gray = (gray[:, 0] == gray[:, 1]).flatten(1).all(1)
    assert abs(is_gray.float().mean().item() - 0.2) < 0.03
    flipped = A.random_horizontal_flip(x, p=0.5, generator=_gen())
    assert abs((flipped != x).flatten(1).any(1).float().mean().item() - 0.5) < 0.04
    jit = A.color_jitter(x, 0.4, 0.4, 0.4, 0.1, p=0.8, generator=_gen())
    assert abs((jit != x).flatten(1).any(1).float().mean().item() - 0.8) < 0.03
    assert torch.equal(A.color_jitter(x, 0.4, 0.4, 0.4, 0.1, p=0.0), x)


def test_colour_operations():
    x = _images(5)
    torch.testing.assert_close(A.hsv_to_rgb(A.rgb_to_hsv(x)), x, atol=1e-5, rtol=0)
    ones, zeros = torch.ones(5), torch.zeros(5)
    for op in (A.adjust_brightness, A.adjust_contrast, A.adjust_saturation):
        torch.testing.assert_close(op(x, ones), x)  # factor 1 changes nothing
    torch.testing.assert_close(A.adjust_hue(x, zeros), x, atol=1e-5, rtol=0)
    gray = A.adjust_saturation(x, zeros)  # saturation 0 = grayscale
    torch.testing.assert_close(gray, A.grayscale(x).expand_as(x))
    flat = A.adjust_contrast(x, zeros)  # contrast 0 = one grey level per image
    assert flat.flatten(1).std(1).max() < 1e-6
    red = torch.zeros(1, 3, 2, 2)
    red[:, 0] = 1.0
    green = A.adjust_hue(red, torch.tensor([1 / 3]))  # a third of a turn: red -> green
    torch.testing.assert_close(green[0, :, 0, 0], torch.tensor([0.0, 1.0, 0.0]), atol=1e-5, rtol=0)


def test_blur_keeps_constant_images_and_smooths():
    const = torch.full((3, 3, 16, 16), 0.3)
    torch.testing.assert_close(A.gaussian_blur(const, p=1.0, generator=_gen()), const)
    x = _images(3, 16, 16)
    blurred = A.gaussian_blur(x, kernel_size=5, sigma=(2.0, 2.0), p=1.0)
    assert blurred.var() < 0.5 * x.var()
    torch.testing.assert_close(blurred.mean(), x.mean(), atol=0.02, rtol=0)


def test_two_views_differ_and_ablation_switches():
    aug = A.SimCLRAugment()
    x = _images(8)
    v1, v2 = aug.two_views(x, _gen())
    assert v1.shape == v2.shape == x.shape and not torch.equal(v1, v2)
    from dataclasses import replace

    identity = replace(aug, crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), flip_p=0.0, jitter_p=0.0,
                       gray_p=0.0)
    torch.testing.assert_close(identity(x, _gen()), x)


def test_half_precision_inputs():
    x = _images().to(torch.bfloat16)
    out = A.SimCLRAugment(blur_p=0.5)(x, _gen())
    assert out.dtype == torch.bfloat16 and out.shape == x.shape
    assert not math.isnan(out.float().sum().item())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    x = _images()
    for name, fn in ALL.items():
        cpu = fn(x, _gen(3))
        gpu = fn(x.cuda(), _gen(3))  # CPU generator: the same random parameters on both devices
        assert gpu.is_cuda
        torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-4, rtol=0, msg=name)


def test_draws_come_from_the_generator_on_its_device():
    from minissl.utils import draw

    expected = torch.rand(6, generator=_gen(4))
    assert torch.equal(draw(torch.rand, (6,), generator=_gen(4), device=torch.device("cpu")), expected)
    if torch.cuda.is_available():  # a CPU generator gives the same numbers for CUDA images
        on_gpu = draw(torch.rand, (6,), generator=_gen(4), device=torch.device("cuda"))
        assert on_gpu.is_cuda and torch.equal(on_gpu.cpu(), expected)
