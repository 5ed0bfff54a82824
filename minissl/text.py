"""Text as tokens: a character tokenizer and a byte-level BPE tokenizer trained from scratch.

Built in the chapter *Text as tokens* (``notebooks/02_text_as_tokens.ipynb``); used by the GPT, masked-word
and CLIP chapters.

- :class:`CharTokenizer`: one id per character seen in training. Simple, but a character it never saw
  cannot be encoded.
- :class:`BPETokenizer`: byte-level byte-pair encoding. Text -> UTF-8 bytes (ids 0..255, so every string of
  Unicode characters can be encoded), then learned merges glue frequent neighbouring pairs into new ids 256,
  257, ... ``decode(encode(s)) == s`` for any such string.

``decode`` of *any* ids (sampled ones included) gives text that can be printed and written as UTF-8. A Python
``str`` can also hold *lone surrogates* (code points U+D800..U+DFFF on their own, e.g. from JSON ``"\\ud800"``
or ``bytes.decode(..., "surrogateescape")``): they are not characters, have no UTF-8 form, and ``print`` fails
on them. Training on them, special tokens holding them, and ``BPETokenizer.encode`` of them are a
``ValueError`` that says where they are (``CharTokenizer.encode``: characters never seen). ``BPETokenizer``
carries them exactly with ``encode``/``decode(..., surrogatepass=True)`` (Python's codec of that name), at
the price of a decoded text that may not be writable.

- :class:`WordTokenizer`: one id per whitespace-separated word (the most frequent ones), for text that is
  already tokenized; built in the chapter *Predicting missing words*.

All three have ``encode(str) -> list[int]``, ``decode(ids) -> str``, ``vocab_size``, ``save(path)`` /
``load(path)`` (JSON, written atomically) and optional special tokens (e.g. ``[MASK]``, ``[PAD]``) whose ids
come after the ordinary ones; they never appear from ``encode`` of plain text.

:func:`next_token_batches` cuts random windows out of a token stream: inputs ``x`` and targets ``y``
(``x`` shifted by one), the labels that come for free.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch

from minissl.utils import atomic_path

# Pre-tokenisation (as in GPT-2, with the standard library's `re`): split text into chunks -- a word with
# its leading space, a number, a run of punctuation, whitespace -- and never merge across chunks. The last
# alternatives match any single character, so the chunks always cover the whole text, in order.
SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+|\S"""
_FORMAT = "minissl.text"
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


class TokenizerFileError(ValueError):
    """A tokenizer file that is missing, unreadable, or not one this module wrote."""


def _check_text(text: str, who: str, or_else: str = "") -> None:
    """A ``ValueError`` if ``text`` holds a lone surrogate (no UTF-8 form: ``print`` and UTF-8 files fail on it)."""
    found = _LONE_SURROGATE.search(text)
    if found:
        n = len(_LONE_SURROGATE.findall(text))
        raise ValueError(f"{who}: the text holds {n} lone surrogate(s), the first {found.group()!r} at position "
                         f"{found.start()}; they are not Unicode characters and have no UTF-8 bytes. Clean the "
                         f"text, e.g. text.encode('utf-8', 'replace').decode('utf-8') (each becomes '?'){or_else}")


def _check_ids(ids, vocab_size: int, who: str) -> list[int]:
    if isinstance(ids, torch.Tensor):
        ids = ids.tolist()
    ids = list(ids)
    bad = [i for i in ids if not isinstance(i, int) or not 0 <= i < vocab_size]
    if bad:
        raise ValueError(f"{who}.decode: token ids must be ints in [0, {vocab_size}), got {bad[:5]!r}"
                         f"{' ...' if len(bad) > 5 else ''}")
    return ids


def _check_specials(special_tokens: Sequence[str], who: str) -> list[str]:
    special_tokens = list(special_tokens)
    if len(set(special_tokens)) != len(special_tokens) or not all(isinstance(s, str) and s
                                                                   for s in special_tokens):
        raise ValueError(f"{who}: special_tokens must be distinct non-empty strings, got {special_tokens!r}")
    for s in special_tokens:
        _check_text(s, f"{who}: special token {s!r}")
    return special_tokens


def _write_json(path, state: dict) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(state), encoding="utf-8")
    return Path(path)


