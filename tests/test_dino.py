"""Unit tests for the DINO chapter: the loss (a value by hand, no view paired with itself, no gradient into
the teacher, the centre update, errors), the EMA teacher, the head, the ViT (shapes, patchify, errors) and
multi-crop."""

import math

import pytest
import torch
import torch.nn.functional as F

from minissl.augment import MultiCrop
from minissl.ema import EMA, cosine_momentum, ema_update, frozen_copy
from minissl.losses import collapse_metrics, dino_loss, teacher_probs, update_center
from minissl.models import DINOHead, ViT, patchify


def _views(n_views, B=4, K=6, seed=0, requires_grad=False):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, K, generator=g).requires_grad_(requires_grad) for _ in range(n_views)]


# ---------------------------------------------------------------- loss


def test_loss_value_by_hand():
    # B = 1, K = 2, one teacher view, two student views; only the pair (teacher 0, student 1) counts.
    t = torch.tensor([[1.0, 0.0]])
    s0 = torch.tensor([[5.0, -5.0]])  # the same crop as teacher view 0: must be ignored
    s1 = torch.tensor([[0.2, 0.0]])
    c = torch.tensor([[0.5, 0.5]])
    tt, ts = 0.5, 0.1
    e = math.exp
    p_t = [e(0.5 / tt) / (e(0.5 / tt) + e(-0.5 / tt)), e(-0.5 / tt) / (e(0.5 / tt) + e(-0.5 / tt))]
    z = e(0.2 / ts) + e(0.0 / ts)
    log_s = [math.log(e(0.2 / ts) / z), math.log(e(0.0 / ts) / z)]
    expected = -(p_t[0] * log_s[0] + p_t[1] * log_s[1])
    got = dino_loss([s0, s1], [t], c, student_temp=ts, teacher_temp=tt)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_loss_matches_explicit_double_loop():
    s, t, c = _views(6, seed=1), _views(2, seed=2), torch.randn(1, 6)
    terms = []
    for ti in range(2):
        p = F.softmax((t[ti] - c) / 0.04, dim=-1)
        for si in range(6):
            if si != ti:
                terms.append(-(p * F.log_softmax(s[si] / 0.1, dim=-1)).sum(-1).mean())
    torch.testing.assert_close(dino_loss(s, t, c), torch.stack(terms).mean())
    assert len(terms) == 2 * 6 - 2


def test_a_view_is_never_paired_with_itself():
    # student view 0 is the same crop as teacher view 0: its gradient must not depend on teacher view 0
    s, t, c = _views(4, seed=3), _views(2, seed=4), torch.zeros(1, 6)
    s_grad = [v.clone().requires_grad_(True) for v in s]
    dino_loss(s_grad, t, c).backward()
    g0 = s_grad[0].grad.clone()
    t_changed = [t[0] + 100 * torch.randn_like(t[0]), t[1]]  # only teacher view 0 changes
    s_grad2 = [v.clone().requires_grad_(True) for v in s]
    dino_loss(s_grad2, t_changed, c).backward()
    torch.testing.assert_close(s_grad2[0].grad, g0)  # student view 0 never sees teacher view 0
    assert not torch.allclose(s_grad2[1].grad, s_grad[1].grad)  # student view 1 does


def test_teacher_and_centre_get_no_gradient():
    s = _views(3, requires_grad=True)
    t = _views(2, seed=5, requires_grad=True)
    c = torch.zeros(1, 6, requires_grad=True)
    dino_loss(s, t, c).backward()
    assert all(v.grad is None for v in t)
    assert c.grad is None
    assert all(v.grad is not None for v in s)


def test_identical_teacher_outputs_give_uniform_targets_and_ln_k():
    K = 8
    t = [torch.ones(4, K) * 3.0, torch.ones(4, K) * 3.0]  # a collapsed teacher: the same logit everywhere
    p = teacher_probs(t[0], torch.zeros(1, K))
    torch.testing.assert_close(p, torch.full((4, K), 1 / K))
    s = [torch.zeros(4, K) for _ in range(2)]  # a uniform student
    assert dino_loss(s, t, torch.zeros(1, K)).item() == pytest.approx(math.log(K), rel=1e-6)
    m = collapse_metrics(t, torch.zeros(1, K))
    assert m["entropy"] == pytest.approx(math.log(K), rel=1e-5)


def test_update_center():
    c = torch.zeros(1, 3)
    t = [torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]), torch.tensor([[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]])]
    new = update_center(c, t, momentum=0.9)
    assert new.shape == (1, 3)
    torch.testing.assert_close(new, torch.full((1, 3), 0.2))
    torch.testing.assert_close(update_center(new, t, momentum=1.0), new)  # momentum 1: unchanged
    torch.testing.assert_close(update_center(new, t[0], momentum=0.0), torch.full((1, 3), 2.0))


