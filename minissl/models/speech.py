"""A masked-prediction speech encoder in the HuBERT family (Hsu et al., 2021), for log-mel spectrograms.

Built in the chapter *Speech: features from the sound itself* (``notebooks/09_speech.ipynb``), section
*A pretext task from the recording itself*.

    log-mel (B, n_mels, T) -> two 1-D convolutions over time (each frame sees its neighbours)
      -> + learned position embeddings -> n_layer bidirectional TransformerBlocks (padding masked)
      -> LayerNorm -> hidden states (B, T, C) -> linear head -> unit logits (B, T, n_units)

Pretraining hides spans of frames (zeroed in the input; :func:`minissl.masking.mask_spans`) and asks the head
for each hidden frame's *unit*, a cluster id of the frame from k-means over log-mel frames (HuBERT's first
iteration clusters MFCC frames the same way), with the masked-word loss :func:`minissl.losses.mlm_loss`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from minissl.nn import TransformerBlock


class SpeechEncoder(nn.Module):
    """Log-mel frames ``(B, n_mels, T)`` and lengths ``(B,)`` -> hidden states ``(B, T, n_embd)``
    (:meth:`hidden_states`) or unit logits ``(B, T, n_units)`` (``forward``).

    Args:
        n_mels: mel bands of the input; n_embd, n_layer, n_head: the transformer; max_frames: the longest
        input (positions are learned up to it); n_units: the classes of the pretraining head.
    """

    def __init__(self, n_mels: int = 40, n_embd: int = 128, n_layer: int = 2, n_head: int = 4,
                 max_frames: int = 256, n_units: int = 100):
        super().__init__()
        self.n_mels, self.max_frames = n_mels, max_frames
        self.conv1 = nn.Conv1d(n_mels, n_embd, 3, padding=1)
        self.conv2 = nn.Conv1d(n_embd, n_embd, 3, padding=1)
        self.pos_emb = nn.Embedding(max_frames, n_embd)
        self.blocks = nn.ModuleList(TransformerBlock(n_embd, n_head, causal=False) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, n_units)

    def hidden_states(self, x: torch.Tensor, lengths: torch.Tensor, hidden: torch.Tensor | None = None):
        """``x`` ``(B, n_mels, T)``, ``lengths`` ``(B,)``, optional ``hidden`` bool ``(B, T)`` (frames set to zero
        first) -> ``(B, T, n_embd)``. Frames at or past a recording's length are padding: no frame attends to
        them."""
        if x.dim() != 3 or x.size(1) != self.n_mels or x.size(2) > self.max_frames:
            raise ValueError(f"SpeechEncoder: expected log-mel frames (B, {self.n_mels}, T) with T <= "
                             f"{self.max_frames}, got shape {tuple(x.shape)}")
        T = x.size(2)
        if hidden is not None:
            x = x.masked_fill(hidden[:, None, :], 0.0)  # a hidden frame reads as the recording's mean
        padding = torch.arange(T, device=x.device)[None] >= lengths.to(x.device)[:, None]  # (B, T)
        real = (~padding)[:, None, :].to(x.dtype)  # (B, 1, T): zero the padding before each convolution, so that
        h = F.gelu(self.conv1(x * real)) * real  # a recording's states never depend on how much follows it
        h = self.conv2(h).transpose(1, 2) + self.pos_emb(torch.arange(T, device=x.device))  # (B, T, C)
        for block in self.blocks:
            h = block(h, padding_mask=padding)
        return self.ln_f(h)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, hidden: torch.Tensor | None = None):
        """Unit logits ``(B, T, n_units)`` for every frame (the loss reads only the hidden ones)."""
        return self.head(self.hidden_states(x, lengths, hidden))


def pool_frames(h: torch.Tensor, lengths: torch.Tensor, bins: int = 8) -> torch.Tensor:
    """One vector per recording: ``(B, T, C)`` -> ``(B, bins * C)``, each recording's real frames averaged in
    ``bins`` stretches of (nearly) equal length, as ``F.adaptive_avg_pool1d`` cuts them, so the order of the
    sounds is kept, coarsely. A recording needs at least ``bins`` frames for the stretches not to overlap."""
    return torch.stack([F.adaptive_avg_pool1d(h[b, :int(n)].T[None], bins).flatten()
                        for b, n in enumerate(lengths.tolist())])
