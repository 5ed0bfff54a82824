"""Back-links from the package to the book cannot go stale: every module docstring that names a chapter and a
section of it must name a notebook that exists and a heading that the notebook has."""

import ast
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb")) + sorted((REPO / "drafts").glob("*.ipynb"))
MODULES = sorted(p for p in (REPO / "minissl").rglob("*.py"))
SECTIONS = re.compile(r"\bsections? ((?:\*[^*]+\*(?:, | and |, and )?)+)")


def _plain(text: str) -> str:
    return " ".join(text.replace("`", "").replace("*", "").split())


def _headings(path: Path) -> tuple[str, set[str]]:
    """The notebook's title (its first level-1 heading) and all its headings, as plain text."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    title, found = None, set()
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            m = re.match(r"(#+)\s+(.*)", line)
            if m:
                found.add(_plain(m.group(2)))
                if m.group(1) == "#" and title is None:
                    title = _plain(m.group(2))
    return title, found


HEADINGS = {p: _headings(p) for p in NOTEBOOKS}


def _notebook_named_in(doc: str) -> Path | None:
    m = re.search(r"``(?:notebooks/|drafts/)?(\d\d_\w+)(?:\.ipynb)?``", doc)
    if m:
        return next((p for p in NOTEBOOKS if p.stem == m.group(1)), None) or Path(m.group(1))
    m = re.search(r"\bchapter (\d+)\b", doc)
    if m:
        return next((p for p in NOTEBOOKS if p.stem.startswith(f"{int(m.group(1)):02d}_")), None) or Path(m.group(0))
    m = re.search(r"\bchapter \*([^*]+)\*", doc)
    if m:
        return next((p for p, (t, _) in HEADINGS.items() if t == _plain(m.group(1))), None) or Path(m.group(1))
    return None


def _backlinks():
    for module in MODULES:
        doc = ast.get_docstring(ast.parse(module.read_text(encoding="utf-8"))) or ""
        doc = " ".join(doc.split())
        for m in SECTIONS.finditer(doc):
            yield module, _notebook_named_in(doc), [_plain(s) for s in re.findall(r"\*([^*]+)\*", m.group(1))]


BACKLINKS = list(_backlinks())


def test_backlinks_were_found():
    assert len(BACKLINKS) >= 10, BACKLINKS


@pytest.mark.parametrize("module, notebook, sections", BACKLINKS,
                         ids=[str(m.relative_to(REPO)) for m, _, _ in BACKLINKS])
def test_backlink_names_an_existing_section(module, notebook, sections):
    assert notebook is not None, f"{module.name}: names a section but no chapter"
    assert notebook in HEADINGS, f"{module.name}: names chapter {notebook}, which is not a notebook of the book"
    missing = [s for s in sections if s not in HEADINGS[notebook][1]]
    assert not missing, (f"{module.name}: sections {missing} are not headings of {notebook.name}; "
                         f"its headings: {sorted(HEADINGS[notebook][1])}")
