"""benchmarks/notebook_sweep.py: the --set parser and the one inserted cell (running notebooks is left to the
script itself; nbval runs every notebook unchanged)."""

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("notebook_sweep", ROOT / "benchmarks" / "notebook_sweep.py")
sweep = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sweep)


def test_parse_values_reads_literals_and_strings():
    assert sweep.parse_values("seed=0,1,2") == ("seed", [0, 1, 2])
    assert sweep.parse_values("test_speaker=george,theo") == ("test_speaker", ["george", "theo"])
    assert sweep.parse_values("lr=1e-3,2e-3") == ("lr", [1e-3, 2e-3])


@pytest.mark.parametrize("bad", ["seed", "=1,2", "seed=", "not a name=1"])
def test_parse_values_refuses_malformed(bad):
    with pytest.raises(SystemExit, match="FIELD=V1,V2"):
        sweep.parse_values(bad)


def test_override_goes_right_after_the_preset_cell_and_leaves_the_notebook_alone():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell("from minissl import presets\nP = presets.get('speech')"),
        nbformat.v4.new_code_cell("print(P.test_speaker)"),
    ])
    out = sweep.with_override(nb, "test_speaker", "theo")
    assert [c.source for c in out.cells[:2]] == [c.source for c in nb.cells[:2]]
    assert out.cells[2].source == "import dataclasses\nP = dataclasses.replace(P, test_speaker='theo')\nP"
    assert out.cells[3].source == nb.cells[2].source
    assert len(nb.cells) == 3  # the original is not changed


def test_override_needs_a_preset_cell():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    with pytest.raises(SystemExit, match="presets.get"):
        sweep.with_override(nb, "seed", 1)


def test_every_chapter_notebook_has_a_preset_cell_to_override():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert any(c.cell_type == "code" and "presets.get(" in c.source for c in nb.cells), path.name
