"""Unit tests for minissl.losses.nt_xent: a value computed by hand, symmetry, scale invariance, temperature,
random features, bad shapes."""

import math

import pytest
import torch
import torch.nn.functional as F

from minissl.losses import nt_xent, nt_xent_accuracy


def _pair(n=8, d=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)


def test_value_by_hand():
    # N = 2 images in 2-D: z1 = [a1, b1], z2 = [a2, b2], a1 = (1, 0), b1 = (0, 1), a2 = (1, 0), b2 = (-1, 0).
    # The 4 views are [a1, b1, a2, b2]; cosine similarities to the others:
    #   a1: b1 0, a2 1 (positive), b2 -1      b1: a1 0, a2 0, b2 0 (positive)
    #   a2: a1 1 (positive), b1 0, b2 -1      b2: a1 -1, b1 0 (positive), a2 -1
    t = 0.5
    e = math.exp
    l_a1 = -math.log(e(1 / t) / (e(0) + e(1 / t) + e(-1 / t)))
    l_b1 = -math.log(e(0) / (3 * e(0)))
    l_a2 = l_a1
    l_b2 = -math.log(e(0) / (e(-1 / t) + e(0) + e(-1 / t)))
    expected = (l_a1 + l_b1 + l_a2 + l_b2) / 4
    z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z2 = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    assert nt_xent(z1, z2, temperature=t).item() == pytest.approx(expected, rel=1e-6)


def test_matches_a_loop_over_anchors():
    z1, z2 = _pair(6, 5)
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n, tau, total = 6, 0.3, 0.0
    for k in range(2 * n):
        pos = (k + n) % (2 * n)
        others = [j for j in range(2 * n) if j != k]
        denom = sum(math.exp((z[k] @ z[j]).item() / tau) for j in others)
        total += -math.log(math.exp((z[k] @ z[pos]).item() / tau) / denom)
    assert nt_xent(z1, z2, tau).item() == pytest.approx(total / (2 * n), rel=1e-5)


def test_symmetric_and_scale_invariant():
    z1, z2 = _pair()
    loss = nt_xent(z1, z2)
    torch.testing.assert_close(nt_xent(z2, z1), loss)
    torch.testing.assert_close(nt_xent(3.7 * z1, 0.01 * z2), loss)  # cosine similarity ignores the length
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(nt_xent(z1[perm], z2[perm]), loss)  # the order of the images does not matter


def test_random_features_give_log_2n_minus_1():
    n = 512
    z1, z2 = _pair(n, 2048)  # random directions in high dimension: every cosine similarity near 0
    assert nt_xent(z1, z2, 0.5).item() == pytest.approx(math.log(2 * n - 1), abs=0.02)


def test_temperature():
    z = torch.randn(16, 32, generator=torch.Generator().manual_seed(0))
    noisy = z + 0.1 * torch.randn(16, 32, generator=torch.Generator().manual_seed(1))
    # perfectly aligned pairs: a lower temperature sharpens the softmax, so the loss falls towards 0
    losses = [nt_xent(z, noisy, t).item() for t in (1.0, 0.5, 0.1, 0.05)]
    assert losses == sorted(losses, reverse=True) and losses[-1] < 0.01
    # identical views at a huge temperature: every candidate looks alike -> log(2N - 1)
    assert nt_xent(z, z, 1e6).item() == pytest.approx(math.log(31), abs=1e-4)
    with pytest.raises(ValueError, match="temperature"):
        nt_xent(z, z, 0.0)


def test_gradient_flows_and_accuracy():
    z1, z2 = _pair()
    z1.requires_grad_(True)
    nt_xent(z1, z2).backward()
    assert z1.grad is not None and torch.isfinite(z1.grad).all()
    assert nt_xent_accuracy(z1.detach(), z1.detach()).item() == 1.0


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"z2 has shape \(5, 8\), expected \(N, D\) = \(4, 8\); pass the"):
        nt_xent(torch.randn(4, 8), torch.randn(5, 8))
    with pytest.raises(ValueError, match=r"z1 has shape \(4, 8, 2\), expected \(N, D\)"):
        nt_xent(torch.randn(4, 8, 2), torch.randn(4, 8, 2))
    with pytest.raises(ValueError, match="N >= 2"):
        nt_xent(torch.randn(1, 8), torch.randn(1, 8))
    with pytest.raises(TypeError, match="z1 must be a tensor"):
        nt_xent([[1.0]], torch.randn(1, 1))
    with pytest.raises(TypeError, match="floating-point"):
        nt_xent(torch.ones(4, 8, dtype=torch.long), torch.ones(4, 8, dtype=torch.long))
    with pytest.raises(ValueError, match="z2 has shape"):
        nt_xent_accuracy(torch.randn(4, 8), torch.randn(4, 7))


def test_bf16_inputs_are_computed_in_float32():
    z1, z2 = _pair()
    loss = nt_xent(z1.bfloat16(), z2.bfloat16())
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(nt_xent(z1, z2).item(), abs=0.02)
