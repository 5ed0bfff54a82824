import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from minissl.diagrams import Box, draw_architecture, format_shape, trace_shapes
from minissl.models import GPT


def test_format_shape_names_leading_dims():
    assert format_shape((2, 64, 128)) == "(B, 64, 128)"
    assert format_shape((2, 64, 128), names="BT") == "(B, T, 128)"
    assert format_shape((64, 128), names="") == "(64, 128)"


def test_trace_shapes_reads_every_submodule():
    model = GPT(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
    idx = torch.randint(0, 11, (3, 8))
    shapes = trace_shapes(model, lambda: model(idx))
    assert shapes["tok_emb"] == (3, 8, 16)
    assert shapes["blocks.1.mlp.fc"] == (3, 8, 64)  # the MLP widens by 4
    assert shapes["head"] == shapes[""] == (3, 8, 11)  # a module returning (logits, loss): its first tensor
    assert not any(m._forward_hooks for m in model.modules())  # the hooks are removed


def test_trace_shapes_refuses_a_call_that_skips_the_model():
    model, other = nn.Linear(3, 4), nn.Linear(3, 4)
    with pytest.raises(ValueError, match="no submodule of the model ran"):
        trace_shapes(model, lambda: other(torch.zeros(1, 3)))


def test_draw_architecture_draws_each_box_and_arrow():
    boxes = [Box("x", "input", 0, 0, "data"), Box("f", "layer", 0, 1), Box("y", "loss", 1, 1, "loss")]
    fig = draw_architecture(boxes, [("x", "f"), ("f", "y", "label"), ("x", "y", "", "dashed")],
                            groups=[(["f"], "x 2")], title="t")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts if type(t).__name__ != "Annotation"]  # arrows are annotations
    assert sorted(texts) == sorted(["input", "layer", "loss", "label", "x 2"])  # an empty label draws no text
    arrows = [c for c in ax.get_children() if type(c).__name__ == "Annotation"]
    assert len(arrows) == 3  # one arrow per edge
    assert [a.arrow_patch.get_linestyle() for a in arrows] == ["solid", "solid", "dashed"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["data", "trained layer", "loss"]
    plt.close(fig)


@pytest.mark.parametrize("boxes, edges, groups, message", [
    ([Box("a", "", 0, 0), Box("a", "", 0, 1)], [], [], "used twice"),
    ([Box("a", "", 0, 0, "paint")], [], [], "unknown kind"),
    ([Box("a", "", 0, 0)], [("a", "b")], [], "'b' is not a box"),
    ([Box("a", "", 0, 0)], [], [(["a", "c"], "x 2")], "'c' is not a box"),
    ([Box("a", "", 0, 0), Box("b", "", 0, 1)], [("a", "b", "", "dotted")], [], "unknown style"),
])
def test_draw_architecture_errors(boxes, edges, groups, message):
    with pytest.raises(ValueError, match=message):
        draw_architecture(boxes, edges, groups)
