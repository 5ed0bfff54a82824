"""Pang & Lee's movie-review sets (minissl.data.reviews), the word tokenizer and CBOW."""

import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from minissl import data
from minissl.data import reviews, store
from minissl.models import CBOW
from minissl.models.cbow import cbow_batches, noise_distribution
from minissl.text import TokenizerFileError, WordTokenizer


def test_mirror_review_sets(mirror):
    texts = data.movie_reviews()
    assert len(texts) == 2000 and all(t and t == t.lower() for t in texts[:50])
    assert 1_400_000 < sum(len(t.split()) for t in texts) < 1_600_000
    mr, y = data.sentence_polarity()
    assert len(mr) == 10662 and y.dtype == np.int64 and y.tolist() == [1] * 5331 + [0] * 5331
    assert mr[0].startswith("the rock is destined")
    subj, z = data.subjectivity()
    assert len(subj) == 10000 and z.dtype == np.int64 and z.sum() == 5000 and z[0] == 1 and z[-1] == 0
    # Windows-1252 punctuation that survived as C1 control characters is given its meaning
    assert not any(c in s for s in mr + subj for c in "\x91\x92\x96\x97")
    assert any("é" in s for s in mr)  # real accented letters kept


def test_corrupt_review_zip_is_refused(mirror, tmp_path):
    folder = tmp_path / reviews.NLTK_FOLDER
    folder.mkdir()
    raw = bytearray((mirror / reviews.NLTK_FOLDER / "subjectivity.zip").read_bytes())
    raw[5000] ^= 1
    (folder / "subjectivity.zip").write_bytes(bytes(raw))
    with pytest.raises(data.DatasetError, match="corrupt.*Delete it"):
        data.subjectivity(root=tmp_path)


def test_review_download_is_verified_and_moved_into_place(mirror, tmp_path, monkeypatch):
    good = (mirror / reviews.NLTK_FOLDER / "sentence_polarity.zip").read_bytes()

    urls = []
    monkeypatch.setattr(store.urllib.request, "urlopen", lambda url, timeout=None: urls.append(url) or io.BytesIO(good))
    texts, labels = data.sentence_polarity(root=tmp_path)
    assert len(texts) == 10662 and urls == [reviews.NLTK_BASE + "sentence_polarity.zip"]
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["sentence_polarity.zip"]


# --- WordTokenizer ------------------------------------------------------------------------------------------------


def test_word_tokenizer_roundtrip_and_unknown_words(tmp_path):
    tok = WordTokenizer.train(["the film was bad", "the plot was good", "the end"], vocab_size=6,
                              special_tokens=["[PAD]", "[UNK]"])
    assert tok.words == ["the", "was", "bad", "end"]  # by count, ties alphabetical
    assert tok.special == {"[PAD]": 4, "[UNK]": 5} and tok.vocab_size == 6
    assert tok.encode("the bad  film\nwas") == [0, 2, 5, 1]
    assert tok.decode(tok.encode("the end was bad")) == "the end was bad"
    assert tok.encode("[PAD] [UNK]") == [5, 5]  # plain text cannot forge a special token
    again = WordTokenizer.load(tok.save(tmp_path / "words.json"))
    assert again.words == tok.words and again.special == tok.special


def test_word_tokenizer_errors(tmp_path):
    with pytest.raises(ValueError, match="unk"):
        WordTokenizer(["a"], special_tokens=["[PAD]"])
    with pytest.raises(ValueError, match="no room"):
        WordTokenizer.train(["a b"], vocab_size=1, special_tokens=["[UNK]"])
    with pytest.raises(ValueError, match="not one string"):
        WordTokenizer.train("a b c", vocab_size=5)
    with pytest.raises(ValueError, match=r"ids must be ints in \[0, 2\)"):
        WordTokenizer(["a"]).decode([2])
    (tmp_path / "bpe.json").write_text('{"format": "minissl.text", "kind": "BPETokenizer"}')
    with pytest.raises(TokenizerFileError, match="not a WordTokenizer"):
        WordTokenizer.load(tmp_path / "bpe.json")


# --- CBOW ---------------------------------------------------------------------------------------------------------


