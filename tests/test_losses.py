"""Every loss in minissl.losses: computed in the inputs' precision (float64 stays float64, equal to a float64
reference written plainly here; half precision is raised to float32), gradients checked by
torch.autograd.gradcheck, and the shared input checks of minissl.losses._checks."""

import math

import pytest
import torch

from minissl.losses import (
    collapse_metrics,
    dino_loss,
    mlm_accuracy,
    mlm_loss,
    nt_xent,
    nt_xent_accuracy,
    teacher_probs,
    update_center,
)
from minissl.losses._checks import check_positive, check_shape, working_dtype

F64 = dict(rtol=1e-12, atol=1e-12)  # float64 agrees to ~1e-15; float32 maths would miss by ~1e-7


def _randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# ------------------------------------------------------------- plain float64 references, one loop per formula


def ref_nt_xent(z1, z2, tau):
    z = [[x / math.sqrt(sum(x * x for x in v)) for x in v] for v in torch.cat([z1, z2]).tolist()]
    n2 = len(z)
    total = 0.0
    for k in range(n2):
        sim = [sum(a * b for a, b in zip(z[k], z[j])) / tau for j in range(n2)]
        pos = (k + n2 // 2) % n2
        total += -sim[pos] + math.log(sum(math.exp(sim[j]) for j in range(n2) if j != k))
    return total / n2


def ref_softmax(row):
    m = max(row)
    e = [math.exp(x - m) for x in row]
    return [x / sum(e) for x in e]


def ref_teacher_probs(t, c, tau):
    return [ref_softmax([(x - ci) / tau for x, ci in zip(row, c[0])]) for row in t.tolist()]


def ref_dino(student, teacher, c, ts, tt):
    c = c.tolist()
    terms = []
    for ti, t in enumerate(teacher):
        for si, s in enumerate(student):
            if si == ti:
                continue
            ce = [-sum(p * math.log(q) for p, q in zip(p_row, ref_softmax([x / ts for x in s_row])))
                  for p_row, s_row in zip(ref_teacher_probs(t, c, tt), s.tolist())]
            terms.append(sum(ce) / len(ce))
    return sum(terms) / len(terms)


def ref_mlm(logits, labels):
    losses = [-math.log(ref_softmax(row)[y])
              for rows, ys in zip(logits.tolist(), labels.tolist()) for row, y in zip(rows, ys) if y != -100]
    return sum(losses) / len(losses)


def ref_entropy(p):
    return -sum(x * math.log(max(x, 1e-12)) for x in p)


# ------------------------------------------------------------- float64 in, float64 out, equal to the reference


def test_nt_xent_float64_equals_reference():
    z1, z2 = _randn(5, 7, seed=1), _randn(5, 7, seed=2)
    for tau in (0.5, 0.1):
        loss = nt_xent(z1, z2, tau)
        assert loss.dtype == torch.float64
        torch.testing.assert_close(loss, torch.tensor(ref_nt_xent(z1, z2, tau), dtype=torch.float64), **F64)
    # nearly aligned views: float32 similarities would round, the float64 accuracy must not
    z2 = z1 + 1e-9 * _randn(5, 7, seed=3)
    acc = nt_xent_accuracy(z1, z2)
    assert acc.dtype == torch.float64 and acc.item() == 1.0


def test_dino_float64_equals_reference():
    s, t, c = [_randn(3, 5, seed=i) for i in range(4)], [_randn(3, 5, seed=10 + i) for i in range(2)], _randn(1, 5)
    loss = dino_loss(s, t, c, student_temp=0.1, teacher_temp=0.04)
    assert loss.dtype == torch.float64
    torch.testing.assert_close(loss, torch.tensor(ref_dino(s, t, c, 0.1, 0.04), dtype=torch.float64), **F64)
    p = teacher_probs(t[0], c, 0.04)
    assert p.dtype == torch.float64
    torch.testing.assert_close(p, torch.tensor(ref_teacher_probs(t[0], c.tolist(), 0.04), dtype=torch.float64),
                               **F64)


def test_update_center_and_collapse_metrics_float64_equal_reference():
    c, t = _randn(1, 4, seed=5), [_randn(3, 4, seed=6), _randn(3, 4, seed=7)]
    new = update_center(c, t, momentum=0.9)
    rows = t[0].tolist() + t[1].tolist()
    mean = [sum(r[k] for r in rows) / len(rows) for k in range(4)]
    expected = [[0.9 * ci + 0.1 * mi for ci, mi in zip(c[0].tolist(), mean)]]
    assert new.dtype == torch.float64
    torch.testing.assert_close(new, torch.tensor(expected, dtype=torch.float64), **F64)
    m = collapse_metrics(t, c, teacher_temp=0.5)
    p = ref_teacher_probs(t[0], c.tolist(), 0.5) + ref_teacher_probs(t[1], c.tolist(), 0.5)
    p_mean = [sum(row[k] for row in p) / len(p) for k in range(4)]
    assert m["entropy"] == pytest.approx(sum(ref_entropy(row) for row in p) / len(p), rel=1e-12)
    assert m["entropy_of_mean"] == pytest.approx(ref_entropy(p_mean), rel=1e-12)
    assert m["distinct"] == len({max(range(4), key=row.__getitem__) for row in p})


def test_mlm_loss_float64_equals_reference():
    logits = _randn(2, 4, 6, seed=8)
    labels = torch.tensor([[3, -100, 0, 5], [-100, -100, 2, 1]])
    loss = mlm_loss(logits, labels)
    assert loss.dtype == torch.float64
    torch.testing.assert_close(loss, torch.tensor(ref_mlm(logits, labels), dtype=torch.float64), **F64)
    assert mlm_loss(logits, torch.full((2, 4), -100)).dtype == torch.float64
    assert mlm_accuracy(logits, labels) == pytest.approx(
        sum(int(logits[b, t].argmax()) == labels[b, t] for b in range(2) for t in range(4) if labels[b, t] != -100)
        / 5)


# ------------------------------------------------------------- gradcheck, every differentiable loss


def test_gradcheck_nt_xent():
    z1, z2 = _randn(3, 4, seed=1).requires_grad_(), _randn(3, 4, seed=2).requires_grad_()
    assert torch.autograd.gradcheck(nt_xent, (z1, z2, 0.5))
    assert torch.autograd.gradcheck(nt_xent, (z1, z2, 0.1))


def test_gradcheck_dino_loss():
    s = tuple(_randn(2, 5, seed=i).requires_grad_() for i in range(3))
    t, c = [_randn(2, 5, seed=10), _randn(2, 5, seed=11)], _randn(1, 5, seed=12)
    assert torch.autograd.gradcheck(lambda *views: dino_loss(list(views), t, c), s)


def test_gradcheck_mlm_loss():
    logits = _randn(2, 3, 5, seed=4).requires_grad_()
    labels = torch.tensor([[1, -100, 4], [0, 2, -100]])
    assert torch.autograd.gradcheck(lambda x: mlm_loss(x, labels), (logits,))
    assert torch.autograd.gradcheck(lambda x: mlm_loss(x, torch.full((2, 3), -100)), (logits,))


# ------------------------------------------------------------- half precision is raised to float32


@pytest.mark.parametrize("half", [torch.float16, torch.bfloat16])
def test_half_precision_is_computed_in_float32(half):
    z1, z2 = _randn(6, 8, seed=1, dtype=torch.float32), _randn(6, 8, seed=2, dtype=torch.float32)
    z1h, z2h = z1.to(half), z2.to(half)
    assert nt_xent(z1h, z2h).dtype == torch.float32
    torch.testing.assert_close(nt_xent(z1h, z2h), nt_xent(z1h.float(), z2h.float()))  # same maths after rounding
    assert nt_xent_accuracy(z1h, z2h).dtype == torch.float32
    s = [_randn(4, 6, seed=i, dtype=torch.float32).to(half) for i in range(3)]
    t, c = [v.clone() for v in s[:2]], torch.zeros(1, 6)
    loss = dino_loss(s, t, c)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, dino_loss([v.float() for v in s], [v.float() for v in t], c))
    assert teacher_probs(t[0], c.to(half)).dtype == torch.float32
    new = update_center(c.to(half), t)
    assert new.dtype == half and new.shape == (1, 6)  # the centre keeps its own dtype
    torch.testing.assert_close(update_center(c, t), update_center(c, [v.float() for v in t]))
    assert collapse_metrics(t, c)["entropy"] == pytest.approx(collapse_metrics([v.float() for v in t], c)["entropy"])
    logits, labels = _randn(2, 3, 5, dtype=torch.float32).to(half), torch.tensor([[1, -100, 4], [0, 2, -100]])
    assert mlm_loss(logits, labels).dtype == torch.float32
    torch.testing.assert_close(mlm_loss(logits, labels), mlm_loss(logits.float(), labels))
    assert mlm_loss(logits, torch.full((2, 3), -100)).dtype == torch.float32


