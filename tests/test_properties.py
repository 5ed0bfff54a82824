"""Property-based tests (Hypothesis): laws that must hold for *every* input, not only the ones we thought of.

Tokenizers (round trips, decoding of arbitrary ids), BERT masking (special ids, labels, 80/10/10), augmentations
(range, shape, seed) and the CIFAR-10 parsers (arbitrary bytes). Bounded to a few seconds each: the example
counts are small and there is no deadline (the shared test machine is slow at times). Statistical properties
run derandomized, so they never fail by bad luck.
"""

import pickle

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from minissl import augment as A
from minissl.data import cifar, safe_pickle
from minissl.data.store import DatasetError
from minissl.masking import IGNORE_INDEX, mask_tokens
from minissl.text import BPETokenizer, CharTokenizer

# No deadline (the shared test machine is slow at times), no example database (no .hypothesis folder).
BASE = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FAST = settings(BASE, max_examples=60)
STATS = settings(BASE, max_examples=25, derandomize=True)

# st.text() never draws lone surrogates (category Cs), but st.characters() as an alphabet does: CHARS is the
# characters without them; LONE adds them on purpose
CHARS = st.characters(exclude_categories=("Cs",))
LONE = st.integers(0xD800, 0xDFFF).map(chr)
WITH_SURROGATES = st.text(st.one_of(st.characters(), LONE))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny tensors: one thread is much faster than a thread pool fighting for a busy machine's cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _utf8_ok(text) -> bool:
    return isinstance(text, str) and isinstance(text.encode("utf-8"), bytes)  # raises if not writable


# ----------------------------------------------------------------------------------------------- tokenizers


@pytest.fixture(scope="module")
def bpe():
    corpus = ("the theme of the thesis is there, then they threw three thin things. " * 10
              + "Ünïcödé ✓ 日本語 🙂 tabs\there 123 456 ")
    return BPETokenizer.train(corpus, vocab_size=320, special_tokens=["[PAD]", "[MASK]"])


@FAST
@given(train=st.text(min_size=1), data=st.data())
def test_char_round_trip_of_any_text_of_its_characters(train, data):
    tok = CharTokenizer.train(train)
    text = data.draw(st.text(st.sampled_from(tok.chars)))
    assert tok.decode(tok.encode(text)) == text


@FAST
@given(train=st.text(min_size=1), data=st.data())
def test_char_decode_of_any_ids_is_writable(train, data):
    tok = CharTokenizer.train(train, special_tokens=["[MASK]"])
    ids = data.draw(st.lists(st.integers(0, tok.vocab_size - 1), max_size=50))
    assert _utf8_ok(tok.decode(ids))


@FAST
@given(text=st.text())
def test_bpe_round_trip_of_any_text(bpe, text):
    ids = bpe.encode(text)
    assert all(0 <= i < bpe.vocab_size - 2 for i in ids)  # plain text never yields a special token
    assert len(ids) <= len(text.encode("utf-8"))  # merges only ever shorten
    assert bpe.decode(ids) == text


@FAST
@given(ids=st.lists(st.integers(0, 317), max_size=60))  # training may stop short of 320: ids 0..317 exist
@example(ids=[0xED, 0xA0, 0x80])  # karpathy/minbpe#96: the bytes of the lone surrogate U+D800
@example(ids=[0xF0, 0x9F])  # a truncated emoji
def test_bpe_decode_of_any_ids_is_writable_and_stable(bpe, ids):
    ids = [i if i < bpe.vocab_size else 0 for i in ids]
    text = bpe.decode(ids)
    assert _utf8_ok(text)
    assert bpe.decode(bpe.encode(text)) == text  # the decoded text is a fixed point of the round trip


@FAST
@given(text=WITH_SURROGATES)
def test_lone_surrogates_are_refused_or_passed_exactly(bpe, text):
    assert bpe.decode(bpe.encode(text, surrogatepass=True), surrogatepass=True) == text
    if any("\ud800" <= c <= "\udfff" for c in text):
        with pytest.raises(ValueError, match="lone surrogate"):
            bpe.encode(text)
        with pytest.raises(ValueError, match="lone surrogate"):
            CharTokenizer.train(text)
    else:
        assert bpe.decode(bpe.encode(text)) == text


@settings(BASE, max_examples=15)
@given(train=st.text(st.sampled_from("ab c✓\n") | CHARS, min_size=1, max_size=300), text=st.text())
def test_bpe_trained_on_any_text_round_trips_any_text(train, text):
    tok = BPETokenizer.train(train, vocab_size=280)
    assert tok.decode(tok.encode(train)) == train and tok.decode(tok.encode(text)) == text
    for k, (a, b) in enumerate(tok.merges):
        assert tok.token_bytes(256 + k) == tok.token_bytes(a) + tok.token_bytes(b)


