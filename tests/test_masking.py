"""minissl.masking.mask_tokens and minissl.losses.mlm_loss: BERT's 80/10/10 recipe, exactly."""

import pytest
import torch

from minissl.losses import mlm_accuracy, mlm_loss
from minissl.masking import IGNORE_INDEX, mask_tokens

V, PAD, CLS, SEP, MASK = 50, 0, 1, 2, 3
SPECIAL = [PAD, CLS, SEP]


def batch(B=400, T=300, seed=0, n_pad=20):
    """[CLS] ordinary tokens [SEP] then n_pad paddings at the end of every row."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, V, (B, T), generator=g)
    ids[:, 0], ids[:, T - n_pad - 1] = CLS, SEP
    ids[:, T - n_pad:] = PAD
    return ids


def masked(ids, seed=0, prob=0.15):
    return mask_tokens(ids, vocab_size=V, mask_id=MASK, special_ids=SPECIAL, prob=prob,
                       generator=torch.Generator().manual_seed(seed))


def test_proportions_over_100k_tokens():
    ids = batch()  # 400 x 300 = 120k positions, 111.6k ordinary ones
    ordinary = ~torch.isin(ids, torch.tensor(SPECIAL))
    assert ordinary.sum() >= 100_000
    inputs, labels = masked(ids)
    chosen = labels != IGNORE_INDEX
    rate = chosen.sum().item() / ordinary.sum().item()
    assert abs(rate - 0.15) < 0.005, rate
    n = chosen.sum().item()
    to_mask = (inputs[chosen] == MASK).sum().item() / n
    kept = (inputs[chosen] == ids[chosen]).sum().item() / n
    # a random replacement can draw the original token back (1 in 46 here): count it as random
    changed = ((inputs[chosen] != MASK) & (inputs[chosen] != ids[chosen])).sum().item() / n
    assert abs(to_mask - 0.80) < 0.01, to_mask
    assert abs(changed - 0.10 * (1 - 1 / 46)) < 0.01, changed
    assert abs(kept - (0.10 + 0.10 / 46)) < 0.01, kept


def test_labels_are_original_tokens_at_chosen_positions_only():
    ids = batch(B=50, T=64, n_pad=10)
    inputs, labels = masked(ids, seed=3)
    chosen = labels != IGNORE_INDEX
    assert torch.equal(labels[chosen], ids[chosen])
    assert torch.equal(inputs[~chosen], ids[~chosen])  # nothing else is touched
    assert inputs.dtype == labels.dtype == torch.long and inputs.shape == labels.shape == ids.shape


def test_special_tokens_never_chosen_and_never_drawn():
    ids = batch(B=200, T=100, n_pad=30)
    for seed in range(5):
        inputs, labels = masked(ids, seed=seed, prob=0.9)
        is_special = torch.isin(ids, torch.tensor(SPECIAL))
        assert (labels[is_special] == IGNORE_INDEX).all()
        assert torch.equal(inputs[is_special], ids[is_special])
        chosen = labels != IGNORE_INDEX
        replaced = chosen & (inputs != MASK) & (inputs != ids)
        assert replaced.any()
        assert not torch.isin(inputs[replaced], torch.tensor(SPECIAL + [MASK])).any()


def test_same_generator_same_masks_and_different_seeds_differ():
    ids = batch(B=20, T=50)
    a, b, c = masked(ids, seed=7), masked(ids, seed=7), masked(ids, seed=8)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])


@pytest.mark.parametrize("bad, err, match", [
    (dict(ids=torch.rand(2, 5)), TypeError, "integer token ids"),
    (dict(ids=torch.ones(5, dtype=torch.long)), ValueError, r"\(B, T\)"),
    (dict(prob=0.0), ValueError, "prob"),
    (dict(prob=1.0), ValueError, "prob"),
    (dict(prob=-0.1), ValueError, "prob"),
    (dict(mask_id=V), ValueError, "mask_id"),
    (dict(mask_id=-1), ValueError, "mask_id"),
    (dict(ids=torch.full((2, 5), V)), ValueError, "ids must lie"),
    (dict(special_ids=[V + 3]), ValueError, "special_ids"),
])
def test_bad_input_is_a_clear_error(bad, err, match):
    kwargs = dict(ids=torch.randint(4, V, (2, 5)), vocab_size=V, mask_id=MASK, special_ids=SPECIAL, prob=0.15)
    kwargs.update(bad)
    ids = kwargs.pop("ids")
    with pytest.raises(err, match=match):
        mask_tokens(ids, **kwargs)


def test_loss_ignores_unchosen_and_padded_positions():
    torch.manual_seed(0)
    ids = batch(B=8, T=32, n_pad=12)
    inputs, labels = masked(ids, seed=1, prob=0.3)
    chosen = labels != IGNORE_INDEX
    logits = torch.randn(8, 32, V, requires_grad=True)
    loss = mlm_loss(logits, labels)
    # equal to the mean over chosen positions only
    manual = torch.nn.functional.cross_entropy(logits[chosen], labels[chosen], reduction="sum") / chosen.sum()
    torch.testing.assert_close(loss, manual)
    # changing the logits anywhere else changes nothing, and their gradient is exactly zero
    other = logits.detach().clone()
    other[~chosen] = torch.randn_like(other[~chosen]) * 10
    torch.testing.assert_close(mlm_loss(other, labels), loss.detach())
    loss.backward()
    assert (logits.grad[~chosen] == 0).all()
    assert (logits.grad[ids == PAD] == 0).all()
    # more padding does not dilute the loss (the textbook bug: averaging over B*T)
    longer = torch.cat([labels, torch.full((8, 40), IGNORE_INDEX)], dim=1)
    longer_logits = torch.cat([logits.detach(), torch.randn(8, 40, V)], dim=1)
    torch.testing.assert_close(mlm_loss(longer_logits, longer), loss.detach())


def test_loss_with_nothing_chosen_is_zero_not_nan():
    logits = torch.randn(2, 3, V, requires_grad=True)
    loss = mlm_loss(logits, torch.full((2, 3), IGNORE_INDEX))
    assert loss.item() == 0.0
    loss.backward()


def test_accuracy_counts_chosen_positions_only():
    labels = torch.tensor([[5, IGNORE_INDEX, 7, IGNORE_INDEX]])
    logits = torch.zeros(1, 4, V)
    logits[0, 0, 5] = logits[0, 2, 9] = 1.0  # right at position 0, wrong at 2; 1, 3 are ignored
    assert mlm_accuracy(logits, labels) == 0.5
