"""Reader text speaks of the subject, never of how the book is made: no "mirror" (of the data), "CI", "issue" or
"draft target" in the chapters' prose and comments, in the book's pages or in the presets' comments."""

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROCESS_WORDS = re.compile(r"\b(mirror|mirrors|mirrored|CI|issues?|draft targets?|the target of the draft)\b",
                           re.IGNORECASE)
CHAPTERS = sorted((REPO / "notebooks").rglob("*.ipynb"))
PAGES = sorted((REPO / "book").glob("*.md"))
# the presets' comments are read by whoever tunes a run: they explain the thresholds
PRESETS = sorted((REPO / "minissl" / "presets").glob("*.py"))


def _reader_text(path: Path) -> list[tuple[str, str]]:
    """(where, text) for every markdown cell and every comment of a code cell; a page is one text."""
    if path.suffix == ".md":
        return [(path.name, path.read_text(encoding="utf-8"))]
    if path.suffix == ".py":
        lines = path.read_text(encoding="utf-8").splitlines()
        return [(f"{path.name} line {i}", line.split("#", 1)[1]) for i, line in enumerate(lines, 1) if "#" in line]
    out = []
    for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            out.append((f"{path.name} cell {i}", source))
        else:
            comments = [line.split("#", 1)[1] for line in source.splitlines() if "#" in line]
            out.append((f"{path.name} cell {i} (comments)", "\n".join(comments)))
    return out


def _found(text: str) -> list[str]:
    # "CI" must be the capitalised abbreviation; the other words in any case
    return [m.group(0) for m in PROCESS_WORDS.finditer(text) if m.group(0).lower() != "ci" or m.group(0) == "CI"]


def test_the_check_sees_process_words():
    assert _found("the data mirror, as CI shows (issue 3)") == ["mirror", "CI", "issue"]
    assert _found("a specific case of the acid test; a target token") == []


@pytest.mark.parametrize("path", CHAPTERS + PAGES + PRESETS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_process_words_in_reader_text(path):
    hits = [(where, word) for where, text in _reader_text(path) for word in _found(text)]
    assert not hits, f"process words in reader text: {hits}; say what the reader needs instead"