def test_loss_errors():
    s, t, c = _views(3), _views(2), torch.zeros(1, 6)
    with pytest.raises(ValueError, match=r"student_out\[2\] has shape \(4, 5\), expected \(B, K\) = \(4, 6\); every"):
        dino_loss(s[:2] + [torch.zeros(4, 5)], t, c)
    with pytest.raises(ValueError, match=r"student_out\[2\] has shape \(3, 6\), expected \(B, K\) = \(4, 6\)"):
        dino_loss(s[:2] + [torch.zeros(3, 6)], t, c)
    with pytest.raises(ValueError, match=r"teacher_out\[1\] has shape \(4,\), expected \(B, K\)"):
        dino_loss(s, [t[0], torch.zeros(4)], c)
    with pytest.raises(ValueError, match=r"center has shape \(1, 5\), expected \(1, K\) = \(1, 6\)"):
        dino_loss(s, t, torch.zeros(1, 5))
    torch.testing.assert_close(dino_loss(s, t, torch.zeros(6)), dino_loss(s, t, c))  # a (K,) centre is fine
    with pytest.raises(TypeError, match="student_out and teacher_out must be lists"):
        dino_loss(torch.zeros(4, 6), t, c)
    with pytest.raises(TypeError, match="floating-point"):
        dino_loss(s, [v.long() for v in t], c)
    with pytest.raises(ValueError, match="teacher_out is empty"):
        dino_loss(s, [], c)
    with pytest.raises(ValueError, match="1 student views for 1 teacher views"):
        dino_loss(s[:1], t[:1], c)  # the only pair would be a view with itself
    with pytest.raises(ValueError, match="2 student views for 3 teacher views"):
        dino_loss(s[:2], s, c)
    with pytest.raises(ValueError, match="teacher_temp must be > 0, got 0.0"):
        dino_loss(s, t, c, teacher_temp=0.0)
    with pytest.raises(ValueError, match="student_temp must be > 0"):
        dino_loss(s, t, c, student_temp=-1.0)
    with pytest.raises(ValueError, match=r"update_center: teacher_out\[0\] has shape \(4, 5\), expected"):
        update_center(c, [torch.zeros(4, 5)])
    with pytest.raises(ValueError, match="momentum"):
        update_center(c, t, momentum=1.5)
    with pytest.raises(ValueError, match=r"collapse_metrics: center has shape \(2, 6\)"):
        collapse_metrics(t, torch.zeros(2, 6))


# ---------------------------------------------------------------- EMA


def _tiny():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))


def test_ema_moves_towards_the_student():
    student = _tiny()
    teacher = EMA(student)
    assert all(not p.requires_grad for p in teacher.model.parameters())
    before = [p.clone() for p in teacher.model.parameters()]
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)
    teacher.update(student, 0.9)
    for b, t, s in zip(before, teacher.model.parameters(), student.parameters()):
        torch.testing.assert_close(t, 0.9 * b + 0.1 * s)
        assert (s - t).abs().max() < (s - b).abs().max()  # closer to the student than before


def test_ema_momentum_one_freezes_and_zero_copies():
    student = _tiny()
    teacher = frozen_copy(student)
    before = [p.clone() for p in teacher.parameters()]
    with torch.no_grad():
        for p in student.parameters():
            p.mul_(-2.0).add_(0.5)
    ema_update(teacher, student, 1.0)
    for b, t in zip(before, teacher.parameters()):
        torch.testing.assert_close(t, b)
    ema_update(teacher, student, 0.0)
    for s, t in zip(student.parameters(), teacher.parameters()):
        torch.testing.assert_close(t, s)


def test_ema_errors_and_schedule():
    with pytest.raises(ValueError, match="momentum"):
        ema_update(_tiny(), _tiny(), 1.5)
    with pytest.raises(ValueError, match="different parameters"):
        ema_update(_tiny(), torch.nn.Linear(3, 4), 0.9)
    assert cosine_momentum(0, 100, 0.99) == pytest.approx(0.99)
    assert cosine_momentum(100, 100, 0.99) == pytest.approx(1.0)
    assert cosine_momentum(50, 100, 0.99) == pytest.approx(0.995)
    with pytest.raises(ValueError, match="total_steps"):
        cosine_momentum(0, 0)


# ---------------------------------------------------------------- head and ViT