def test_cbow_loss_by_hand():
    torch.manual_seed(0)
    model = CBOW(vocab_size=7, dim=4, ignore_ids=[0])
    torch.nn.init.normal_(model.out.weight)
    context = torch.tensor([[0, 1, 2, 3]])  # id 0 is ignored: the bag is the mean of E[1], E[2], E[3]
    target, negatives = torch.tensor([4]), torch.tensor([[5, 6, 5]])
    h = model.embed.weight[1:4].mean(0)
    U = model.out.weight
    expected = -(F.logsigmoid(h @ U[4]) + F.logsigmoid(-(U[[5, 6, 5]] @ h)).sum())
    torch.testing.assert_close(model.loss(context, target, negatives), expected)
    with pytest.raises(ValueError, match="expected context"):
        model.loss(context, torch.tensor([4, 5]), negatives)
    with pytest.raises(ValueError, match=r"shape \(B, L\)"):
        model.bag(torch.tensor([1, 2]))


def test_cbow_loss_gradcheck_in_float64():
    model = CBOW(vocab_size=6, dim=3, ignore_ids=[0]).double()
    torch.nn.init.normal_(model.out.weight)
    context, target = torch.tensor([[0, 1, 2, 3], [4, 5, 1, 0]]), torch.tensor([4, 2])
    negatives = torch.tensor([[1, 5], [3, 3]])

    class Loss(nn.Module):  # functional_call needs a forward
        def __init__(self):
            super().__init__()
            self.cbow = model

        def forward(self, *batch):
            return self.cbow.loss(*batch)

    def loss(E, U):
        return torch.func.functional_call(Loss(), {"cbow.embed.weight": E, "cbow.out.weight": U},
                                          (context, target, negatives))

    E = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    U = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    assert model.loss(context, target, negatives).dtype == torch.float64  # computed in the inputs' precision
    assert torch.autograd.gradcheck(loss, (E, U))


def test_noise_distribution_is_unigram_to_the_three_quarters():
    stream = torch.tensor([0, 1, 1, 1, 1, 2, 0])
    noise = noise_distribution(stream, vocab_size=4, ignore_ids=[0])
    expected = torch.tensor([0.0, 4 ** 0.75, 1.0, 0.0])
    torch.testing.assert_close(noise, (expected / expected.sum()).float())
    with pytest.raises(ValueError, match="no word that is not ignored"):
        noise_distribution(torch.tensor([0, 0]), vocab_size=2, ignore_ids=[0])


def test_cbow_batches_stay_inside_sentences_and_skip_ignored_words():
    pad, W = 0, 2
    stream = torch.tensor([pad] * W + [5, 6, 7] + [pad] * W + [8, 9] + [pad] * W)
    batches = cbow_batches(stream, window=W, batch_size=64, ignore_ids=[pad], seed=1, negatives=3)
    context, target, negatives = batches(0)
    assert context.shape == (64, 2 * W) and target.shape == (64,) and negatives.shape == (64, 3)
    assert set(target.tolist()) == {5, 6, 7, 8, 9}
    assert set(negatives.flatten().tolist()) <= {5, 6, 7, 8, 9}  # noise words are words, never padding
    for c, t in zip(context.tolist(), target.tolist()):
        sentence = {5, 6, 7} if t in (5, 6, 7) else {8, 9}
        assert set(c) - {pad} == sentence - {t}  # all its neighbours, from its own sentence only
    for a, b in zip(batches(3), batches(3)):
        torch.testing.assert_close(a, b)  # deterministic per step
    with pytest.raises(ValueError, match="longer than 2 \\* window"):
        cbow_batches(torch.tensor([1, 2]), window=2, batch_size=4)
    with pytest.raises(ValueError, match="negatives must be at least 1"):
        cbow_batches(stream, window=W, batch_size=4, ignore_ids=[pad], negatives=0)


def test_cbow_gives_interchangeable_words_close_vectors():
    # words 1 and 2 fill the same slot of the same frame ("7 8 _ 9 10"); words 3 and 4 that of "11 12 _ 13 14";
    # as context words, 1 and 2 then predict the same targets, so their vectors grow alike
    rng = np.random.default_rng(0)
    frames = [[7, 8, 9, 10], [11, 12, 13, 14]]
    sentences = []
    for k in range(800):
        frame = frames[k % 2]
        word = rng.choice([1, 2]) if k % 2 == 0 else rng.choice([3, 4])
        sentences.append(frame[:2] + [int(word)] + frame[2:])
    stream = torch.tensor([i for s in sentences for i in [0, 0] + s] + [0, 0])
    model = CBOW(vocab_size=15, dim=16, ignore_ids=[0])
    batches = cbow_batches(stream, window=2, batch_size=128, ignore_ids=[0])
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for step in range(200):
        loss = model.loss(*batches(step))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model.neighbours(1, k=1) == [2] and model.neighbours(3, k=1) == [4]
