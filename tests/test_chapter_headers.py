"""Each chapter opens as a course needs it: objectives, prerequisites, the measured time of its `cpu` preset and the
results to expect, where every number in those results is a threshold the chapter's check cells read from the
`cpu` preset (so the promise at the top and the checks cannot drift apart)."""

import dataclasses
import json
import re
from pathlib import Path

import pytest
import yaml

from minissl import presets

REPO = Path(__file__).resolve().parent.parent
TOC = yaml.safe_load((REPO / "_toc.yml").read_text())
CHAPTERS = [e["file"] for part in TOC["parts"] for e in part["chapters"]
            if e["file"].startswith("notebooks/") and "/solutions/" not in e["file"]]


def _cells(page):
    return json.loads((REPO / f"{page}.ipynb").read_text(encoding="utf-8"))["cells"]


def _preset(page):
    code = "".join("".join(c["source"]) for c in _cells(page) if c["cell_type"] == "code")
    name = re.search(r'presets\.get\("(\w+)"\)', code)
    assert name, f"{page}: no presets.get(\"...\") call"
    return presets.get(name.group(1), name="cpu")


def _allowed_numbers(preset) -> set[str]:
    """Every numeric field of the preset (and of its tuples), as written and as a percentage."""
    values = []
    for value in dataclasses.asdict(preset).values():
        values += list(value) if isinstance(value, tuple) else [value]
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return {f"{round(x, 6):g}" for v in numbers for x in (v, 100 * v)}


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_opens_with_objectives_time_and_expected_results(page):
    header = "".join(_cells(page)[0]["source"])
    for part in ("**By the end you can:**", "**Time:**", "**What to expect**"):
        assert part in header, f"{page}: the first cell has no {part}"
    assert "**Prerequisites:**" in header or "**Before you start:**" in header, f"{page}: no prerequisites"
    preset = _preset(page)
    flat = " ".join(header.split())
    assert preset.expected_time in flat, f"{page}: the time at the top is not the cpu preset's {preset.expected_time!r}"
    expect = flat.split("**What to expect**", 1)[1]
    stray = [n for n in re.findall(r"\d+(?:\.\d+)?", expect) if n not in _allowed_numbers(preset)]
    assert not stray, f"{page}: numbers in 'What to expect' that are no threshold of the cpu preset: {stray}"