def test_dino_head_shapes_and_cosine_logits():
    head = DINOHead(16, out_dim=10, hidden_dim=32, bottleneck_dim=8)
    out = head(torch.randn(5, 16))
    assert out.shape == (5, 10)
    assert out.abs().max() <= 1.0 + 1e-5  # unit prototypes, unit bottleneck: cosine similarities
    assert not head.gain.requires_grad
    with pytest.raises(ValueError, match="DINOHead"):
        head(torch.randn(5, 15))


def test_dino_head_batch_norm_normalises_each_hidden_unit_over_the_batch():
    head = DINOHead(16, out_dim=10, hidden_dim=32, bottleneck_dim=8, nlayers=3, batch_norm=True)
    kinds = [type(m).__name__ for m in head.mlp]
    assert kinds == ["Linear", "BatchNorm1d", "GELU", "Linear", "BatchNorm1d", "GELU", "Linear"]
    x = 5 + 3 * torch.randn(64, 16, generator=torch.Generator().manual_seed(0))
    first = head.mlp[1](head.mlp[0](x))  # after the first BatchNorm, in training mode: batch statistics
    torch.testing.assert_close(first.mean(0), torch.zeros(32), atol=1e-5, rtol=0)
    torch.testing.assert_close(first.var(0, unbiased=False), torch.ones(32), atol=1e-2, rtol=0)  # eps = 1e-5
    out = head(x)
    assert out.shape == (64, 10) and out.abs().max() <= 1.0 + 1e-5  # still cosines
    head.eval()  # running statistics: one sample alone gives the same logits as inside a batch
    torch.testing.assert_close(head(x[:1]), head(x)[:1])
    assert DINOHead(16, 10, 32, 8, nlayers=1, batch_norm=True).mlp[0].__class__.__name__ == "Linear"


def test_patchify_equals_a_strided_convolution():
    x = torch.randn(2, 3, 8, 8)
    patches = patchify(x, 4)
    assert patches.shape == (2, 4, 48)
    torch.testing.assert_close(patches[0, 1], x[0, :, 0:4, 4:8].reshape(-1))  # row by row, channel first
    conv = torch.nn.Conv2d(3, 5, kernel_size=4, stride=4)
    lin = conv.weight.reshape(5, -1)
    torch.testing.assert_close(patches @ lin.T + conv.bias, conv(x).flatten(2).transpose(1, 2))
    with pytest.raises(ValueError, match="patch_size"):
        patchify(torch.randn(1, 3, 10, 10), 4)


def test_vit_shapes_other_sizes_and_attention():
    vit = ViT(image_size=16, patch_size=4, n_embd=24, depth=2, n_head=3)
    x = torch.rand(3, 3, 16, 16)
    assert vit(x).shape == (3, 24)
    assert vit.hidden_states(x).shape == (3, 1 + 16, 24)
    assert vit(torch.rand(3, 3, 8, 8)).shape == (3, 24)  # a local crop: position embeddings resized
    assert vit(torch.rand(2, 3, 32, 32)).shape == (2, 24)
    maps = vit.attention_maps(x)
    assert maps.shape == (3, 3, 4, 4)
    assert torch.all(maps.sum((-2, -1)) <= 1 + 1e-5)


def test_vit_errors():
    with pytest.raises(ValueError, match="patch_size"):
        ViT(image_size=30, patch_size=4)
    vit = ViT(image_size=16, patch_size=4, n_embd=24, depth=1, n_head=3)
    with pytest.raises(ValueError, match="divisible"):
        vit(torch.rand(1, 3, 10, 10))
    with pytest.raises(ValueError, match="images must be"):
        vit(torch.rand(1, 16, 16, 3))
    with pytest.raises(ValueError, match="pixel_mean"):
        ViT(image_size=16, patch_size=4, n_embd=24, depth=1, n_head=3, pixel_mean=(0.5, 0.5))


# ---------------------------------------------------------------- multi-crop


def test_multicrop_views():
    mc = MultiCrop(global_size=16, local_size=8, n_local=3)
    x = torch.rand(4, 3, 32, 32)
    views = mc(x, torch.Generator().manual_seed(0))
    assert len(views) == 5
    assert [tuple(v.shape) for v in views] == [(4, 3, 16, 16)] * 2 + [(4, 3, 8, 8)] * 3
    assert all(v.min() >= 0 and v.max() <= 1 for v in views)
    again = mc(x, torch.Generator().manual_seed(0))
    torch.testing.assert_close(views[3], again[3])  # reproducible from the generator
    with pytest.raises(ValueError, match="n_local"):
        MultiCrop(n_local=-1)
    with pytest.raises(ValueError, match="float tensor"):
        mc(torch.zeros(4, 32, 32, 3, dtype=torch.uint8))
