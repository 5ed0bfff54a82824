"""CLIP (Radford et al., 2021): an image encoder and a text encoder that map into one space.

Built in the chapter *CLIP: matching pictures with their names* (``notebooks/08_clip.ipynb``).

    image (B, 3, H, W) -> image encoder -> (B, F_img) -> linear -> L2-normalise -> (B, D)
    caption ids (B, L)  -> text encoder  -> (B, F_txt) -> linear -> L2-normalise -> (B, D)
    logits (B, B) = exp(min(logit_scale, ln 100)) * image @ text^T    (the loss: minissl.losses.clip_loss)

The text encoder is a stack of the book's causal transformer blocks; the caption's vector is the hidden state at
its end-of-text token (CLIP section 2.4). Causal attention is what makes this work with padding: the
end-of-text position sees every word before it and no padding after it. The image encoder is any module
with an ``out_dim``; the chapter uses :class:`FlatResNet`, a small ResNet whose last map is flattened rather
than averaged, so the position of a part (eyes above a mouth) is kept.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from minissl.losses.clip import MAX_LOGIT_SCALE
from minissl.nn import TransformerBlock, init_transformer_
from minissl.nn.resnet import ResNet


class FlatResNet(nn.Module):
    """:class:`~minissl.nn.resnet.ResNet` whose last map ``(B, C', H', W')`` is flattened: ``(B, 3, S, S)`` ->
    ``(B, C' H' W')``. ``image_size`` S fixes ``out_dim``; each stage after the first halves H and W."""

    def __init__(self, image_size: int, widths=(16, 32, 64), depths=(1, 1, 1)):
        super().__init__()
        self.resnet = ResNet(widths, depths)
        side = image_size
        for _ in range(len(widths) - 1):
            side = (side + 1) // 2  # a stride-2 3x3 convolution with padding 1
        self.image_size, self.out_dim = image_size, widths[-1] * side * side

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(f"FlatResNet: expected images (B, C, {self.image_size}, {self.image_size}), got shape "
                             f"{tuple(x.shape)}; resize them to the size the encoder was built for")
        return self.resnet.hidden_states(x).flatten(1)


class TextEncoder(nn.Module):
    """Caption ids ``(B, L)`` -> ``(B, n_embd)``, the final hidden state at each caption's end-of-text token.

    Args:
        vocab_size, context: token ids and the longest caption (positions are learned up to ``context``).
        eot_id: the end-of-text token; every caption holds it exactly once, after its words (padding after).
        n_layer, n_head, n_embd: the causal transformer blocks (shared with GPT).
    """

    def __init__(self, vocab_size: int, context: int, eot_id: int, n_layer: int = 2, n_head: int = 4,
                 n_embd: int = 128):
        super().__init__()
        if not 0 <= eot_id < vocab_size:
            raise ValueError(f"TextEncoder: eot_id={eot_id} is not a token id in [0, {vocab_size})")
        self.context, self.eot_id, self.out_dim = context, eot_id, n_embd
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(context, n_embd)
        self.blocks = nn.ModuleList(TransformerBlock(n_embd, n_head, causal=True) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        init_transformer_(self, self.blocks, n_layer)

    def eot_positions(self, ids: torch.Tensor) -> torch.Tensor:
        """``(B, L)`` -> ``(B,)`` the index of each caption's end-of-text token. Checked on CPU tensors only
        (on a GPU, reading the ids back would stall every step)."""
        if ids.dim() != 2 or ids.size(1) > self.context or ids.is_floating_point():
            raise ValueError(f"TextEncoder: expected integer ids (B, L) with L <= {self.context}, got "
                             f"{ids.dtype} of shape {tuple(ids.shape)}")
        is_eot = ids == self.eot_id  # (B, L)
        if ids.device.type == "cpu" and not bool((is_eot.sum(1) == 1).all()):
            raise ValueError(f"TextEncoder: every caption must hold the end-of-text id {self.eot_id} exactly "
                             "once; encode captions with the same tokenizer and append it")
        return is_eot.int().argmax(dim=1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        eot = self.eot_positions(ids)  # (B,)
        pos = torch.arange(ids.size(1), device=ids.device)
        x = self.tok_emb(ids) + self.pos_emb(pos)  # (B, L, C)
        for block in self.blocks:
            x = block(x)  # causal: position t sees 0..t, so padding after the end-of-text token is never seen
        x = self.ln_f(x)
        return x[torch.arange(len(ids), device=ids.device), eot]  # (B, C) at the end-of-text token


class CLIP(nn.Module):
    """Two encoders, two linear projections into one ``embed_dim`` space, and the learned ``logit_scale``.

    ``logit_scale`` (the log of the inverse temperature) starts at ln(1 / 0.07) as in CLIP (a temperature of
    0.07); :attr:`clamped_logit_scale` is it clamped at ln 100 (:data:`~minissl.losses.clip.MAX_LOGIT_SCALE`), the
    value :func:`~minissl.losses.clip_loss` uses by default; ``max_logit_scale=None`` removes the clamp.
    """

    def __init__(self, image_encoder: nn.Module, text_encoder: nn.Module, embed_dim: int = 128,
                 max_logit_scale: float | None = MAX_LOGIT_SCALE):
        super().__init__()
        self.image_encoder, self.text_encoder = image_encoder, text_encoder
        self.image_proj = nn.Linear(image_encoder.out_dim, embed_dim, bias=False)
        self.text_proj = nn.Linear(text_encoder.out_dim, embed_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.max_logit_scale = max_logit_scale

    @property
    def clamped_logit_scale(self) -> torch.Tensor:
        """``logit_scale`` clamped at ``max_logit_scale``, a scalar tensor; the scale itself is its ``exp()``."""
        if self.max_logit_scale is None:
            return self.logit_scale
        return self.logit_scale.clamp(max=self.max_logit_scale)

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` -> unit vectors ``(B, embed_dim)``."""
        return F.normalize(self.image_proj(self.image_encoder(images)), dim=-1)

    def encode_text(self, ids: torch.Tensor) -> torch.Tensor:
        """``(B, L)`` caption ids -> unit vectors ``(B, embed_dim)``."""
        return F.normalize(self.text_proj(self.text_encoder(ids)), dim=-1)

    def forward(self, images: torch.Tensor, ids: torch.Tensor):
        """-> ``(image_features, text_features)``, each ``(B, embed_dim)``, unit length."""
        return self.encode_image(images), self.encode_text(ids)
