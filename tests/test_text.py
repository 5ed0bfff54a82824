"""Tokenizers (chapter: Text as tokens): exact round-trips, unseen characters, writable decoding, lone
surrogates, save/load, errors; next-token windows."""

import io
import json

import pytest
import torch

from minissl.text import BPETokenizer, CharTokenizer, TokenizerFileError, next_token_batches

CORPUS = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 20
          + "the theme of the thesis is there, then they threw three thin things.\n" * 20)
STRANGE = ["", " ", "héllo wörld ✓", "日本語のテキスト", "emoji \U0001F600\U0001F680!",
           "tabs\tand\r\nnewlines\n\n  ", "snake_case __dunder__ 123_456",
           "\x00\x01 control", "  leading spaces", "\U0010ffff \ufffd \ufeff"]


@pytest.fixture(scope="module")
def bpe():
    return BPETokenizer.train(CORPUS, vocab_size=300)


def test_char_round_trip_and_unseen():
    tok = CharTokenizer.train(CORPUS)
    assert tok.vocab_size == len(set(CORPUS))
    assert tok.decode(tok.encode(CORPUS)) == CORPUS
    with pytest.raises(ValueError, match="never seen"):
        tok.encode("Zebra ✓")


@pytest.mark.parametrize("text", STRANGE + [CORPUS])
def test_bpe_round_trip_any_string(bpe, text):
    ids = bpe.encode(text)
    assert all(0 <= i < bpe.vocab_size for i in ids)
    assert bpe.decode(ids) == text


def _writable(text: str) -> bool:
    """What print() and a UTF-8 file need: a str that encodes to UTF-8 (else UnicodeEncodeError)."""
    print(text, file=io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    return isinstance(text, str)


def test_bpe_decode_of_invalid_utf8_is_writable_text():
    # karpathy/minbpe#96: the bytes of a lone surrogate (ED A0 80) used to decode to '\ud800', which print() and
    # UTF-8 files refuse. Sampled ids can be any byte sequence; decode must replace what is not valid UTF-8.
    tok = BPETokenizer.train("hello world " * 20, vocab_size=260)
    assert tok.decode([0xED, 0xA0, 0x80]) == "\ufffd" * 3 and _writable(tok.decode([0xED, 0xA0, 0x80]))
    for ids in ([0xFF], [0xC3], [0xF0, 0x9F, 0x98], [104, 0x80, 105], list(range(256)), [0xED, 0xBF, 0xBF]):
        assert _writable(tok.decode(ids)), ids
    assert tok.decode([0xC3, 0xA9]) == "é"  # valid UTF-8 is decoded as it is
    assert tok.decode(list("✓".encode("utf-8"))[:2] + [ord("x")]) == "\ufffdx"


def test_lone_surrogates_are_a_clear_error_or_an_explicit_option(tmp_path, bpe):
    text = "lone surrogate \ud800 here \udfff"
    with pytest.raises(ValueError, match=r"2 lone surrogate\(s\), the first '\\ud800' at position 15.*surrogatepass"):
        bpe.encode(text)
    ids = bpe.encode(text, surrogatepass=True)  # explicit: exact round trip, text not writable
    assert bpe.decode(ids, surrogatepass=True) == text
    assert bpe.decode(ids) == text.replace("\ud800", "\ufffd" * 3).replace("\udfff", "\ufffd" * 3)
    assert bpe.decode([0xFF, 0xED, 0xA0, 0x80], surrogatepass=True) == "\ufffd" * 4  # invalid even so: U+FFFD
    with pytest.raises(ValueError, match="BPETokenizer.train: the text holds 1 lone surrogate"):
        BPETokenizer.train(CORPUS + "\udc80", vocab_size=260)
    with pytest.raises(ValueError, match=r"CharTokenizer.train: .* at position 1;"):
        CharTokenizer.train("a\ud800b")
    with pytest.raises(ValueError, match="never seen"):
        CharTokenizer.train("abc").encode("a\ud800")
    with pytest.raises(ValueError, match="special token"):  # decoded as its name, so it must be writable
        CharTokenizer.train("abc", special_tokens=["[MASK\udc00]"])
    with pytest.raises(ValueError, match="special token"):
        BPETokenizer(special_tokens=["\ud800"])
    path = tmp_path / "char.json"  # a file whose vocabulary holds a lone surrogate is damaged
    path.write_text(json.dumps({"format": "minissl.text", "kind": "CharTokenizer", "version": 1,
                                "chars": ["a", "\ud800"], "special_tokens": []}))
    with pytest.raises(TokenizerFileError, match="damaged"):
        CharTokenizer.load(path)


def test_token_bytes_out_of_range(bpe):
    assert bpe.token_bytes(299) == bpe.vocab[299]
    for bad in (-1, 300):
        with pytest.raises(ValueError, match=r"\[0, 300\)"):
            bpe.token_bytes(bad)


def test_bpe_compresses_and_learns_frequent_pairs(bpe):
    assert len(bpe.merges) == 300 - 256
    assert len(bpe.encode(CORPUS)) < 0.5 * len(CORPUS.encode("utf-8"))
    learned = {bpe.token_bytes(i) for i in range(256, bpe.vocab_size)}
    assert b" speak" in learned or b"speak" in learned
    # every learned token is the concatenation of its two parts
    for k, (a, b) in enumerate(bpe.merges):
        assert bpe.token_bytes(256 + k) == bpe.token_bytes(a) + bpe.token_bytes(b)


def test_bpe_training_is_deterministic(bpe):
    assert BPETokenizer.train(CORPUS, vocab_size=300).merges == bpe.merges


def test_bpe_unseen_characters_fall_back_to_bytes(bpe):
    assert bpe.encode("✓") == list("✓".encode("utf-8"))


def test_special_tokens():
    tok = BPETokenizer.train(CORPUS, vocab_size=300, special_tokens=["[PAD]", "[MASK]"])
    assert tok.vocab_size == 300 and tok.special["[MASK]"] == 299
    assert tok.special["[MASK]"] not in tok.encode("[MASK] " + CORPUS)  # plain text never yields specials
    assert tok.decode([tok.special["[MASK]"]]) == "[MASK]"
    char = CharTokenizer.train("abc", special_tokens=["[MASK]"])
    assert char.special == {"[MASK]": 3} and char.vocab_size == 4


def test_save_load_round_trip(tmp_path, bpe):
    path = bpe.save(tmp_path / "bpe.json")
    again = BPETokenizer.load(path)
    assert again.merges == bpe.merges and again.encode(CORPUS) == bpe.encode(CORPUS)
    char = CharTokenizer.train(CORPUS, special_tokens=["[PAD]"])
    char_again = CharTokenizer.load(char.save(tmp_path / "char.json"))
    assert char_again.encode(CORPUS) == char.encode(CORPUS) and char_again.special == char.special
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []  # written atomically


def test_load_bad_files_is_a_clear_error(tmp_path, bpe):
    with pytest.raises(TokenizerFileError, match="no file"):
        BPETokenizer.load(tmp_path / "missing.json")
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps({"format": "minissl.text"})[:-5])
    with pytest.raises(TokenizerFileError, match="not valid JSON"):
        BPETokenizer.load(truncated)
    char_file = CharTokenizer.train("abc").save(tmp_path / "char.json")
    with pytest.raises(TokenizerFileError, match="not a BPETokenizer"):
        BPETokenizer.load(char_file)
    state = json.loads(bpe.save(tmp_path / "bpe.json").read_text())
    state["merges"][0] = [999, 1]
    damaged = tmp_path / "damaged.json"
    damaged.write_text(json.dumps(state))
    with pytest.raises(TokenizerFileError, match="damaged"):
        BPETokenizer.load(damaged)


