"""Architecture figures drawn from the models themselves.

A chapter lists its model's parts as boxes on a grid and the data's path as arrows; :func:`trace_shapes` runs one
forward pass with hooks and reads the shape each part really outputs, so the figure cannot drift from the code.
``fig.savefig("model.svg")`` gives a slide. Matplotlib only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

# Fill colours by kind of box: what flows (data), what learns (layer), what is thrown away after training (head),
# what is only a number to minimise (loss).
COLOURS = {"data": "#eeeeee", "layer": "#cfe2f3", "head": "#fce5cd", "loss": "#f4cccc", "frozen": "#d9ead3"}
LEGEND = {"data": "data", "layer": "trained layer", "head": "trained, then thrown away", "loss": "loss",
          "frozen": "evaluation after training"}


@dataclass(frozen=True)
class Box:
    """One part of a model: ``key`` names it for the arrows; ``text`` is what the box says (use ``\\n`` for a
    second line, e.g. the output shape); ``col`` and ``row`` place it (row 0 at the top); ``kind`` is a key of
    :data:`COLOURS`."""

    key: str
    text: str
    col: float
    row: float
    kind: str = "layer"


def format_shape(shape: Sequence[int], names: str = "B") -> str:
    """``(2, 64, 128)`` -> ``"(B, 64, 128)"``: the leading dimensions named (batch ``B`` by default), the rest as
    numbers. ``names="BT"`` names the first two."""
    dims = [names[i] if i < len(names) else str(d) for i, d in enumerate(shape)]
    return "(" + ", ".join(dims) + ")"


def trace_shapes(model: nn.Module, call: Callable[[], object]) -> dict[str, tuple[int, ...]]:
    """Run ``call()`` (a forward pass through ``model``, without gradients) and return the output shape of each
    submodule of ``model`` by its ``named_modules`` name (``""`` is ``model`` itself). A module that returns a
    tuple is recorded by its first tensor; a module called several times keeps its last call.

    Raises ``ValueError`` if no submodule of ``model`` ran during ``call`` (the call used another model)."""
    shapes: dict[str, tuple[int, ...]] = {}

    def record(name):
        def hook(module, inputs, output):
            first = output if isinstance(output, torch.Tensor) else next(
                (o for o in (output if isinstance(output, (tuple, list)) else ()) if isinstance(o, torch.Tensor)), None)
            if first is not None:
                shapes[name] = tuple(first.shape)
        return hook

    handles = [m.register_forward_hook(record(name)) for name, m in model.named_modules()]
    try:
        with torch.no_grad():
            call()
    finally:
        for h in handles:
            h.remove()
    if not shapes:
        raise ValueError("trace_shapes: no submodule of the model ran: call() must run a forward pass of this model")
    return shapes


def draw_architecture(boxes: Iterable[Box], edges: Iterable[tuple], groups: Iterable[tuple] = (),
                      title: str | None = None, width: float = 2.6, height: float = 0.62, scale: float = 1.0):
    """Draw ``boxes`` joined by ``edges`` and return the figure.

    ``edges``: ``(from_key, to_key)``, ``(from_key, to_key, label)`` or ``(from_key, to_key, label, "dashed")`` (a
    dashed arrow: a path taken outside training, e.g. an evaluation); an arrow from the bottom of one box to the
    top of the next (or side to side when they share a row). ``groups``: ``(keys, label)``, a dashed frame around
    those boxes with the label at its right, e.g. ``(["ln1", "attn"], "x N blocks")``.

    Raises ``ValueError`` for a repeated key, an unknown kind, an edge style other than ``"solid"`` or ``"dashed"``,
    or an edge or group naming a key that is not a box.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch, Patch

    boxes = list(boxes)
    at = {}
    for b in boxes:
        if b.key in at:
            raise ValueError(f"box key {b.key!r} is used twice; each box needs its own key")
        if b.kind not in COLOURS:
            raise ValueError(f"box {b.key!r}: unknown kind {b.kind!r}; use one of {sorted(COLOURS)}")
        at[b.key] = b

    def need(key):
        if key not in at:
            raise ValueError(f"{key!r} is not a box; the boxes are {sorted(at)}")
        return at[key]

    edges, groups = [tuple(e) for e in edges], [(list(keys), label) for keys, label in groups]
    for edge in edges:
        need(edge[0]), need(edge[1])
        if len(edge) > 3 and edge[3] not in ("solid", "dashed"):
            raise ValueError(f"edge {edge[:2]}: unknown style {edge[3]!r}; use 'solid' or 'dashed'")
    for keys, _ in groups:
        for key in keys:
            need(key)

    cols = [b.col for b in boxes]
    rows = [b.row for b in boxes]
    span_x, span_y = max(cols) - min(cols) + 1, max(rows) - min(rows) + 1
    fig_height = 0.4 + 0.95 * span_y + (0.3 if title else 0)
    fig, ax = plt.subplots(figsize=(scale * (1.1 + 3.0 * span_x), scale * fig_height))
    x = lambda b: 3.0 * b.col  # noqa: E731 (grid -> drawing units)
    y = lambda b: -1.0 * b.row  # noqa: E731
    for keys, label in groups:
        members = [at[k] for k in keys]
        x0, x1 = min(x(b) for b in members) - width / 2 - 0.12, max(x(b) for b in members) + width / 2 + 0.12
        y0, y1 = min(y(b) for b in members) - height / 2 - 0.12, max(y(b) for b in members) + height / 2 + 0.12
        ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, boxstyle="round,pad=0.02", fill=False,
                                    linestyle="--", edgecolor="#666666"))
        ax.text(x1 + 0.08, y1 - 0.1, label, ha="left", va="top", fontsize=9, color="#444444")
    for b in boxes:
        ax.add_patch(FancyBboxPatch((x(b) - width / 2, y(b) - height / 2), width, height, boxstyle="round,pad=0.03",
                                    facecolor=COLOURS[b.kind], edgecolor="#333333"))
        ax.text(x(b), y(b), b.text, ha="center", va="center", fontsize=8.5)
    for edge in edges:
        a, b = at[edge[0]], at[edge[1]]
        if a.row == b.row:  # side by side
            sign = 1 if b.col > a.col else -1
            start, end = (x(a) + sign * width / 2, y(a)), (x(b) - sign * width / 2, y(b))
        else:
            sign = 1 if b.row > a.row else -1
            start, end = (x(a), y(a) - sign * height / 2), (x(b), y(b) + sign * height / 2)
        style = edge[3] if len(edge) > 3 else "solid"
        ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", color="#333333", lw=1.1,
                                                              linestyle=style, shrinkA=2, shrinkB=2))
        if len(edge) > 2 and edge[2]:
            ax.text((start[0] + end[0]) / 2 + 0.08, (start[1] + end[1]) / 2, edge[2], fontsize=8, color="#444444",
                    ha="left", va="center")
    ax.set_xlim(min(map(x, boxes)) - width / 2 - 0.3, max(map(x, boxes)) + width / 2 + 1.4)
    ax.set_ylim(min(map(y, boxes)) - height / 2 - 0.3, max(map(y, boxes)) + height / 2 + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    kinds = [k for k in COLOURS if any(b.kind == k for b in boxes)]
    ax.legend(handles=[Patch(facecolor=COLOURS[k], edgecolor="#333333", label=LEGEND[k]) for k in kinds],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