# ----------------------------------------------------------------------------------------------- masking

V, PAD, CLS, SEP, MASK = 40, 0, 1, 2, 3


def _ids(seed, B, T, n_special):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, V, (B, T), generator=g)
    ids[:, :n_special] = CLS  # some positions certainly special
    return ids


@FAST
@given(seed=st.integers(0, 2**31), B=st.integers(1, 8), T=st.integers(1, 40), n_special=st.integers(0, 5),
       prob=st.floats(0.01, 0.99), special=st.sets(st.sampled_from([PAD, CLS, SEP, 7, 11]), min_size=1))
def test_masking_laws_hold_for_any_batch(seed, B, T, n_special, prob, special):
    special = special | {CLS}
    ids = _ids(seed, B, T, n_special)
    inputs, labels = mask_tokens(ids, vocab_size=V, mask_id=MASK, special_ids=sorted(special), prob=prob,
                                 generator=torch.Generator().manual_seed(seed))
    is_special = torch.isin(ids, torch.tensor(sorted(special | {MASK})))
    chosen = labels != IGNORE_INDEX
    assert not (chosen & is_special).any()  # special ids (and [MASK] itself) are never chosen
    assert torch.equal(labels[chosen], ids[chosen])  # a chosen label is the original token...
    assert torch.equal(inputs[~chosen], ids[~chosen])  # ...and -100 exactly where nothing was touched
    random = chosen & (inputs != MASK) & (inputs != ids)
    assert not torch.isin(inputs[random], torch.tensor(sorted(special | {MASK}))).any()  # never drawn
    assert inputs.shape == labels.shape == ids.shape and inputs.dtype == labels.dtype == torch.long


def _within(count: int, n: int, p: float, sigmas: float = 6.0) -> bool:
    """``count`` successes of ``n`` is within ``sigmas`` binomial standard deviations of ``n p``."""
    return abs(count - n * p) <= sigmas * (n * p * (1 - p)) ** 0.5 + 1


@STATS
@given(seed=st.integers(0, 2**31), prob=st.floats(0.05, 0.95))
def test_masking_proportions_are_prob_then_80_10_10(seed, prob):
    ids = _ids(seed, 64, 128, n_special=8)
    inputs, labels = mask_tokens(ids, vocab_size=V, mask_id=MASK, special_ids=[PAD, CLS, SEP], prob=prob,
                                 generator=torch.Generator().manual_seed(seed + 1))
    ordinary = ~torch.isin(ids, torch.tensor([PAD, CLS, SEP, MASK]))
    chosen = labels != IGNORE_INDEX
    n, c = int(ordinary.sum()), int(chosen.sum())
    assert _within(c, n, prob)
    masked = int((inputs[chosen] == MASK).sum())
    changed = int(((inputs[chosen] != MASK) & (inputs[chosen] != ids[chosen])).sum())
    p_same = 1 / (V - 4)  # a random replacement may draw the original token back
    assert _within(masked, c, 0.8) and _within(changed, c, 0.1 * (1 - p_same))


# ----------------------------------------------------------------------------------------------- augmentations

AUGMENTATIONS = {
    "crop": lambda x, g: A.random_resized_crop(x, 12, generator=g),
    "flip": lambda x, g: A.random_horizontal_flip(x, generator=g),
    "jitter": lambda x, g: A.color_jitter(x, 0.8, 0.8, 0.8, 0.5, p=0.8, generator=g),
    "gray": lambda x, g: A.random_grayscale(x, p=0.5, generator=g),
    "blur": lambda x, g: A.gaussian_blur(x, p=0.5, generator=g),
    "solarize": lambda x, g: A.random_solarize(x, p=0.5, generator=g),
    "simclr": lambda x, g: A.SimCLRAugment(size=12, blur_p=0.5)(x, g),
    "multicrop": lambda x, g: torch.cat([v.flatten(1) for v in A.MultiCrop(12, 6, n_local=2)(x, g)], 1),
}
SHAPE = {"crop": (3, 12, 12), "simclr": (3, 12, 12), "multicrop": (2 * 3 * 12 * 12 + 2 * 3 * 6 * 6,)}


