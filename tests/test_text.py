"""Tokenizers (chapter: Text as tokens): exact round-trips, unseen characters, save/load, errors."""

import json

import pytest
import torch

from minissl.text import BPETokenizer, CharTokenizer, TokenizerFileError, next_token_batches

CORPUS = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 20
          + "the theme of the thesis is there, then they threw three thin things.\n" * 20)
STRANGE = ["", " ", "héllo wörld ✓", "日本語のテキスト", "emoji \U0001F600\U0001F680!",
           "tabs\tand\r\nnewlines\n\n  ", "snake_case __dunder__ 123_456",
           "lone surrogate \ud800 here", "\x00\x01 control", "  leading spaces"]


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


def test_shakespeare_round_trip(mirror):
    from minissl.data import tiny_shakespeare

    text = tiny_shakespeare(mirror)[:100_000]
    tok = BPETokenizer.train(text, vocab_size=400)
    assert tok.decode(tok.encode(text)) == text