def _read_json(path, kind: str) -> dict:
    path = Path(path)
    if not path.exists():
        raise TokenizerFileError(f"{kind}.load: no file at {path}; save one first with tokenizer.save(path)")
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TokenizerFileError(f"{kind}.load: {path} is not valid JSON ({err}); was it truncated? "
                                 f"Re-save it with {kind}.save") from err
    if not isinstance(state, dict) or state.get("format") != _FORMAT or state.get("kind") != kind:
        found = state.get("kind") if isinstance(state, dict) else type(state).__name__
        raise TokenizerFileError(f"{kind}.load: {path} is not a {kind} file written by minissl "
                                 f"(found kind={found!r}); load it with the class that saved it")
    return state


class CharTokenizer:
    """One id per character: ``chars[i]`` has id ``i`` (then the special tokens, if any).

    >>> tok = CharTokenizer.train("hello")
    >>> tok.decode(tok.encode("hole"))
    'hole'
    """

    def __init__(self, chars: Iterable[str], special_tokens: Sequence[str] = ()):
        chars = list(chars)
        if (not chars or any(not isinstance(c, str) or len(c) != 1 for c in chars)
                or len(set(chars)) != len(chars)):
            raise ValueError("CharTokenizer: chars must be a non-empty sequence of distinct single "
                             "characters")
        _check_text("".join(chars), "CharTokenizer")
        self.chars = chars
        self.special_tokens = _check_specials(special_tokens, "CharTokenizer")
        self.stoi = {c: i for i, c in enumerate(chars)}
        self.special = {s: len(chars) + i for i, s in enumerate(self.special_tokens)}
        self._itos = chars + self.special_tokens

    @classmethod
    def train(cls, text: str, special_tokens: Sequence[str] = ()) -> CharTokenizer:
        """The sorted set of characters in ``text`` is the vocabulary (lone surrogates: ``ValueError``)."""
        if not isinstance(text, str) or not text:
            raise ValueError("CharTokenizer.train: text must be a non-empty string")
        _check_text(text, "CharTokenizer.train")
        return cls(sorted(set(text)), special_tokens)

    @property
    def vocab_size(self) -> int:
        return len(self._itos)

    def encode(self, text: str) -> list[int]:
        """``str`` -> list of ids. A character not seen in training (a lone surrogate included) is a
        ``ValueError`` (BPE has no such gap)."""
        try:
            return [self.stoi[c] for c in text]
        except KeyError as err:
            unseen = sorted({c for c in text if c not in self.stoi})
            raise ValueError(f"CharTokenizer.encode: characters never seen in training: {unseen[:10]!r}. "
                             "Train on text that contains them, or use BPETokenizer (byte-level: encodes "
                             "any string)") from err

    def decode(self, ids) -> str:
        """ids -> ``str``; every character of the vocabulary is writable, so the text always is."""
        return "".join(self._itos[i] for i in _check_ids(ids, self.vocab_size, "CharTokenizer"))

    def save(self, path) -> Path:
        """Write the vocabulary as JSON (atomically: never a half-written file)."""
        return _write_json(path, {"format": _FORMAT, "kind": "CharTokenizer", "version": 1,
                                  "chars": self.chars, "special_tokens": self.special_tokens})

    @classmethod
    def load(cls, path) -> CharTokenizer:
        state = _read_json(path, "CharTokenizer")
        try:
            return cls(state["chars"], state.get("special_tokens", ()))
        except (KeyError, TypeError, ValueError) as err:
            raise TokenizerFileError(f"CharTokenizer.load: {path} is damaged ({err})") from err

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


