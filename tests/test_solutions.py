"""Executed solutions: each chapter with a notebook under ``notebooks/solutions/`` (same file name) keeps its
exercises and links to it; the solutions are run by nbval like the chapters, so here only their shape is checked:
every exercise of the chapter is solved, every solution ends in a check, and no solution is left in the chapter."""

import json
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((REPO / "notebooks" / "solutions").glob("*.ipynb"))
LABEL = re.compile(r"^:label: (ex-[\w-]+)$", re.M)


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _text(cells: list[dict], kind: str) -> list[str]:
    return ["".join(c["source"]) for c in cells if c["cell_type"] == kind]


def _chapter(solutions: Path) -> Path:
    return REPO / "notebooks" / solutions.name


def test_there_are_solutions():
    assert SOLUTIONS, "no solutions notebook under notebooks/solutions/"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solutions_follow_the_conventions(path):
    cells = _cells(path)
    assert _chapter(path).exists(), f"{path.name}: no chapter of that name in notebooks/"
    dirty = [i for i, c in enumerate(cells)
             if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs; clear them before committing"
    code = _text(cells, "code")
    assert '"google.colab" in sys.modules' in code[0], f"{path.name}: first cell must install on Colab only"
    assert "presets.get(" in code[1], f"{path.name}: second code cell must choose the chapter's preset"
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = {c["file"] for part in toc["parts"] for c in part["chapters"]}
    assert f"notebooks/solutions/{path.stem}" in files, f"{path.name} is missing from _toc.yml"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_every_exercise_is_solved_and_checked(path):
    """Each exercise label of the chapter heads a section of the solutions, and that section has an assert."""
    labels = [m for text in _text(_cells(_chapter(path)), "markdown") for m in LABEL.findall(text)]
    assert labels, f"the chapter {path.name} has no exercises"
    sections: dict[str, list[str]] = {}
    current = None
    for cell in _cells(path):
        source = "".join(cell["source"])
        heading = re.match(r"^## .*\(`(ex-[\w-]+)`\)", source)
        if cell["cell_type"] == "markdown" and heading:
            current = heading.group(1)
            sections[current] = []
        elif cell["cell_type"] == "code" and current:
            sections[current].append(source)
    assert list(sections) == labels, f"{path.name}: solved {list(sections)}, the chapter asks {labels} (same order)"
    check = re.compile(r"^\s*(assert |torch\.testing\.assert_close\()", re.M)
    unchecked = [label for label, code in sections.items() if not any(check.search(c) for c in code)]
    assert not unchecked, f"{path.name}: solutions without a check cell: {unchecked}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_the_chapter_links_its_solutions_and_shows_none(path):
    text = "\n".join(_text(_cells(_chapter(path)), "markdown"))
    assert "{solution}" not in text, f"{path.name}: the chapter still shows solutions; they belong in {path}"
    assert f"](solutions/{path.name})" in text, f"{path.name}: the chapter does not link to its solutions"
    colab = f"https://colab.research.google.com/github/minissl/minissl/blob/main/notebooks/solutions/{path.name}"
    assert colab in text, f"{path.name}: the chapter does not link to its solutions on Colab"
    exercises = re.findall(r"^```\{exercise\}\n(.*?)^```", text, re.M | re.S)
    vague = [LABEL.search(e).group(1) for e in exercises if "A correct answer" not in e]
    assert not vague, f"{path.name}: exercises that do not say what a correct answer shows: {vague}"
