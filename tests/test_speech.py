"""The pieces of the speech chapter: span masking, the masked-prediction encoder, pooling, normalisation."""

import pytest
import torch

from minissl.audio import normalize_utterance
from minissl.losses import mlm_loss
from minissl.losses.mlm import IGNORE_INDEX
from minissl.masking import mask_spans
from minissl.models import SpeechEncoder, pool_frames


def test_mask_spans_hides_spans_inside_each_recording():
    lengths = torch.tensor([100, 40, 7])
    hidden = mask_spans(lengths, 120, prob=0.3, span=5, generator=torch.Generator().manual_seed(0))
    assert hidden.shape == (3, 120) and hidden.dtype == torch.bool
    for b, n in enumerate(lengths.tolist()):
        assert not hidden[b, n:].any()  # never the padding
        assert hidden[b, :n].any()  # at least one span
        share = hidden[b, :n].float().mean().item()
        assert share <= 0.3 + 5 / n  # about prob, never much more (spans may overlap)
    runs = torch.diff(torch.cat([torch.tensor([0]), hidden[0].int(), torch.tensor([0])])).nonzero().flatten()
    assert ((runs[1::2] - runs[::2]) >= 5).all()  # hidden frames come in runs of at least a span
    again = mask_spans(lengths, 120, prob=0.3, span=5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(hidden, again)


def test_mask_spans_errors():
    with pytest.raises(ValueError, match="lengths must lie"):
        mask_spans(torch.tensor([10, 0]), 10)
    with pytest.raises(ValueError, match="lengths must lie"):
        mask_spans(torch.tensor([11]), 10)
    with pytest.raises(ValueError, match="prob"):
        mask_spans(torch.tensor([10]), 10, prob=0.0)


def test_speech_encoder_ignores_padding_and_sees_both_sides():
    torch.manual_seed(0)
    enc = SpeechEncoder(n_mels=8, n_embd=16, n_layer=2, n_head=2, max_frames=40, n_units=5).eval()
    x = torch.randn(1, 8, 20)
    alone = enc.hidden_states(x, torch.tensor([20]))
    padded = torch.cat([x, torch.randn(1, 8, 10)], dim=2)  # 10 frames of noise after the end
    torch.testing.assert_close(enc.hidden_states(padded, torch.tensor([20]))[:, :20], alone, atol=1e-5, rtol=1e-4)
    later = x.clone()
    later[:, :, 15] += 1.0  # change a late frame: an early frame's state changes too (no causal mask)
    assert not torch.allclose(enc.hidden_states(later, torch.tensor([20]))[:, 2], alone[:, 2])
    hidden = torch.zeros(1, 20, dtype=torch.bool)
    hidden[0, 5:10] = True
    zeroed = x.clone()
    zeroed[:, :, 5:10] = 0
    torch.testing.assert_close(enc(x, torch.tensor([20]), hidden), enc(zeroed, torch.tensor([20])))
    assert enc(x, torch.tensor([20])).shape == (1, 20, 5)
    with pytest.raises(ValueError, match=r"\(B, 8, T\)"):
        enc.hidden_states(torch.randn(1, 7, 20), torch.tensor([20]))


def test_masked_unit_training_learns_a_copyable_pattern():
    # units that repeat with period 4: a hidden frame's unit can be read off its neighbours' inputs
    torch.manual_seed(0)
    enc = SpeechEncoder(n_mels=4, n_embd=32, n_layer=1, n_head=2, max_frames=32, n_units=4)
    units = torch.arange(32) % 4
    x = torch.nn.functional.one_hot(units, 4).T.float()[None].repeat(8, 1, 1)  # (8, 4, 32)
    lengths = torch.full((8,), 32)
    opt = torch.optim.Adam(enc.parameters(), lr=3e-3)
    for step in range(150):
        hidden = mask_spans(lengths, 32, prob=0.2, span=2, generator=torch.Generator().manual_seed(step))
        labels = units.repeat(8, 1).masked_fill(~hidden, IGNORE_INDEX)
        loss = mlm_loss(enc(x, lengths, hidden), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2


def test_pool_frames_averages_real_frames_in_order():
    h = torch.arange(12.0).view(1, 12, 1).repeat(2, 1, 1)  # frame t holds the value t
    out = pool_frames(h, torch.tensor([12, 4]), bins=2)
    torch.testing.assert_close(out, torch.tensor([[2.5, 8.5], [0.5, 2.5]]))


def test_normalize_utterance():
    x = torch.randn(3, 40, 50) * 5 + 2
    y = normalize_utterance(x)
    torch.testing.assert_close(y.mean(-1), torch.zeros(3, 40), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.std(-1), torch.ones(3, 40), atol=1e-3, rtol=0)
    torch.testing.assert_close(normalize_utterance(x * 10 + 3), y, atol=1e-4, rtol=1e-4)


def test_masked_unit_loss_by_hand_counts_only_hidden_frames():
    """The chapter's loss: labels are the units at hidden frames, IGNORE_INDEX elsewhere (visible and padding);
    the value is the mean of -log p(unit) over the hidden frames, computed here by hand for a 2 x 3 batch."""
    logits = torch.tensor([[[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0]],
                           [[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [5.0, 5.0, 5.0]]])  # (B=2, T=3, n_units=3)
    units = torch.tensor([[0, 1, 2], [1, 2, 0]])
    hidden = torch.tensor([[True, False, True], [False, True, False]])  # 2nd recording: frame 2 is padding
    labels = torch.where(hidden, units, torch.full_like(units, IGNORE_INDEX))
    # -log softmax by hand: [2,0,0] -> unit 0; [0,0,3] -> unit 2; [0,0,0] -> unit 2
    by_hand = (-(2 - torch.log(torch.tensor(torch.e ** 2 + 2)))
               - (3 - torch.log(torch.tensor(torch.e ** 3 + 2)))
               + torch.log(torch.tensor(3.0))) / 3
    torch.testing.assert_close(mlm_loss(logits, labels), by_hand)
    changed = logits.clone()
    changed[~hidden] = torch.randn(int((~hidden).sum()), 3) * 10  # visible and padding frames' scores
    torch.testing.assert_close(mlm_loss(changed, labels), by_hand)
