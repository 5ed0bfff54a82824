"""GPT (chapter: GPT from the blocks): shapes, loss at initialisation, errors, KV-cache parity, training."""

import math

import pytest
import torch

from minissl.models import GPT
from minissl.train import fit


def _model(**kw):
    torch.manual_seed(0)
    args = dict(vocab_size=50, block_size=16, n_layer=2, n_head=2, n_embd=32) | kw
    return GPT(**args)


def test_shapes_and_loss():
    model = _model()
    idx = torch.randint(0, 50, (3, 10))
    logits, loss = model(idx)
    assert logits.shape == (3, 10, 50) and loss is None
    targets = torch.randint(0, 50, (3, 10))
    _, loss = model(idx, targets)
    assert loss.dim() == 0
    assert abs(loss.item() - math.log(50)) < 0.3  # near-uniform predictions at initialisation
    assert model.hidden_states(idx).shape == (3, 10, 32)


def test_weight_tying_and_residual_init():
    model = _model(n_layer=4)
    assert model.head.weight is model.tok_emb.weight
    std = model.blocks[0].mlp.proj.weight.std().item()
    assert abs(std - 0.02 / math.sqrt(8)) < 0.002
    assert abs(model.blocks[0].mlp.fc.weight.std().item() - 0.02) < 0.002


def test_errors():
    with pytest.raises(ValueError, match="not divisible"):
        GPT(50, 16, 2, 3, 32)
    model = _model()
    with pytest.raises(ValueError, match="block_size=16"):
        model(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\[0, 50\)"):
        model(torch.tensor([[1, 50]]))
    with pytest.raises(ValueError, match=r"\[0, 50\)"):
        model(torch.tensor([[-1, 2]]))
    with pytest.raises(ValueError, match="integer tensor"):
        model(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="temperature"):
        model.generate(torch.zeros(1, 1, dtype=torch.long), 3, temperature=-1)



def test_token_ids_are_read_back_on_the_cpu_only():
    """The value check fires on CPU tensors (test_errors); elsewhere the forward pass reads no value back (a
    meta tensor has none to read: any read would raise), so a GPU never waits on it."""
    model = _model().to("meta")
    idx = torch.zeros(2, 8, dtype=torch.long, device="meta")
    logits, loss = model(idx, idx)
    assert logits.shape == (2, 8, 50) and logits.device.type == "meta" and loss.dim() == 0
    with pytest.raises(ValueError, match="block_size=16"):  # shapes are still checked everywhere
        model(torch.zeros(1, 17, dtype=torch.long, device="meta"))


def test_compiles_without_a_graph_break():
    """Under torch.compile the value check is skipped: reading ids back would break the graph (fullgraph=True
    raises on any break). The eager backend traces without compiling kernels."""
    model = _model()
    idx = torch.randint(0, 50, (2, 8))
    compiled = torch.compile(model, backend="eager", fullgraph=True)
    torch.testing.assert_close(compiled(idx, idx)[1], model(idx, idx)[1])

def test_causal_model():
    model = _model().eval()
    idx = torch.randint(0, 50, (2, 12))
    idx2 = idx.clone()
    idx2[:, 8:] = (idx2[:, 8:] + 1) % 50
    torch.testing.assert_close(model(idx)[0][:, :8], model(idx2)[0][:, :8])


@pytest.mark.parametrize("temperature,top_k", [(0.0, None), (1.0, None), (0.8, 5)])
def test_kv_cache_generates_the_same_tokens(temperature, top_k):
    model = _model()
    prompt = torch.randint(0, 50, (2, 3))
    out = {}
    for use_cache in (True, False):
        g = torch.Generator().manual_seed(0)
        out[use_cache] = model.generate(prompt, 30, temperature=temperature, top_k=top_k,
                                        use_cache=use_cache, generator=g)  # 33 > block_size: window slides
    assert out[True].shape == (2, 33)
    assert torch.equal(out[True], out[False])
    assert torch.equal(out[True][:, :3], prompt)


def test_top_k_one_is_greedy():
    model = _model()
    prompt = torch.randint(0, 50, (1, 4))
    g = torch.Generator().manual_seed(1)
    greedy = model.generate(prompt, 8, temperature=0)
    assert torch.equal(model.generate(prompt, 8, top_k=1, generator=g), greedy)


def test_learns_a_repeating_sequence():
    model = _model(block_size=8)
    data = torch.arange(400) % 7

    def batches(step):
        starts = torch.randint(0, 390, (16, 1), generator=torch.Generator().manual_seed(step))
        w = data[starts + torch.arange(9)]
        return w[:, :-1], w[:, 1:]

    fit(model, lambda m, b: m(*b)[1], batches, steps=120, lr=1e-2, progress=False)
    x, y = batches(999)
    assert model.mean_loss(x, y) < 0.2
    out = model.generate(torch.tensor([[0, 1, 2]]), 7, temperature=0)
    assert out.tolist() == [[0, 1, 2, 3, 4, 5, 6, 0, 1, 2]]
