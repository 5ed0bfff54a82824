"""CLIP: the symmetric loss (by hand, symmetry, scale invariance, the clamp, gradients), the text encoder's
pooling at the end-of-text token, and the image encoder's shapes."""

import math

import pytest
import torch
import torch.nn.functional as F

from minissl.losses import MAX_LOGIT_SCALE, clip_logits, clip_loss
from minissl.models import CLIP, FlatResNet, TextEncoder


def by_hand(img, txt, logit_scale):
    """The loss written with loops over the pairs, in float64."""
    img = [v / v.norm() for v in img.double()]
    txt = [v / v.norm() for v in txt.double()]
    s = math.exp(min(logit_scale, MAX_LOGIT_SCALE))
    n = len(img)
    i2t = t2i = 0.0
    for i in range(n):
        row = [s * float(img[i] @ txt[j]) for j in range(n)]  # image i against every caption
        col = [s * float(img[j] @ txt[i]) for j in range(n)]  # caption i against every image
        i2t -= row[i] - math.log(sum(math.exp(r) for r in row))
        t2i -= col[i] - math.log(sum(math.exp(c) for c in col))
    return (i2t + t2i) / (2 * n)


def test_clip_loss_equals_the_loss_by_hand():
    g = torch.Generator().manual_seed(0)
    img, txt = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    for logit_scale in (0.0, math.log(1 / 0.07), 3.0):
        assert clip_loss(img, txt, logit_scale).item() == pytest.approx(by_hand(img, txt, logit_scale), abs=1e-5)


def test_tiny_case_with_known_value():
    # two orthogonal pairs, matched perfectly, at scale 1: each row is softmax over (1, 0)
    eye = torch.eye(2)
    expected = -math.log(math.e / (math.e + 1))
    assert clip_loss(eye, eye, 0.0).item() == pytest.approx(expected, abs=1e-6)


def test_symmetric_in_images_and_texts_and_invariant_to_feature_length():
    g = torch.Generator().manual_seed(1)
    img, txt = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    loss = clip_loss(img, txt, 2.0)
    assert clip_loss(txt, img, 2.0).item() == pytest.approx(loss.item(), abs=1e-6)
    lengths = torch.rand(6, 1, generator=g) * 10 + 0.1
    assert clip_loss(img * lengths, txt * 3.0, 2.0).item() == pytest.approx(loss.item(), abs=1e-5)


def test_random_features_give_about_log_n():
    g = torch.Generator().manual_seed(2)
    img, txt = torch.randn(256, 512, generator=g), torch.randn(256, 512, generator=g)
    assert clip_loss(img, txt, 0.0).item() == pytest.approx(math.log(256), abs=0.05)


def test_the_clamp_caps_the_scale_and_stops_its_gradient():
    g = torch.Generator().manual_seed(3)
    img, txt = torch.randn(4, 8, generator=g), torch.randn(4, 8, generator=g)
    big = torch.tensor(8.0, requires_grad=True)  # exp(8) ~ 2981 > 100
    loss = clip_loss(img, txt, big)
    assert loss.item() == pytest.approx(clip_loss(img, txt, MAX_LOGIT_SCALE).item(), abs=1e-5)
    loss.backward()
    assert big.grad.item() == 0.0
    unclamped = clip_logits(img, txt, 8.0, max_logit_scale=None)
    assert unclamped.abs().max().item() > 100  # without the clamp the logits reach thousands
    assert clip_logits(img, txt, 8.0).abs().max().item() <= 100 + 1e-4


def test_gradients_in_float64():
    g = torch.Generator().manual_seed(4)
    img = torch.randn(4, 3, dtype=torch.float64, generator=g, requires_grad=True)
    txt = torch.randn(4, 3, dtype=torch.float64, generator=g, requires_grad=True)
    scale = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, s: clip_loss(a, b, s), (img, txt, scale))
    assert clip_loss(img, txt, scale).dtype == torch.float64


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="text_features has shape"):
        clip_loss(torch.randn(4, 8), torch.randn(5, 8), 1.0)
    with pytest.raises(ValueError, match="N >= 2"):
        clip_loss(torch.randn(1, 8), torch.randn(1, 8), 1.0)
    with pytest.raises(ValueError, match="scalar"):
        clip_loss(torch.randn(3, 8), torch.randn(3, 8), torch.zeros(2))
    with pytest.raises(TypeError, match="floating-point"):
        clip_loss(torch.ones(3, 8, dtype=torch.long), torch.randn(3, 8), 1.0)