def test_bad_arguments(bpe):
    with pytest.raises(ValueError, match="vocab_size"):
        BPETokenizer.train(CORPUS, vocab_size=100)
    with pytest.raises(ValueError, match=r"\[0, 300\)"):
        bpe.decode([300])
    with pytest.raises(TypeError):
        bpe.encode(b"bytes")


def test_next_token_batches_shift_by_one():
    data = torch.arange(1000)
    batches = next_token_batches(data, block_size=16, batch_size=4, seed=1)
    x, y = batches(7)
    assert x.shape == y.shape == (4, 16)
    assert torch.equal(y, x + 1)  # the label of every position is the next token
    assert torch.equal(batches(7)[0], x)  # deterministic in the step
    assert not torch.equal(batches(8)[0], x)


def test_next_token_batches_draws_every_window_including_the_last():
    # karpathy/ng-video-lecture#56: randint(len - block_size - 1) never drew the last window, so the last token
    # was never a target. With 10 tokens and block_size 4 the windows start at 0..5, each drawn.
    data = torch.arange(10)
    batches = next_token_batches(data, block_size=4, batch_size=64, seed=0)
    starts = torch.cat([batches(step)[0][:, 0] for step in range(20)])  # 1280 draws
    assert sorted(set(starts.tolist())) == [0, 1, 2, 3, 4, 5]
    assert starts.bincount(minlength=6).min() > 1280 / 6 * 0.7  # about uniform
    x, y = batches(0)
    torch.testing.assert_close(x, x[:, :1] + torch.arange(4))  # contiguous windows of the stream
    torch.testing.assert_close(y, x + 1)  # targets: the inputs shifted by one
    assert 9 in y  # the last token is a target


def test_next_token_batches_shortest_stream_and_errors():
    x, y = next_token_batches(torch.arange(5), block_size=4, batch_size=3)(0)  # exactly block_size + 1 tokens
    assert torch.equal(x, torch.arange(4).expand(3, 4)) and torch.equal(y, torch.arange(1, 5).expand(3, 4))
    with pytest.raises(ValueError, match=r"data has 4 tokens, but one window needs block_size \+ 1 = 5"):
        next_token_batches(torch.arange(4), block_size=4, batch_size=3)
    with pytest.raises(ValueError, match="1-D"):
        next_token_batches(torch.zeros(2, 8), block_size=4, batch_size=3)
    with pytest.raises(ValueError, match="block_size and batch_size must be >= 1"):
        next_token_batches(torch.arange(8), block_size=0, batch_size=3)


def test_shakespeare_round_trip(mirror):
    from minissl.data import tiny_shakespeare

    text = tiny_shakespeare(mirror)[:100_000]
    tok = BPETokenizer.train(text, vocab_size=400)
    assert tok.decode(tok.encode(text)) == text