def test_mixed_precisions_take_the_wider():
    z1 = _randn(4, 3, seed=1)
    assert nt_xent(z1.float(), z1 + 0.1).dtype == torch.float64
    s, t = [_randn(2, 3, seed=i, dtype=torch.float32) for i in range(2)], [_randn(2, 3, seed=5)]
    assert dino_loss(s, t, torch.zeros(1, 3)).dtype == torch.float64  # float64 teacher targets
    assert update_center(torch.zeros(1, 3), t).dtype == torch.float32  # returned in the centre's dtype
    assert working_dtype(torch.zeros(1, dtype=torch.long)) == torch.float32


# ------------------------------------------------------------- the shared checks


def test_check_shape_names_argument_shape_and_expectation():
    sizes = {}
    check_shape("f", "a", torch.zeros(3, 4), "N D", sizes)
    assert sizes == {"N": 3, "D": 4}
    with pytest.raises(ValueError, match=r"^f: b has shape \(3, 5\), expected \(N, D\) = \(3, 4\); do this$"):
        check_shape("f", "b", torch.zeros(3, 5), "N D", sizes, "do this")
    with pytest.raises(ValueError, match=r"^f: c has shape \(2, 4\), expected \(1, D\) = \(1, 4\)$"):
        check_shape("f", "c", torch.zeros(2, 4), "1 D", sizes)
    with pytest.raises(ValueError, match=r"expected \(N, D\) = \(3, 4\)"):
        check_shape("f", "d", torch.zeros(3, 4, 1), "N D", sizes)
    with pytest.raises(ValueError, match=r"^f: e has shape \(2,\), expected \(X, Y\)$"):
        check_shape("f", "e", torch.zeros(2), "X Y", {})
    with pytest.raises(TypeError, match=r"^f: g must be a tensor \(N, D\) = \(3, 4\), got list"):
        check_shape("f", "g", [[0.0]], "N D", sizes)
    with pytest.raises(TypeError, match="f: h must hold integer ids"):
        check_shape("f", "h", torch.zeros(3), "N", sizes, integer=True)
    with pytest.raises(TypeError, match="f: i must be a floating-point tensor, got dtype torch.int64"):
        check_shape("f", "i", torch.zeros(3, dtype=torch.long), "N", sizes)
    with pytest.raises(ValueError, match="f: tau must be > 0, got nan"):
        check_positive("f", tau=float("nan"))


def test_mlm_errors_are_named():
    logits, labels = torch.zeros(2, 3, 5), torch.zeros(2, 3, dtype=torch.long)
    with pytest.raises(ValueError, match=r"mlm_loss: labels has shape \(2, 4\), expected \(B, T\) = \(2, 3\)"):
        mlm_loss(logits, torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"mlm_loss: logits has shape \(2, 3\), expected \(B, T, V\)"):
        mlm_loss(torch.zeros(2, 3), labels)
    with pytest.raises(TypeError, match="mlm_accuracy: labels must hold integer ids"):
        mlm_accuracy(logits, labels.float())
