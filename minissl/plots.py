"""Plotting helpers: loss curves, image grids, label-efficiency curves. Matplotlib only."""

from __future__ import annotations

import numpy as np
import torch


def _axes(ax, figsize=(6, 3.5)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_history(history, names=None, ax=None, logy: bool = False, title: str | None = None):
    """Draw metrics of a :class:`minissl.train.History` against the step (all but ``lr`` by default)."""
    ax = _axes(ax)
    names = names or [n for n in history.values if n != "lr"]
    for name in [names] if isinstance(names, str) else names:
        marker = "." if len(history.values[name]) < 30 else None  # few points: show each one
        ax.plot(history.steps[name], history.values[name], label=name, marker=marker)
    ax.set_xlabel("step")
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def to_display(images) -> np.ndarray:
    """Images as a float array ``(N, H, W, 3)`` in [0, 1] for ``imshow``.

    Accepts uint8 ``(N, H, W, 3)`` arrays (as the loaders return) or float tensors ``(N, 3, H, W)`` in [0, 1].
    """
    if isinstance(images, torch.Tensor):
        images = images.detach().float().cpu()
        if images.dim() == 4 and images.shape[1] in (1, 3):
            images = images.permute(0, 2, 3, 1)
        images = images.numpy()
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255.0
    if images.ndim == 3:  # (N, H, W) grayscale
        images = images[..., None]
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    return np.clip(images, 0.0, 1.0)


def show_images(images, ncols: int = 8, titles=None, scale: float = 1.2, suptitle: str | None = None):
    """A grid of images with optional titles; returns the figure."""
    import matplotlib.pyplot as plt

    images = to_display(images)
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(scale * ncols, scale * nrows + (0.3 if suptitle else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_label_efficiency(results: dict, ax=None, ylabel: str = "test accuracy", title: str | None = None):
    """``results = {"method": {labels_per_class: accuracy, ...}, ...}`` -> one line per method, log x axis.

    A value may be a list of accuracies (several seeds): the mean is drawn with a band from min to max.
    """
    ax = _axes(ax)
    for name, curve in results.items():
        xs = sorted(curve)
        vals = [np.atleast_1d(curve[x]) for x in xs]
        mean = [v.mean() for v in vals]
        line, = ax.plot(xs, mean, marker="o", label=name)
        if any(len(v) > 1 for v in vals):
            ax.fill_between(xs, [v.min() for v in vals], [v.max() for v in vals], alpha=0.2, color=line.get_color())
    ax.set_xscale("log")
    budgets = sorted({x for curve in results.values() for x in curve})
    ax.set_xticks(budgets, [f"{x:g}" for x in budgets])  # a tick at every budget measured, none between
    ax.minorticks_off()
    ax.set_xlabel("labels per class")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax
