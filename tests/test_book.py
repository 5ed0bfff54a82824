"""The book builds: every page, toc entry, citation and cross-reference resolves (warnings are errors).

Notebook execution is switched off here: nbval has already run every notebook in this test session.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("jupyter-book") is None, reason="jupyter-book is not installed")
def test_book_builds_without_warnings(tmp_path):
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    cmd = [shutil.which("jupyter-book"), "build", str(REPO), "--config", str(tmp_path / "_config.yml"),
           "--path-output", str(tmp_path / "out"), "-W", "-n", "--keep-going"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    log = result.stdout[-6000:] + result.stderr[-6000:]
    assert result.returncode == 0, f"book build failed:\n{log}"
    html = tmp_path / "out" / "_build" / "html"
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    chapters = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    assert any(c.startswith("notebooks/") for c in chapters), "no chapter notebook in _toc.yml"
    for page in ["book/preface", "book/setup", "book/references"] + chapters:
        assert (html / f"{page}.html").exists(), f"{page}.html missing from the built book"
    print(log, file=sys.stderr)
