"""How we tell that self-supervised features are good, without trusting the training loss.

Defined in chapter 1, section *Measuring the features with few labels*; used by every image and text chapter:

* :func:`knn_accuracy`: label a test point by a temperature-weighted vote of its k most cosine-similar
  training points (the protocol of Wu et al., 2018, used by DINO). No training at all.
* :func:`linear_probe`: a logistic-regression classifier trained on frozen features.
* :func:`few_labels`: the indices of n labelled examples per class, for label-efficiency curves.
* :func:`extract_features`: run an encoder over a dataset in batches, without gradients.
* :func:`retrieval_ranks`: for image-text models (chapter *CLIP*), the rank of the right answer among all
  candidates; recall at k is the fraction of ranks <= k.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


def _as_tensor(x, dtype=None) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    return t.to(dtype) if dtype is not None else t


def _check_pair(features: torch.Tensor, labels: torch.Tensor, what: str) -> None:
    if features.dim() != 2:
        raise ValueError(f"{what}: features must be (N, D), got shape {tuple(features.shape)}")
    if labels.dim() != 1 or labels.shape[0] != features.shape[0]:
        raise ValueError(
            f"{what}: labels must be (N,) with N = {features.shape[0]} to match the features, "
            f"got shape {tuple(labels.shape)}"
        )


@torch.no_grad()
def extract_features(encoder, inputs, batch_size: int = 256, device=None) -> torch.Tensor:
    """``encoder(batch)`` over ``inputs`` (a tensor ``(N, ...)``) in eval mode -> float32 features ``(N, D)`` on
    the CPU. The encoder's training mode is restored afterwards."""
    device = device or next(encoder.parameters()).device
    was_training = encoder.training
    encoder.eval()
    out = [encoder(inputs[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(inputs), batch_size)]
    encoder.train(was_training)
    return torch.cat(out).flatten(1)


@torch.no_grad()
def knn_predict(train_features, train_labels, test_features, k: int = 20, temperature: float = 0.07,
                num_classes: int | None = None, chunk: int = 1024, device=None) -> torch.Tensor:
    """Predicted labels ``(M,)`` (on the CPU) by weighted k-NN: each of the k nearest training points (cosine
    similarity s) votes for its label with weight exp(s / temperature). ``device``: where to compute (a GPU
    makes 10,000 x 50,000 similarities a matter of milliseconds); default: where the features are."""
    train_features, test_features = _as_tensor(train_features).float(), _as_tensor(test_features).float()
    train_labels = _as_tensor(train_labels).long()
    if device is not None:
        train_features, test_features, train_labels = (t.to(device) for t in (train_features, test_features,
                                                                               train_labels))
    _check_pair(train_features, train_labels, "knn")
    if test_features.dim() != 2 or test_features.shape[1] != train_features.shape[1]:
        raise ValueError(f"knn: test features must be (M, {train_features.shape[1]}), got {tuple(test_features.shape)}")
    if k < 1:
        raise ValueError(f"knn: k must be >= 1, got {k}")
    k = min(k, len(train_features))
    num_classes = num_classes or int(train_labels.max()) + 1
    train = F.normalize(train_features, dim=1)
    preds = []
    for i in range(0, len(test_features), chunk):
        sims = F.normalize(test_features[i:i + chunk], dim=1) @ train.T  # (m, N) cosine similarities
        top_sims, top_idx = sims.topk(k, dim=1)
        weights = (top_sims / temperature).exp()
        votes = torch.zeros(len(sims), num_classes, device=sims.device)
        votes.scatter_add_(1, train_labels[top_idx], weights)
        preds.append(votes.argmax(dim=1).cpu())
    return torch.cat(preds)


def knn_accuracy(train_features, train_labels, test_features, test_labels, k: int = 20,
                 temperature: float = 0.07, device=None) -> float:
    """Accuracy (0..1) of :func:`knn_predict` on the test set (computed on ``device`` if given)."""
    test_labels = _as_tensor(test_labels).long().cpu()
    num_classes = int(max(_as_tensor(train_labels).max(), test_labels.max())) + 1
    pred = knn_predict(train_features, train_labels, test_features, k, temperature, num_classes, device=device)
    return (pred == test_labels).float().mean().item()


@dataclass
class ProbeResult:
    """A linear probe's test accuracy (0..1), its accuracy per class, and the classifier itself."""

    accuracy: float
    per_class: list[float]
    classifier: torch.nn.Linear

    def __float__(self) -> float:
        return self.accuracy


def per_class_accuracy(pred, labels, num_classes: int) -> list[float]:
    """Fraction correct in each class (NaN for a class absent from ``labels``)."""
    pred, labels = _as_tensor(pred), _as_tensor(labels)
    return [(pred[labels == c] == c).float().mean().item() if (labels == c).any() else math.nan
            for c in range(num_classes)]


def linear_probe(train_features, train_labels, test_features, test_labels, *, weight_decay: float = 1e-3,
                 max_iter: int = 200, standardize: bool = True, device=None) -> ProbeResult:
    """Multinomial logistic regression on frozen features, fitted by L-BFGS (full batch, deterministic).

    Features are standardised with the *training* mean and std. ``weight_decay`` is the L2 penalty (raise it
    when there are few labels per class). ``device``: where to fit (default: where the features are); the
    classifier is returned on that device. Returns a :class:`ProbeResult`.
    """
    X, y = _as_tensor(train_features).float(), _as_tensor(train_labels).long()
    Xt, yt = _as_tensor(test_features).float(), _as_tensor(test_labels).long()
    if device is not None:
        X, y, Xt, yt = (t.to(device) for t in (X, y, Xt, yt))
    _check_pair(X, y, "linear_probe (train)")
    _check_pair(Xt, yt, "linear_probe (test)")
    if Xt.shape[1] != X.shape[1]:
        raise ValueError(f"linear_probe: train features have D={X.shape[1]}, test features D={Xt.shape[1]}")
    if standardize:
        mean, std = X.mean(0), X.std(0, unbiased=False) + 1e-6
        X, Xt = (X - mean) / std, (Xt - mean) / std
    num_classes = int(max(y.max(), yt.max())) + 1
    classifier = torch.nn.Linear(X.shape[1], num_classes, device=X.device)
    torch.nn.init.zeros_(classifier.weight)
    torch.nn.init.zeros_(classifier.bias)
    optimizer = torch.optim.LBFGS(classifier.parameters(), lr=1.0, max_iter=max_iter,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(classifier(X), y) + weight_decay * classifier.weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    with torch.no_grad():
        pred = classifier(Xt).argmax(1)
    return ProbeResult((pred == yt).float().mean().item(), per_class_accuracy(pred, yt, num_classes), classifier)


def few_labels(labels, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` randomly chosen examples of every class (sorted), reproducible by ``seed``."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if per_class > len(idx):
            raise ValueError(f"few_labels: class {c} has only {len(idx)} examples, asked for {per_class}")
        chosen.append(rng.choice(idx, size=per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def perplexity(mean_nll: float) -> float:
    """exp(mean negative log-likelihood in nats): the effective number of equally likely next tokens."""
    return math.exp(mean_nll)


@torch.no_grad()
def retrieval_ranks(queries, keys, targets) -> torch.Tensor:
    """Rank (1 = best) of each query's right key when all keys are sorted by cosine similarity to the query.

    Args:
        queries: ``(Q, D)``; keys: ``(K, D)`` (neither need be normalised); targets: ``(Q,)`` the index of each
            query's right key.

    Returns:
        ``(Q,)`` int64 ranks in ``[1, K]``. Ties count against the query (a key as similar as the right one
        ranks before it), so a model that gives every key the same score gets rank K, never 1. Recall at k
        (R@k, the retrieval measure of image-text models such as CLIP) is ``(ranks <= k).float().mean()``.
    """
    queries, keys = _as_tensor(queries).float(), _as_tensor(keys).float()
    targets = _as_tensor(targets, torch.long)
    if queries.dim() != 2 or keys.dim() != 2 or queries.shape[1] != keys.shape[1]:
        raise ValueError(f"retrieval_ranks: expected queries (Q, D) and keys (K, D), got {tuple(queries.shape)} "
                         f"and {tuple(keys.shape)}")
    if targets.shape != (len(queries),) or (len(targets) and not 0 <= int(targets.min()) <= int(targets.max())
                                             < len(keys)):
        raise ValueError(f"retrieval_ranks: targets must be ({len(queries)},) indices into the {len(keys)} keys")
    sims = F.normalize(queries, dim=1) @ F.normalize(keys, dim=1).T  # (Q, K) cosine similarities
    right = sims.gather(1, targets[:, None])  # (Q, 1)
    beaten = (sims >= right).sum(1)  # keys at least as similar as the right one, itself included
    return beaten