def _text_encoder():
    torch.manual_seed(0)
    return TextEncoder(vocab_size=20, context=8, eot_id=19, n_layer=2, n_head=2, n_embd=16).eval()


def test_text_encoder_pools_at_the_end_of_text_token_not_at_padding():
    enc = _text_encoder()
    pad = 18
    short = torch.tensor([[3, 4, 19, pad, pad, pad]])
    longer_padding = torch.tensor([[3, 4, 19, pad, pad, pad, pad, pad]])
    other_padding = torch.tensor([[3, 4, 19, 7, 8, 9]])  # whatever follows the end-of-text token is never seen
    out = enc(short)
    assert out.shape == (1, 16)
    torch.testing.assert_close(enc(longer_padding), out)
    torch.testing.assert_close(enc(other_padding), out)
    hidden = enc.ln_f(enc.blocks[1](enc.blocks[0](enc.tok_emb(short) + enc.pos_emb(torch.arange(6)))))
    torch.testing.assert_close(out, hidden[:, 2])  # the state at position 2, where 19 sits
    changed = torch.tensor([[3, 5, 19, pad, pad, pad]])
    assert not torch.allclose(enc(changed), out)  # a word before it does change the caption's vector


def test_text_encoder_refuses_captions_without_exactly_one_end_of_text():
    enc = _text_encoder()
    with pytest.raises(ValueError, match="exactly once"):
        enc(torch.tensor([[3, 4, 5]]))
    with pytest.raises(ValueError, match="exactly once"):
        enc(torch.tensor([[3, 19, 19]]))
    with pytest.raises(ValueError, match="L <= 8"):
        enc(torch.full((1, 9), 19))


def test_clip_model_shapes_units_and_clamped_scale():
    torch.manual_seed(0)
    image_encoder = FlatResNet(16, widths=(4, 8), depths=(1, 1))
    assert image_encoder.out_dim == 8 * 8 * 8
    model = CLIP(image_encoder, _text_encoder(), embed_dim=12)
    img, txt = model(torch.rand(3, 3, 16, 16), torch.tensor([[1, 19, 0], [2, 3, 19], [19, 0, 0]]))
    assert img.shape == txt.shape == (3, 12)
    torch.testing.assert_close(img.norm(dim=1), torch.ones(3))
    assert model.clamped_logit_scale.exp().item() == pytest.approx(1 / 0.07, rel=1e-5)
    with torch.no_grad():
        model.logit_scale.fill_(10.0)
    assert model.clamped_logit_scale.exp().item() == pytest.approx(100.0, rel=1e-5)
    with pytest.raises(ValueError, match=r"\(B, C, 16, 16\)"):
        image_encoder(torch.rand(2, 3, 32, 32))


def test_clip_trains_on_a_toy_pairing():
    # four shapes of colour and their four words: a few steps make every image find its word
    torch.manual_seed(0)
    images = torch.zeros(4, 3, 8, 8)
    for i in range(4):
        images[i, i % 3, 2 * i:2 * i + 2] = 1.0
    ids = torch.tensor([[i, 19] for i in range(4)])
    model = CLIP(FlatResNet(8, widths=(4, 8), depths=(1, 1)), _text_encoder().train(), embed_dim=8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        loss = clip_loss(*model(images, ids), model.logit_scale)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        sims = model.encode_image(images) @ model.encode_text(ids).T
    assert (sims.argmax(1) == torch.arange(4)).all()
    assert F.cross_entropy(sims * 10, torch.arange(4)).item() < 1.0
