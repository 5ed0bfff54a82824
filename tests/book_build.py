"""Build the book the way the tests see it: the pages of the notebooks nbval has just run, with their outputs.

nbval writes every notebook whose cells all passed, with its outputs, to ``_build/executed/`` (see
``conftest.py``). :func:`build` copies the book's sources, swaps in those executed copies (only where their cells
are the cells of the notebook now in the tree), bundles MathJax when ``_mathjax/mathjax`` holds it (so that math is
typeset without a network), and runs ``jupyter-book build`` without executing anything.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
EXECUTED = REPO / "_build" / "executed"
MATHJAX = REPO / "_mathjax" / "mathjax"  # filled by tests/browser_setup.sh (npm's mathjax@3, es5 build)
OUT = REPO / "_build" / "tested"  # the built pages: _build/tested/_build/html


@dataclass
class BuiltBook:
    html: Path  # the HTML root
    returncode: int
    log: str
    chapters: list[str]  # toc entries under notebooks/, e.g. "notebooks/03_attention"
    executed: set[str]  # the entries built with the outputs of this test session
    figures: dict[str, int]  # for those: how many image outputs their executed notebook holds
    mathjax_bundled: bool


def _sources(nb_path: Path) -> list[str]:
    """Every cell's source, prose included: a copy run before the text changed is not the page to publish."""
    cells = json.loads(nb_path.read_text())["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]


def _images(nb_path: Path) -> int:
    cells = json.loads(nb_path.read_text())["cells"]
    return sum(any(k.startswith("image/") for k in out.get("data", {})) for c in cells for out in c.get("outputs", []))


def toc_files() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    return [entry["file"] for part in toc["parts"] for entry in part["chapters"]]


def build(jupyter_book: str) -> BuiltBook:
    src = OUT.parent / "tested_src"
    for path in (src, OUT):
        shutil.rmtree(path, ignore_errors=True)
    src.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(REPO / name, src / name)
    for folder in ("book", "notebooks"):
        shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))

    chapters = [f for f in toc_files() if f.startswith("notebooks/")]
    executed, figures = set(), {}
    for page in chapters:
        ran = EXECUTED / f"{page}.ipynb"
        if ran.exists() and _sources(ran) == _sources(REPO / f"{page}.ipynb"):
            shutil.copy2(ran, src / f"{page}.ipynb")
            executed.add(page)
            figures[page] = _images(ran)

    config = yaml.safe_load((src / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"  # nbval has run them; their outputs are in the copies
    bundled = (MATHJAX / "tex-mml-chtml.js").exists()
    if bundled:
        shutil.copytree(MATHJAX, src / "_mathjax" / "mathjax")
        sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
        sphinx["html_static_path"] = ["_mathjax"]  # not _static: every .js there is injected into every page
        sphinx["mathjax_path"] = "mathjax/tex-mml-chtml.js"
        config["exclude_patterns"] = [*config.get("exclude_patterns", []), "_mathjax"]
    (src / "_config.yml").write_text(yaml.safe_dump(config))

    cmd = [jupyter_book, "build", str(src), "--path-output", str(OUT), "-W", "-n", "--keep-going"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    return BuiltBook(html=OUT / "_build" / "html", returncode=result.returncode,
                     log=result.stdout[-6000:] + result.stderr[-6000:], chapters=chapters, executed=executed,
                     figures=figures, mathjax_bundled=bundled)
