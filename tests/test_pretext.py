"""Pretext tasks of chapter 1 (minissl.pretext) and its small CNN (minissl.models.small_cnn)."""

import pytest
import torch

from minissl.models import PretextModel, SmallCNN
from minissl.pretext import ROTATIONS, hide_patch, rotate_batch


def images(b=6, c=1, h=8, w=8):
    return torch.arange(b * c * h * w, dtype=torch.float32).view(b, c, h, w)


def test_rotate_batch_matches_rot90_and_is_deterministic():
    x = images()
    rotated, labels = rotate_batch(x, torch.Generator().manual_seed(0))
    assert rotated.shape == x.shape and labels.shape == (6,) and labels.dtype == torch.long
    assert set(labels.tolist()) <= set(range(len(ROTATIONS)))
    for img, out, k in zip(x, rotated, labels.tolist()):
        torch.testing.assert_close(out, torch.rot90(img, k, dims=(1, 2)))
    again, labels2 = rotate_batch(x, torch.Generator().manual_seed(0))
    assert torch.equal(again, rotated) and torch.equal(labels2, labels)


def test_rotate_batch_label_one_is_a_counter_clockwise_quarter_turn():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])[None, None]
    all_four = torch.stack([torch.rot90(x, k, dims=(2, 3)) for k in range(4)])
    assert all_four[1, 0, 0].tolist() == [[2.0, 4.0], [1.0, 3.0]]  # top row becomes the left column, bottom up
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        rotated, k = rotate_batch(x, g)
        torch.testing.assert_close(rotated, all_four[k.item()])


def test_rotate_batch_rejects_bad_input():
    with pytest.raises(ValueError, match="square"):
        rotate_batch(torch.zeros(2, 1, 8, 6))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        rotate_batch(torch.zeros(8, 8))
    with pytest.raises(TypeError, match="torch.Tensor"):
        rotate_batch([[0.0]])


def test_hide_patch_hides_one_square_of_the_right_size():
    x = images(b=16, c=3) + 1.0  # no zeros: hidden pixels are the only zeros
    masked, mask = hide_patch(x, 3, torch.Generator().manual_seed(0))
    assert masked.shape == x.shape and mask.shape == (16, 1, 8, 8) and mask.dtype == torch.bool
    assert (mask.sum((1, 2, 3)) == 9).all()
    assert torch.equal(masked == 0, mask.expand_as(x))
    torch.testing.assert_close(masked[~mask.expand_as(x)], x[~mask.expand_as(x)])
    for m in mask[:, 0]:  # a contiguous square: its rows and columns span exactly 3
        rows, cols = m.nonzero(as_tuple=True)
        assert rows.max() - rows.min() == 2 and cols.max() - cols.min() == 2


def test_hide_patch_deterministic_and_full_size():
    x = images()
    a = hide_patch(x, 4, torch.Generator().manual_seed(3))
    b = hide_patch(x, 4, torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    masked, mask = hide_patch(x, 8)
    assert mask.all() and (masked == 0).all()


@pytest.mark.parametrize("size", [0, 9, 2.5])
def test_hide_patch_rejects_bad_sizes(size):
    with pytest.raises(ValueError, match="patch_size"):
        hide_patch(images(), size)


def test_small_cnn_shapes_and_errors():
    torch.manual_seed(0)
    encoder = SmallCNN(in_channels=1, width=8, image_size=8)
    assert encoder(torch.zeros(5, 1, 8, 8)).shape == (5, encoder.out_dim) == (5, 64)
    model = PretextModel(encoder, out_dim=4, hidden=16)
    assert model(torch.zeros(5, 1, 8, 8)).shape == (5, 4)
    with pytest.raises(ValueError, match="expected images"):
        encoder(torch.zeros(5, 8, 8))
    with pytest.raises(ValueError, match="multiple of 4"):
        SmallCNN(image_size=6)
