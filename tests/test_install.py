"""What a reader installs is what the notebooks need: the install line names this version of the package, and
every third-party module that a notebook or the package imports is a declared dependency."""

import ast
import json
import re
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
NOTEBOOKS = sorted((REPO / "notebooks").rglob("*.ipynb")) + sorted((REPO / "drafts").glob("*.ipynb"))
# import name -> distribution name, where they differ
DISTRIBUTION = {"sklearn": "scikit-learn", "skimage": "scikit-image", "PIL": "pillow", "yaml": "pyyaml"}


def _code(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    # IPython magics (%pip, !cmd) are not Python: drop those lines before parsing
    return "\n".join(line for cell in cells for line in cell.splitlines() if not line.lstrip().startswith(("%", "!")))


def _top_level_imports(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _declared() -> set[str]:
    reqs = list(PYPROJECT["project"]["dependencies"])
    for extra in PYPROJECT["project"].get("optional-dependencies", {}).values():
        reqs += extra
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].strip().lower() for r in reqs}


def test_install_line_names_this_version():
    version = PYPROJECT["project"]["version"]
    repo = PYPROJECT["project"]["urls"]["Repository"]
    expected = f'minissl @ git+{repo}@v{version}'
    assert NOTEBOOKS
    for path in NOTEBOOKS:
        first = ["".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                 if c["cell_type"] == "code"][0]
        assert expected in first, (
            f"{path.relative_to(REPO)}: the install line must install {expected!r} (pyproject.toml's version "
            "and repository); update the notebook's first cell after changing the version")


def test_package_version_is_the_pyproject_version():
    import minissl

    assert minissl.__version__ == PYPROJECT["project"]["version"], (
        "the installed package is stale: run `pip install -e .` after changing pyproject.toml's version")


def test_every_third_party_import_is_declared():
    sources = {str(p.relative_to(REPO)): _code(p) for p in NOTEBOOKS}
    sources |= {str(p.relative_to(REPO)): p.read_text(encoding="utf-8") for p in (REPO / "minissl").rglob("*.py")}
    declared = _declared()
    missing = {}
    for where, source in sources.items():
        for name in _top_level_imports(source):
            if name in sys.stdlib_module_names or name == "minissl" or name == "__future__":
                continue
            if DISTRIBUTION.get(name, name).lower() not in declared:
                missing.setdefault(name, []).append(where)
    assert not missing, f"imported but not declared in pyproject.toml's dependencies: {missing}"