@st.composite
def images(draw):
    b, h, w = draw(st.integers(1, 4)), draw(st.integers(1, 20)), draw(st.integers(1, 20))
    kind = draw(st.sampled_from(["uniform", "zeros", "ones", "binary", "near edges"]))
    x = torch.rand(b, 3, h, w, generator=torch.Generator().manual_seed(draw(st.integers(0, 2**31))),
                   dtype=draw(st.sampled_from([torch.float32, torch.float64])))
    if kind == "zeros":
        x = torch.zeros_like(x)
    elif kind == "ones":
        x = torch.ones_like(x)
    elif kind == "binary":
        x = (x > 0.5).to(x.dtype)
    elif kind == "near edges":
        x = torch.where(x > 0.5, 1 - x * 1e-7, x * 1e-7)
    return x


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
@settings(BASE, max_examples=20)
@given(x=images(), seed=st.integers(0, 2**31))
def test_augmentations_stay_in_range_keep_shape_and_follow_the_seed(name, x, seed):
    fn = AUGMENTATIONS[name]
    before = x.clone()
    out = fn(x, torch.Generator().manual_seed(seed))
    assert out.dtype == x.dtype and torch.isfinite(out).all()
    assert out.min() >= 0 and out.max() <= 1
    assert out.shape == (x.shape[0], *SHAPE.get(name, x.shape[1:]))
    assert torch.equal(out, fn(x, torch.Generator().manual_seed(seed)))  # same seed, same output
    assert torch.equal(x, before)  # never modified in place


# ----------------------------------------------------------------------------------------------- data parsers

CLEAR_ERRORS = (DatasetError, pickle.UnpicklingError)  # UnsafePickleError is an UnpicklingError


def _read(tmp_path, data: bytes, reader):
    path = tmp_path / "batch"
    path.write_bytes(data)
    try:
        return reader(path)
    except CLEAR_ERRORS:
        return None


# Malformed files of every kind give a clear error; the @example lines are the smallest inputs that once
# raised EOFError, ValueError, OverflowError, TypeError, UnicodeDecodeError or MemoryError instead.
PARSERS = settings(BASE, max_examples=150, report_multiple_bugs=False)



@pytest.mark.parametrize("reader", [safe_pickle.load, cifar.read_batch], ids=["safe_pickle.load", "read_batch"])
@PARSERS
@given(data=st.binary(max_size=64) | st.binary(max_size=40).map(lambda b: b"\x80\x02" + b))
@example(data=b"")  # EOFError: Ran out of input
@example(data=b"\x82a")  # ValueError: unregistered extension code 97
@example(data=b"\x80\x02N\x98UVJH\xeb")  # TypeError: memoryview: a bytes-like object is required, not 'NoneType'
@example(data=b"L\x01\xc2\n\x97\x12\xf0\r")  # UnicodeDecodeError
@example(data=b"\x8d\x83\xc8\x98\xde\x7fUO\x98")  # OverflowError: BINUNICODE exceeds system's maximum size
@example(data=b"\x80\x05\x96\xff\xff\xff\xff\xff\xff\xff\x7f")  # MemoryError from an 11-byte file
def test_parsers_fail_only_with_clear_errors_on_any_bytes(tmp_path, reader, data):
    _read(tmp_path, data, reader)



@PARSERS
@given(batch=st.fixed_dictionaries({
    b"data": st.one_of(st.none(), st.integers(), st.text(max_size=3), st.lists(st.integers(-300, 300), max_size=3),
                       st.integers(0, 3).map(lambda n: np.zeros((n, 3072), dtype=np.uint8))),
    b"labels": st.one_of(st.none(), st.integers(), st.lists(st.integers(0, 9) | st.text(max_size=2), max_size=3)),
}))
@example(batch={b"data": 1, b"labels": 1})  # TypeError: object of type 'int' has no len()
@example(batch={b"data": [[300] * 3072], b"labels": [0]})  # OverflowError: Python integer 300 out of bounds
@example(batch={b"data": np.zeros((1, 3072), np.uint8), b"labels": ["a"]})  # ValueError: invalid literal for int()
@example(batch={b"data": np.zeros((1, 3072), np.uint8), b"labels": None})  # TypeError: NoneType has no len()
def test_read_batch_of_any_pickled_dict_gives_a_batch_or_a_clear_error(tmp_path, batch):
    out = _read(tmp_path, pickle.dumps(batch, protocol=2), cifar.read_batch)
    if out is not None:
        images, labels = out
        assert images.dtype == np.uint8 and images.shape[1:] == (32, 32, 3)
        assert labels.dtype == np.int64 and labels.shape == (len(images),)


@PARSERS
@given(n=st.integers(1, 3), seed=st.integers(0, 2**31), labels=st.lists(st.integers(0, 9), min_size=3, max_size=3))
def test_read_batch_reads_any_well_formed_batch(tmp_path, n, seed, labels):
    data = np.random.default_rng(seed).integers(0, 256, (n, 3072), dtype=np.uint8)
    images, got = _read(tmp_path, pickle.dumps({b"data": data, b"labels": labels[:n]}, protocol=2), cifar.read_batch)
    assert images.shape == (n, 32, 32, 3) and got.tolist() == labels[:n]
    assert images.reshape(n, -1, 3).transpose(0, 2, 1).reshape(n, -1).tolist() == data.tolist()  # RGB planes
