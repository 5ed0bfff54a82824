"""The book builds: every page, toc entry, citation and cross-reference resolves (warnings are errors).

Notebook execution is switched off: nbval has already run every notebook in this test session, and the pages are
built from those runs' outputs (``book_build.py``). These tests run after the notebooks.
"""

import sys

import pytest
from book_build import toc_files

pytestmark = pytest.mark.after_notebooks


def test_book_builds_without_warnings(built_book):
    assert built_book.returncode == 0, f"book build failed:\n{built_book.log}"
    assert built_book.chapters, "no chapter notebook in _toc.yml"
    for page in ["book/preface", "book/setup", "book/references", *toc_files()]:
        assert (built_book.html / f"{page}.html").exists(), f"{page}.html missing from the built book"
    print(built_book.log, file=sys.stderr)
    print(f"pages built with this session's outputs: {sorted(built_book.executed) or 'none'}", file=sys.stderr)
