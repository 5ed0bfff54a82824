"""Attention and the transformer block (chapter: Attention from scratch): SDPA parity, causality, KV cache."""

import math

import pytest
import torch
import torch.nn.functional as F

from minissl.nn import KVCache, MultiHeadAttention, TransformerBlock


def _reference(attn: MultiHeadAttention, x: torch.Tensor) -> torch.Tensor:
    """Attention written out with matrices: softmax(QK^T/sqrt(d) + mask) V, heads via reshapes."""
    B, T, C = x.shape
    H = attn.n_head
    q, k, v = (x @ attn.qkv.weight.T + attn.qkv.bias).split(C, dim=2)
    q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
    scores = q @ k.transpose(-2, -1) / math.sqrt(C // H)
    if attn.causal:
        scores = scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
    y = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
    return attn.proj(y)


@pytest.mark.parametrize("causal", [True, False])
def test_matches_written_out_attention_and_sdpa(causal):
    torch.manual_seed(0)
    attn = MultiHeadAttention(32, 4, causal=causal).eval()
    x = torch.randn(3, 10, 32)
    torch.testing.assert_close(attn(x), _reference(attn, x))
    q, k, v = attn.split_heads(x)
    sdpa = F.scaled_dot_product_attention(q, k, v, is_causal=causal).transpose(1, 2).reshape(3, 10, 32)
    torch.testing.assert_close(attn(x), attn.proj(sdpa))
    weights = attn.attention_weights(x)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 4, 10))
    torch.testing.assert_close(attn.proj((weights @ v).transpose(1, 2).reshape(3, 10, 32)), attn(x))


def test_causal_future_never_changes_the_past():
    torch.manual_seed(0)
    for module in (MultiHeadAttention(16, 2, causal=True), TransformerBlock(16, 2, causal=True)):
        module.eval()
        x = torch.randn(2, 12, 16)
        x2 = x.clone()
        x2[:, 7:] = torch.randn(2, 5, 16)  # change positions 7..11
        y, y2 = module(x), module(x2)
        torch.testing.assert_close(y[:, :7], y2[:, :7])
        assert not torch.allclose(y[:, 7:], y2[:, 7:])
    assert torch.all(MultiHeadAttention(16, 2, causal=True).attention_weights(x).triu(1) == 0)


def test_bidirectional_sees_the_future():
    torch.manual_seed(0)
    attn = MultiHeadAttention(16, 2, causal=False).eval()
    x = torch.randn(1, 6, 16)
    x2 = x.clone()
    x2[:, -1] += 1
    assert not torch.allclose(attn(x)[:, 0], attn(x2)[:, 0])


def test_padding_mask_hides_padded_positions():
    torch.manual_seed(0)
    attn = MultiHeadAttention(16, 2).eval()
    x = torch.randn(1, 6, 16)
    pad = torch.tensor([[False, False, False, False, True, True]])
    x2 = x.clone()
    x2[:, 4:] = torch.randn(1, 2, 16)
    torch.testing.assert_close(attn(x, pad)[:, :4], attn(x2, pad)[:, :4])


@pytest.mark.parametrize("chunks", [[1] * 9, [4, 1, 1, 3], [5, 4]])
def test_kv_cache_matches_full_pass(chunks):
    torch.manual_seed(0)
    block = TransformerBlock(16, 4, causal=True).eval()
    x = torch.randn(2, sum(chunks), 16)
    full = block(x)
    cache, outs, start = KVCache(), [], 0
    for n in chunks:
        outs.append(block(x[:, start:start + n], cache=cache))
        start += n
    assert len(cache) == x.size(1)
    torch.testing.assert_close(torch.cat(outs, dim=1), full)


def test_errors():
    with pytest.raises(ValueError, match="not divisible"):
        MultiHeadAttention(30, 4)
    with pytest.raises(ValueError, match=r"\(B, T, C\)"):
        MultiHeadAttention(16, 2)(torch.randn(4, 16))
    with pytest.raises(ValueError, match="causal"):
        MultiHeadAttention(16, 2, causal=False)(torch.randn(1, 3, 16), cache=KVCache())