def _merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every non-overlapping occurrence of ``pair`` in ``ids`` (left to right) by ``new_id``."""
    out, i, n = [], 0, len(ids)
    a, b = pair
    while i < n:
        if i < n - 1 and ids[i] == a and ids[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


class BPETokenizer:
    """Byte-level byte-pair encoding.

    Ids 0..255 are the raw bytes; merge ``k`` (a pair of ids) creates id ``256 + k``; special tokens follow.
    Text with lone surrogates is a ``ValueError`` unless ``surrogatepass=True`` (see the module docstring).

    >>> tok = BPETokenizer.train("low lower lowest " * 50, vocab_size=260)
    >>> tok.decode(tok.encode("lowest! ✓"))
    'lowest! ✓'
    """

    def __init__(self, merges: Sequence[Sequence[int]] = (), special_tokens: Sequence[str] = (),
                 pattern: str = SPLIT_PATTERN):
        merges = [tuple(m) for m in merges]
        for k, m in enumerate(merges):
            if len(m) != 2 or not all(isinstance(i, int) and 0 <= i < 256 + k for i in m):
                raise ValueError(f"BPETokenizer: merge {k} is {m!r}; each merge must be a pair of existing "
                                 f"ids (< {256 + k})")
        self.merges: list[tuple[int, int]] = merges
        self.ranks = {m: k for k, m in enumerate(merges)}  # lower rank = learned earlier = applied first
        self.special_tokens = _check_specials(special_tokens, "BPETokenizer")
        self.pattern = pattern
        self._split = re.compile(pattern)
        self.vocab: list[bytes] = [bytes([i]) for i in range(256)]
        for a, b in merges:
            self.vocab.append(self.vocab[a] + self.vocab[b])
        self.special = {s: 256 + len(merges) + i for i, s in enumerate(self.special_tokens)}
        self._cache: dict[str, list[int]] = {}

    # ---- training ------------------------------------------------------------------------------------
    @classmethod
    def train(cls, text: str, vocab_size: int, special_tokens: Sequence[str] = (),
              pattern: str = SPLIT_PATTERN, verbose: bool = False) -> BPETokenizer:
        """Learn ``vocab_size - 256 - len(special_tokens)`` merges on ``text``.

        Efficient on a megabyte of text: pairs are counted over the *unique* chunks, weighted by how often
        each chunk occurs, and after a merge only the chunks that contain the merged pair are recounted.
        Ties between equally frequent pairs go to the smallest pair, so training is deterministic.
        Text with lone surrogates is a ``ValueError``: clean it first.
        """
        special_tokens = _check_specials(special_tokens, "BPETokenizer.train")
        n_merges = vocab_size - 256 - len(special_tokens)
        if not isinstance(text, str) or not text:
            raise ValueError("BPETokenizer.train: text must be a non-empty string")
        _check_text(text, "BPETokenizer.train")
        if n_merges < 0:
            raise ValueError(f"BPETokenizer.train: vocab_size={vocab_size} is below the 256 byte ids plus "
                             f"{len(special_tokens)} special tokens; use vocab_size >= "
                             f"{256 + len(special_tokens)}")
        chunk_counts = Counter(re.findall(pattern, text))
        words = [list(w.encode("utf-8")) for w in chunk_counts]
        freqs = list(chunk_counts.values())
        pair_counts: Counter = Counter()
        where: dict[tuple[int, int], set[int]] = {}  # pair -> the words that contain it
        for w, (ids, f) in enumerate(zip(words, freqs)):
            for pair in zip(ids, ids[1:]):
                pair_counts[pair] += f
                where.setdefault(pair, set()).add(w)
        merges: list[tuple[int, int]] = []
        for k in range(n_merges):
            if not pair_counts:
                break  # every chunk is a single token: nothing left to merge
            best = max(pair_counts, key=lambda p: (pair_counts[p], -p[0], -p[1]))
            new_id = 256 + k
            merges.append(best)
            for w in where.pop(best, ()):
                ids, f = words[w], freqs[w]
                for pair in zip(ids, ids[1:]):  # forget this word's old pairs...
                    pair_counts[pair] -= f
                    if pair_counts[pair] <= 0:
                        del pair_counts[pair]
                ids = words[w] = _merge(ids, best, new_id)
                for pair in zip(ids, ids[1:]):  # ...and count its new ones
                    pair_counts[pair] += f
                    where.setdefault(pair, set()).add(w)
            pair_counts.pop(best, None)
            if verbose and (k < 10 or (k + 1) % 100 == 0):
                print(f"merge {k + 1}/{n_merges}: {best} -> {new_id}")
        return cls(merges, special_tokens, pattern)

    # ---- using it ----------------------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return 256 + len(self.merges) + len(self.special_tokens)

    def _encode_chunk(self, chunk: str) -> list[int]:
        ids = list(chunk.encode("utf-8", "surrogatepass"))  # the text was checked: surrogates only if allowed
        while len(ids) >= 2:  # apply the earliest-learned merge present, until none applies
            pair = min(zip(ids, ids[1:]), key=lambda p: self.ranks.get(p, float("inf")))
            if pair not in self.ranks:
                break
            ids = _merge(ids, pair, 256 + self.ranks[pair])
        return ids

    def encode(self, text: str, surrogatepass: bool = False) -> list[int]:
        """``str`` -> list of ids; works for any string of Unicode characters (unseen ones fall back to their
        bytes). A lone surrogate is a ``ValueError``; ``surrogatepass=True`` encodes it as its three bytes
        (``0xED 0xA0 0x80`` for ``"\\ud800"``), which ``decode(..., surrogatepass=True)`` gives back."""
        if not isinstance(text, str):
            raise TypeError(f"BPETokenizer.encode: expected a str, got {type(text).__name__}")
        if not surrogatepass:
            _check_text(text, "BPETokenizer.encode", ", or pass surrogatepass=True to encode them exactly")
        out: list[int] = []
        cache = self._cache
        for chunk in self._split.findall(text):
            ids = cache.get(chunk)
            if ids is None:
                ids = self._encode_chunk(chunk)
                if len(cache) < 200_000:
                    cache[chunk] = ids
            out.extend(ids)
        return out

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes one ordinary token stands for (special tokens: their name in UTF-8)."""
        if not 0 <= token_id < self.vocab_size:
            raise ValueError(f"BPETokenizer.token_bytes: token ids are in [0, {self.vocab_size}), got {token_id}")
        if token_id < len(self.vocab):
            return self.vocab[token_id]
        return self.special_tokens[token_id - len(self.vocab)].encode("utf-8")

    def decode(self, ids, surrogatepass: bool = False) -> str:
        """ids -> ``str``. By default always text that can be printed and written as UTF-8: the exact inverse
        of :meth:`encode`, and bytes that are not valid UTF-8 (possible for sampled ids) become the replacement
        character U+FFFD (``bytes.decode("utf-8", errors="replace")``).

        ``surrogatepass=True``, the inverse of ``encode(..., surrogatepass=True)``, gives encoded lone
        surrogates back as such, so the text may not be writable; bytes that are not valid even then fall
        back to U+FFFD as above."""
        ids = _check_ids(ids, self.vocab_size, "BPETokenizer")
        data = b"".join(self.token_bytes(i) for i in ids)
        if surrogatepass:
            try:
                return data.decode("utf-8", "surrogatepass")
            except UnicodeDecodeError:
                pass
        return data.decode("utf-8", "replace")

    def save(self, path) -> Path:
        """Write merges, special tokens and the split pattern as JSON (atomically)."""
        return _write_json(path, {"format": _FORMAT, "kind": "BPETokenizer", "version": 1,
                                  "merges": [list(m) for m in self.merges],
                                  "special_tokens": self.special_tokens, "pattern": self.pattern})

    @classmethod
    def load(cls, path) -> BPETokenizer:
        state = _read_json(path, "BPETokenizer")
        try:
            return cls(state["merges"], state.get("special_tokens", ()), state.get("pattern", SPLIT_PATTERN))
        except (KeyError, TypeError, ValueError, re.error) as err:
            raise TokenizerFileError(f"BPETokenizer.load: {path} is damaged ({err})") from err

    def __repr__(self) -> str:
        return (f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)}, "
                f"special_tokens={self.special_tokens})")


