import math

import numpy as np
import pytest
import torch

from minissl import eval as ev
from minissl import plots, train


def _clusters(n_per=30, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.eye(3, d) * 5
    X = torch.cat([c + torch.randn(n_per, d, generator=g) for c in centres])
    y = torch.arange(3).repeat_interleave(n_per)
    return X, y


def test_knn_on_separable_clusters():
    X, y = _clusters()
    Xt, yt = _clusters(seed=1)
    assert ev.knn_accuracy(X, y, Xt, yt, k=5) == 1.0


def test_knn_weighted_vote_by_hand():
    # test point along x; two class-0 points close in angle, three class-1 points far: with k=5 and a small
    # temperature the two near neighbours outvote the three far ones; a plain majority would not.
    train_x = torch.tensor([[1.0, 0.05], [1.0, -0.05], [0.0, 1.0], [-0.1, 1.0], [0.1, 1.0]])
    train_y = torch.tensor([0, 0, 1, 1, 1])
    test_x = torch.tensor([[1.0, 0.0]])
    assert ev.knn_predict(train_x, train_y, test_x, k=5, temperature=0.07).item() == 0
    assert ev.knn_predict(train_x, train_y, test_x, k=5, temperature=100.0).item() == 1
    # cosine: the length of a feature vector does not matter
    assert ev.knn_predict(train_x * 7, train_y, test_x * 0.1, k=5, temperature=0.07).item() == 0


def test_knn_shape_errors():
    X, y = _clusters()
    with pytest.raises(ValueError, match="labels must be \\(N,\\) with N = 90"):
        ev.knn_accuracy(X, y[:-1], X, y)
    with pytest.raises(ValueError, match="test features must be"):
        ev.knn_accuracy(X, y, X[:, :2], y)


def test_linear_probe_fits_and_reports_per_class():
    X, y = _clusters()
    Xt, yt = _clusters(seed=1)
    result = ev.linear_probe(X.numpy(), y.numpy(), Xt, yt)
    assert result.accuracy == 1.0 and float(result) == 1.0
    assert result.per_class == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="D=5, test features D=2"):
        ev.linear_probe(X, y, Xt[:, :2], yt)


def test_linear_probe_is_deterministic():
    X, y = _clusters()
    X = X + torch.randn_like(X) * 3
    a = ev.linear_probe(X[::2], y[::2], X[1::2], y[1::2])
    b = ev.linear_probe(X[::2], y[::2], X[1::2], y[1::2])
    assert a.accuracy == b.accuracy


def test_few_labels():
    labels = np.repeat(np.arange(4), 10)
    idx = ev.few_labels(labels, 3, seed=1)
    assert len(idx) == 12 and np.bincount(labels[idx]).tolist() == [3, 3, 3, 3]
    assert (idx == ev.few_labels(labels, 3, seed=1)).all()
    with pytest.raises(ValueError, match="only 10 examples"):
        ev.few_labels(labels, 11)


def test_extract_features_restores_mode():
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Dropout(0.5))
    net.train()
    feats = ev.extract_features(net, torch.randn(10, 4), batch_size=4)
    assert feats.shape == (10, 3) and net.training


def test_perplexity():
    assert ev.perplexity(math.log(65)) == pytest.approx(65)


def test_plots_draw():
    h = train.History()
    for s in range(1, 4):
        h.log(s * 10, loss=1.0 / s, lr=1e-3)
    ax = h.plot()
    assert [line.get_label() for line in ax.get_lines()] == ["loss"]
    fig = plots.show_images(np.zeros((5, 32, 32, 3), dtype=np.uint8), ncols=3, titles=list("abcde"))
    assert len(fig.axes) == 6
    assert plots.to_display(torch.rand(2, 3, 8, 8)).shape == (2, 8, 8, 3)
    ax = plots.plot_label_efficiency({"ssl": {1: [0.5, 0.6], 10: [0.8, 0.9]}, "raw": {1: 0.3, 10: 0.6}})
    assert len(ax.get_lines()) == 2
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "10"]  # a tick at each budget measured
