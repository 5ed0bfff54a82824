"""minissl.models.BERT: bidirectional, padding-blind, tied MLM head; SequenceClassifier on top."""

import pytest
import torch

from minissl.losses import mlm_loss
from minissl.masking import IGNORE_INDEX, mask_tokens
from minissl.models import BERT, SequenceClassifier

V, T, PAD, CLS, SEP, MASK = 40, 16, 0, 1, 2, 3


def small(**kw):
    torch.manual_seed(0)
    model = BERT(V, T, n_layer=2, n_head=2, n_embd=16, dropout=0.0, pad_id=PAD, **kw)
    return model.eval()


def padded_batch():
    ids = torch.randint(4, V, (3, T), generator=torch.Generator().manual_seed(0))
    ids[:, 0] = CLS
    lengths = [16, 10, 5]
    for b, n in enumerate(lengths):
        ids[b, n - 1] = SEP
        ids[b, n:] = PAD
    return ids, lengths


def test_shapes_and_loss():
    model = small()
    ids, _ = padded_batch()
    inputs, labels = mask_tokens(ids, vocab_size=V, mask_id=MASK, special_ids=[PAD, CLS, SEP],
                                 generator=torch.Generator().manual_seed(0))
    logits, loss = model(inputs, labels)
    assert logits.shape == (3, T, V) and loss.dim() == 0
    torch.testing.assert_close(loss, mlm_loss(logits, labels))
    assert model(inputs)[1] is None
    assert model.hidden_states(inputs).shape == (3, T, 16)


def test_weight_tying():
    model = small()
    assert model.head.decoder.weight is model.tok_emb.weight
    assert model.head.decoder.weight.data_ptr() == model.tok_emb.weight.data_ptr()
    names = [n for n, _ in model.named_parameters()]
    assert "head.decoder.weight" not in names  # counted once
    with torch.no_grad():
        model.tok_emb.weight[5].add_(1.0)
    assert torch.equal(model.head.decoder.weight[5], model.tok_emb.weight[5])
    # a gradient from the output side reaches the embedding
    model.zero_grad()
    model(torch.full((1, 4), 7))[0][0, :, 9].sum().backward()
    assert model.tok_emb.weight.grad[9].abs().sum() > 0


def test_bidirectional_every_position_sees_the_right():
    model = small()
    ids = torch.randint(4, V, (1, T), generator=torch.Generator().manual_seed(1))
    changed = ids.clone()
    changed[0, -1] = (ids[0, -1] + 1 - 4) % (V - 4) + 4
    a, b = model.hidden_states(ids), model.hidden_states(changed)
    assert not torch.allclose(a[0, 0], b[0, 0])  # the first position felt the last token


def test_padding_is_invisible():
    model = small()
    ids, lengths = padded_batch()
    out = model.hidden_states(ids)
    other = ids.clone()
    other[ids == PAD] = 17  # what sits under the padding mask must not matter...
    out2 = model.hidden_states(other, padding_mask=ids == PAD)
    for b, n in enumerate(lengths):
        torch.testing.assert_close(out[b, :n], out2[b, :n])
        # ...and a padded sequence gives what the unpadded one gives alone
        torch.testing.assert_close(out[b, :n], model.hidden_states(ids[b:b + 1, :n])[0], atol=1e-5, rtol=1e-5)


def test_loss_counts_nothing_at_padding():
    model = small()
    ids, _ = padded_batch()
    labels = torch.full_like(ids, IGNORE_INDEX)
    labels[:, 2] = ids[:, 2]
    _, loss = model(ids, labels)
    longer_ids = torch.cat([ids[:, :5], torch.full((3, 11), PAD)], dim=1)  # same first 5 tokens, more padding
    longer_labels = torch.cat([labels[:, :5], torch.full((3, 11), IGNORE_INDEX)], dim=1)
    _, loss2 = model(longer_ids, longer_labels)
    _, loss_short = model(ids[:, :5], labels[:, :5])
    torch.testing.assert_close(loss2, loss_short, atol=1e-5, rtol=1e-5)


def test_too_long_and_bad_pad_id_are_clear_errors():
    with pytest.raises(ValueError, match="block_size"):
        small().hidden_states(torch.zeros(1, T + 1, dtype=torch.long))
    with pytest.raises(ValueError, match="pad_id"):
        BERT(V, T, pad_id=V)



def test_forward_reads_no_value_back_off_the_cpu():
    """Whether a batch has padding is asked on the CPU only: a meta tensor has no values, so any read would
    raise; a GPU would stall on it."""
    model = small().to("meta")
    ids = torch.zeros(3, T, dtype=torch.long, device="meta")
    logits, _ = model(ids)
    assert logits.shape == (3, T, V) and logits.device.type == "meta"


def test_compiles_without_a_graph_break():
    model = small()
    ids, _ = padded_batch()
    compiled = torch.compile(model, backend="eager", fullgraph=True)  # fullgraph: any graph break raises
    torch.testing.assert_close(compiled(ids)[0], model(ids)[0])

def test_sequence_classifier_ignores_padding_and_trains():
    model = small()
    clf = SequenceClassifier(model, 16, num_classes=2, pad_id=PAD).eval()
    ids, lengths = padded_batch()
    logits, loss = clf(ids, torch.tensor([0, 1, 0]))
    assert logits.shape == (3, 2) and loss.dim() == 0
    alone = clf(ids[2:3, :lengths[2]])[0]
    torch.testing.assert_close(logits[2:3], alone, atol=1e-5, rtol=1e-5)
    loss.backward()
    assert model.tok_emb.weight.grad is not None  # fine-tuning reaches the encoder


def test_sequence_classifier_accepts_a_causal_encoder():
    gpt_module = pytest.importorskip("minissl.models.gpt")
    torch.manual_seed(0)
    gpt = gpt_module.GPT(V, T, n_layer=1, n_head=2, n_embd=16).eval()
    clf = SequenceClassifier(gpt, 16, num_classes=2, pad_id=PAD).eval()
    ids, lengths = padded_batch()
    logits, _ = clf(ids)
    # right padding: the causal encoder's real positions never see it, and the mean leaves it out
    torch.testing.assert_close(logits[1:2], clf(ids[1:2, :lengths[1]])[0], atol=1e-5, rtol=1e-5)


def test_masked_loss_equals_full_loss():
    model = small()
    ids, _ = padded_batch()
    inputs, labels = mask_tokens(ids, vocab_size=V, mask_id=MASK, special_ids=[PAD, CLS, SEP], prob=0.3,
                                 generator=torch.Generator().manual_seed(2))
    logits, loss = model(inputs, labels)
    fast, acc = model.masked_loss(inputs, labels)
    torch.testing.assert_close(fast, loss)
    chosen = labels != IGNORE_INDEX
    assert acc == (logits[chosen].argmax(-1) == labels[chosen]).float().mean().item()
