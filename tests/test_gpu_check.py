"""tests/gpu_check.sh (the one-command notebook check for the GPU machine, tests/GPU_CHECK.md), run on this CPU.

The script must work with the venv's Python as well as on the GPU machine: these tests run it with
``PYTHON=sys.executable`` (nbval already importable, so no wheel install) and read the JSON it writes.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "tests" / "gpu_check.sh"


def _nbval_or_skip() -> None:
    pytest.importorskip("nbval", reason="nbval is not installed: gpu_check.sh runs notebooks under nbval")


def _notebook(path: Path, *cells: str) -> Path:
    """A minimal nbformat-4 notebook of code cells, written by hand (no nbformat needed)."""
    nb = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                   "source": src} for i, src in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def _run(tmp_path: Path, data: Path, *args: str, timeout: int = 600) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / "gpu_check.json"
    env = dict(os.environ, PYTHON=sys.executable, TMPDIR=str(tmp_path))  # its working files land in tmp_path
    env.pop("OUT", None)  # the device tool's output folder; here the report goes to --out
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--preset", "cpu", "--data", str(data), "--out", str(out), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout,
    )
    assert out.is_file(), f"no report written; rc {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc, json.loads(out.read_text(encoding="utf-8"))


def _check_machine(report: dict) -> None:
    machine = report["machine"]
    assert machine["python"] and machine["executable"]
    assert machine["torch"], machine.get("torch_error")
    assert machine["device"] in ("cpu", "cuda")
    if machine["device"] == "cuda":
        assert machine["gpu"] and machine["capability"]


def test_scripts_lint():
    """shellcheck when it is installed, else bash's own syntax check."""
    scripts = [str(REPO / "tests" / name) for name in ("gpu_check.sh", "gpu_prepare.sh")]
    tool = ["shellcheck"] if shutil.which("shellcheck") else ["bash", "-n"]
    for script in scripts:
        proc = subprocess.run([*tool, script], capture_output=True, text=True)
        assert proc.returncode == 0, f"{' '.join(tool)} {script}:\n{proc.stdout}{proc.stderr}"


def test_usage_errors(tmp_path):
    for args in ([], ["--timeout", "ten", "x.ipynb"], ["--bogus", "x.ipynb"]):
        proc = subprocess.run(["bash", str(SCRIPT), "--out", str(tmp_path / "r.json"), *args],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)


def test_attention_chapter(tmp_path, mirror):
    """The quickest chapter, end to end: one entry, passed, timed, with the machine described."""
    _nbval_or_skip()
    proc, report = _run(tmp_path, mirror, "notebooks/03_attention.ipynb", timeout=1800)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert report["preset"] == "cpu" and report["complete"] and report["all_passed"]
    _check_machine(report)
    (entry,) = report["notebooks"]
    assert entry["notebook"] == "notebooks/03_attention.ipynb"
    assert entry["status"] == "passed" and entry["passed"] and entry["rc"] == 0
    assert entry["wall_s"] > 0
    assert "passed" in entry["summary"] and entry["counts"]["passed"] > 0
    assert isinstance(entry["figures"], list)  # may be empty while the chapter records nothing


def test_figures_are_collected(tmp_path):
    """A check cell's record(...) reaches the notebook's entry in the JSON, in call order."""
    _nbval_or_skip()
    data = tmp_path / "data"
    data.mkdir()
    nb = _notebook(tmp_path / "tiny.ipynb",
                   "from minissl.utils import record\nrecord(val_loss=1.5)",
                   "record(acc=0.25, note='second')\nassert 1 + 1 == 2")
    proc, report = _run(tmp_path, data, str(nb))
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    _check_machine(report)
    (entry,) = report["notebooks"]
    assert entry["status"] == "passed" and entry["wall_s"] > 0
    assert entry["figures"] == [{"val_loss": 1.5}, {"acc": 0.25, "note": "second"}]
    assert entry["counts"] == {"passed": 2}


def test_failures_are_reported(tmp_path):
    """A failing cell and a missing notebook: exit 1, and the JSON still says what happened to each."""
    _nbval_or_skip()
    data = tmp_path / "data"
    data.mkdir()
    bad = _notebook(tmp_path / "bad.ipynb", "x = 1", "assert x == 2, 'x is not 2'")
    proc, report = _run(tmp_path, data, str(bad), str(tmp_path / "absent.ipynb"))
    assert proc.returncode == 1
    assert report["complete"] and not report["all_passed"]
    failed, missing = report["notebooks"]
    assert failed["status"] == "failed" and not failed["passed"] and failed["rc"] == 1
    assert failed["counts"] == {"passed": 1, "failed": 1}
    assert any("x is not 2" in line for line in failed["log_tail"])
    assert missing["status"] == "missing"


def test_budget_skips_notebooks(tmp_path):
    """With no budget left, a notebook is skipped (not started), and that counts as not passed."""
    _nbval_or_skip()
    data = tmp_path / "data"
    data.mkdir()
    nb = _notebook(tmp_path / "tiny.ipynb", "assert True")
    proc, report = _run(tmp_path, data, "--budget", "1", str(nb))
    assert proc.returncode == 1
    (entry,) = report["notebooks"]
    assert entry["status"] == "skipped" and "budget" in entry["reason"]


def test_missing_data_still_writes_json(tmp_path):
    _nbval_or_skip()
    nb = _notebook(tmp_path / "tiny.ipynb", "assert True")
    proc, report = _run(tmp_path, tmp_path / "no-such-folder", str(nb))
    assert proc.returncode == 2
    assert "no data folder" in report["run"]["error"] and not report["all_passed"]
    assert report["notebooks"][0]["status"] == "not run"