class WordTokenizer:
    """One id per whitespace-separated word: the ``vocab_size - len(special_tokens)`` most frequent words of the
    training texts (ties broken alphabetically, so training is deterministic), then the special tokens. A word
    not in the vocabulary becomes ``unk`` (which must be one of the special tokens).

    For text that is already tokenized and lower-cased, such as Pang & Lee's movie reviews: every frequent word
    ("bad", "poor", "terrible") is one token, and a token is a word a reader can look up. The price is the
    unknown token: a rare word loses its identity (BPE never does).

    >>> tok = WordTokenizer.train(["a good film", "a bad film"], vocab_size=4, special_tokens=["[UNK]"])
    >>> tok.words  # by count, then alphabetically: "bad" before "good"
    ['a', 'film', 'bad']
    >>> tok.decode(tok.encode("a good plot"))
    'a [UNK] [UNK]'
    """

    def __init__(self, words: Sequence[str], special_tokens: Sequence[str] = ("[UNK]",), unk: str = "[UNK]"):
        words = list(words)
        if (not words or any(not isinstance(w, str) or not w or w.split() != [w] for w in words)
                or len(set(words)) != len(words)):
            raise ValueError("WordTokenizer: words must be a non-empty sequence of distinct strings without "
                             "whitespace")
        self.special_tokens = _check_specials(special_tokens, "WordTokenizer")
        if unk not in self.special_tokens:
            raise ValueError(f"WordTokenizer: unk={unk!r} must be one of special_tokens {self.special_tokens!r}")
        clash = sorted(set(words) & set(self.special_tokens))
        if clash:
            raise ValueError(f"WordTokenizer: {clash!r} are both words and special tokens")
        _check_text(" ".join(words), "WordTokenizer")
        self.words, self.unk = words, unk
        self.stoi = {w: i for i, w in enumerate(words)}
        self.special = {t: len(words) + i for i, t in enumerate(self.special_tokens)}
        self.unk_id = self.special[unk]
        self._itos = words + self.special_tokens

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int, special_tokens: Sequence[str] = ("[UNK]",),
              unk: str = "[UNK]") -> WordTokenizer:
        """Count the words of ``texts`` (split on whitespace) and keep the most frequent."""
        if isinstance(texts, str):
            raise ValueError("WordTokenizer.train: texts must be an iterable of strings, not one string "
                             "(wrap it in a list)")
        special_tokens = list(special_tokens)
        n_words = vocab_size - len(special_tokens)
        if n_words < 1:
            raise ValueError(f"WordTokenizer.train: vocab_size={vocab_size} leaves no room for words beside "
                             f"{len(special_tokens)} special tokens")
        counts = Counter(w for t in texts for w in t.split() if w not in special_tokens)
        if not counts:
            raise ValueError("WordTokenizer.train: the texts hold no words")
        ranked = sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))
        return cls([w for w, _ in ranked[:n_words]], special_tokens, unk)

    @property
    def vocab_size(self) -> int:
        return len(self._itos)

    def encode(self, text: str) -> list[int]:
        """``str`` -> ids, one per whitespace-separated word; unknown words -> the ``unk`` id. A special token
        written in the text is a word like any other (unknown), so plain text can never forge one."""
        unk = self.unk_id
        return [self.stoi.get(w, unk) for w in text.split()]

    def decode(self, ids) -> str:
        """ids -> the words joined by single spaces."""
        return " ".join(self._itos[i] for i in _check_ids(ids, self.vocab_size, "WordTokenizer"))

    def save(self, path) -> Path:
        """Write the words and special tokens as JSON (atomically)."""
        return _write_json(path, {"format": _FORMAT, "kind": "WordTokenizer", "version": 1, "words": self.words,
                                  "special_tokens": self.special_tokens, "unk": self.unk})

    @classmethod
    def load(cls, path) -> WordTokenizer:
        state = _read_json(path, "WordTokenizer")
        try:
            return cls(state["words"], state["special_tokens"], state["unk"])
        except (KeyError, TypeError, ValueError) as err:
            raise TokenizerFileError(f"WordTokenizer.load: {path} is damaged ({err})") from err

    def __repr__(self) -> str:
        return f"WordTokenizer(vocab_size={self.vocab_size}, special_tokens={self.special_tokens})"


