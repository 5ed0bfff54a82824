"""Masked-language-model corruption: choose positions to hide and what the encoder sees there.

Built in the chapter *Predicting missing words* (``notebooks/05_masked_words.ipynb``), section *Masking,
exactly*. The recipe of BERT (Devlin et al., 2019):

1. every position that holds an ordinary token (not ``[CLS]``, ``[SEP]``, ``[PAD]``...) is *chosen*
   independently with probability ``prob`` (0.15);
2. a chosen position becomes ``[MASK]`` with probability 0.8, a random ordinary token with probability 0.1,
   and keeps its token with probability 0.1;
3. the label of a chosen position is its original token; every other label is ``-100``, the index that
   :func:`torch.nn.functional.cross_entropy` ignores, so only chosen positions count in the loss.

Why not always ``[MASK]``? ``[MASK]`` never occurs in real text, so an encoder trained only on it would learn
good representations only where it sees ``[MASK]``. The 10% random and 10% unchanged positions force it to
produce a useful prediction for *every* visible token, since any of them may be a hidden question.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from minissl.losses.mlm import IGNORE_INDEX  # -100: the label F.cross_entropy skips (its default ignore_index)
from minissl.utils import draw


def _check(ids, vocab_size: int, mask_id: int, special_ids, prob: float) -> list[int]:
    if not isinstance(ids, torch.Tensor):
        raise TypeError(f"mask_tokens: ids must be a torch.LongTensor (B, T), got {type(ids).__name__}")
    if ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool:
        raise TypeError(
            f"mask_tokens: ids must hold integer token ids (torch.long), got dtype {ids.dtype}; "
            "tokenize the text first, or convert with ids.long() if these really are ids"
        )
    if ids.dim() != 2:
        raise ValueError(f"mask_tokens: ids must have shape (B, T), got {tuple(ids.shape)}; "
                         "for one sequence use ids[None]")
    if not isinstance(vocab_size, int) or vocab_size < 2:
        raise ValueError(f"mask_tokens: vocab_size must be an int >= 2, got {vocab_size!r}")
    if not (isinstance(prob, (int, float)) and 0.0 < prob < 1.0):
        raise ValueError(f"mask_tokens: prob must lie strictly between 0 and 1 (BERT uses 0.15), got {prob!r}")
    if not isinstance(mask_id, int) or not 0 <= mask_id < vocab_size:
        raise ValueError(f"mask_tokens: mask_id must be a token id in [0, {vocab_size}) (vocab_size), "
                         f"got {mask_id!r}; pass the id of the tokenizer's [MASK] token")
    special = sorted({int(s) for s in special_ids} if isinstance(special_ids, Iterable) else {int(special_ids)})
    bad = [s for s in special if not 0 <= s < vocab_size]
    if bad:
        raise ValueError(f"mask_tokens: special_ids {bad} are outside [0, {vocab_size}) (vocab_size)")
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab_size):
        raise ValueError(f"mask_tokens: ids must lie in [0, {vocab_size}) (vocab_size), found values in "
                         f"[{int(ids.min())}, {int(ids.max())}]; is vocab_size the tokenizer's vocabulary size?")
    return special


def mask_tokens(ids: torch.Tensor, *, vocab_size: int, mask_id: int, special_ids, prob: float = 0.15,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's 80/10/10 corruption of a batch of token ids.

    Args:
        ids: ``(B, T)`` integer token ids (padding included).
        vocab_size: number of token ids; random replacements are drawn from the ids that are not special.
        mask_id: the id of ``[MASK]``.
        special_ids: ids that are never chosen and never drawn as random replacements (``[CLS]``, ``[SEP]``,
            ``[PAD]``...); ``mask_id`` is always treated as special too.
        prob: probability that an ordinary position is chosen (0.15 in BERT).
        generator: a ``torch.Generator`` for reproducible masks (its device is where the draws happen).

    Returns:
        ``(inputs, labels)``, both ``(B, T)`` long on the device of ``ids``: ``inputs`` is the corrupted
        sequence the encoder sees; ``labels`` holds the original id at chosen positions and ``-100`` elsewhere.
    """
    special = _check(ids, vocab_size, mask_id, special_ids, prob)
    ids = ids.long()
    excluded = torch.zeros(vocab_size, dtype=torch.bool)
    excluded[special + [mask_id]] = True
    ordinary = (~excluded).nonzero().squeeze(1)  # the ids a random replacement may take
    if len(ordinary) == 0:
        raise ValueError("mask_tokens: every id is special; there is no ordinary token to mask or draw")

    # Three draws per position, always all three, so the same generator gives the same masks whatever the
    # outcome of each step.
    u_choose = draw(torch.rand, ids.shape, generator=generator, device=ids.device)
    u_kind = draw(torch.rand, ids.shape, generator=generator, device=ids.device)
    pick = draw(torch.randint, len(ordinary), ids.shape, generator=generator, device=ids.device)

    is_special = excluded.to(ids.device)[ids]  # (B, T) True at [CLS], [SEP], [PAD], [MASK]...
    chosen = (u_choose < prob) & ~is_special
    to_mask = chosen & (u_kind < 0.8)
    to_random = chosen & (u_kind >= 0.8) & (u_kind < 0.9)  # the last 10% keep their token

    labels = torch.where(chosen, ids, torch.full_like(ids, IGNORE_INDEX))
    inputs = torch.where(to_mask, torch.full_like(ids, mask_id), ids)
    inputs = torch.where(to_random, ordinary.to(ids.device)[pick], inputs)
    return inputs, labels


def mask_spans(lengths: torch.Tensor, max_len: int, prob: float = 0.3, span: int = 5,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """Which frames of a batch of recordings to hide: bool ``(B, max_len)``, True = hidden.

    For a recording of L frames, ``max(1, round(prob * L / span))`` start frames are drawn uniformly from
    ``[0, L - span]`` and each hides ``span`` frames from there (spans may overlap, so slightly less than
    ``prob`` of the frames ends up hidden; a recording shorter than ``span`` is hidden whole); frames at or past
    L (padding) are never hidden. Hiding spans rather than single frames matters for sound: a lone hidden 10-ms
    frame is given away by its neighbours. The idea of wav2vec 2.0 (Baevski et al., 2020, section 3.1) and
    HuBERT (Hsu et al., 2021), which draw each frame as a start with probability 0.065 or 0.08 and hide 10
    frames from each; this count-based version with shorter spans suits recordings of 15 to 230 frames.

    Raises:
        ValueError: ``lengths`` not a 1-D integer tensor with values in ``[1, max_len]``, ``prob`` outside
        (0, 1] or ``span`` < 1.
    """
    if lengths.dim() != 1 or lengths.is_floating_point() or len(lengths) == 0:
        raise ValueError(f"mask_spans: lengths must be a non-empty 1-D integer tensor, got {lengths.dtype} "
                         f"{tuple(lengths.shape)}")
    if int(lengths.min()) < 1 or int(lengths.max()) > max_len:
        raise ValueError(f"mask_spans: lengths must lie in [1, max_len={max_len}], got {lengths.tolist()}")
    if not 0 < prob <= 1 or span < 1:
        raise ValueError(f"mask_spans: need 0 < prob <= 1 and span >= 1, got prob={prob}, span={span}")
    hidden = torch.zeros(len(lengths), max_len, dtype=torch.bool)
    for b, length in enumerate(lengths.tolist()):
        n_spans = max(1, round(prob * length / span))
        starts = torch.randint(0, max(1, length - span + 1), (n_spans,), generator=generator)
        for start in starts.tolist():
            hidden[b, start:min(start + span, length)] = True
    return hidden