def next_token_batches(data: torch.Tensor, block_size: int, batch_size: int, seed: int = 0):
    """``batches(step) -> (x, y)`` for :func:`minissl.train.fit`: random windows of a 1-D token tensor.

    ``x`` is ``(batch_size, block_size)`` and ``y`` is ``x`` shifted by one token: the label of every
    position is the next token. A window holds ``block_size + 1`` tokens, so it starts anywhere in
    ``0 .. len(data) - block_size - 1`` (inclusive: the last window ends on the last token), uniformly.
    Deterministic in ``(seed, step)``, so a resumed run sees the same batches.

    Raises ``ValueError`` for data that is not 1-D, sizes below 1, or fewer than ``block_size + 1`` tokens.
    """
    if not isinstance(data, torch.Tensor) or data.dim() != 1:
        raise ValueError("next_token_batches: data must be a 1-D tensor of token ids")
    if block_size < 1 or batch_size < 1:
        raise ValueError(f"next_token_batches: block_size and batch_size must be >= 1, got {block_size} and "
                         f"{batch_size}")
    if len(data) < block_size + 1:
        raise ValueError(f"next_token_batches: data has {len(data)} tokens, but one window needs block_size + 1 "
                         f"= {block_size + 1} (inputs and their next tokens); use a smaller block_size or more "
                         "text")
    offsets = torch.arange(block_size + 1)

    def batch(step: int):
        g = torch.Generator().manual_seed(seed * 1_000_003 + step)
        starts = torch.randint(len(data) - block_size, (batch_size, 1), generator=g)  # 0 .. len - T - 1
        window = data[starts + offsets]  # (B, T+1) in one gather, no Python loop
        return window[:, :-1], window[:, 1:]

    return batch
