"""Run one chapter notebook several times, each with one preset field changed, and print the figures its check
cells recorded: the spread of a chapter's result over seeds, held-out speakers, or any other field.

Run on demand, e.g. the speech chapter once per held-out speaker::

    MINISSL_DATA=../shared/data python benchmarks/notebook_sweep.py notebooks/09_speech.ipynb \\
        --set test_speaker=george,jackson,lucas,nicolas,theo,yweweler

or the CLIP chapter over three seeds: ``notebooks/08_clip.ipynb --set seed=0,1,2``.

Each run executes the notebook unchanged, top to bottom, except for one cell inserted right after the first
cell that defines ``P = presets.get(...)``: ``P = dataclasses.replace(P, <field>=<value>)``. Every cell runs even
when one fails (a failed check is reported, and the figures recorded before it are kept); figures come from
``minissl.utils.record`` through ``MINISSL_FIGURES``. The preset is the machine's or ``MINISSL_PRESET``.
Prints one row per value and the mean and standard deviation over the values of every figure; ``--json FILE``
also writes them.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def parse_values(text: str) -> tuple[str, list]:
    """``"field=v1,v2"`` -> ``("field", [v1, v2])``; values are Python literals where they parse, else strings."""
    field, sep, values = text.partition("=")
    if not sep or not field.isidentifier() or not values:
        raise SystemExit(f"notebook_sweep: --set wants FIELD=V1,V2,..., got {text!r}")

    def literal(v: str):
        try:
            return ast.literal_eval(v)
        except (ValueError, SyntaxError):
            return v

    return field, [literal(v) for v in values.split(",")]


def with_override(nb, field: str, value):
    """A copy of ``nb`` with ``P = dataclasses.replace(P, field=value)`` right after the preset cell."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    at = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "presets.get(" in c.source), None)
    if at is None:
        raise SystemExit("notebook_sweep: no code cell calls presets.get(...); nothing to override")
    cell = nbformat.v4.new_code_cell(f"import dataclasses\nP = dataclasses.replace(P, {field}={value!r})\nP")
    nb.cells.insert(at + 1, cell)
    return nb


def run_once(nb, workdir: Path, timeout: int) -> tuple[dict, list[str], float]:
    """Execute ``nb`` in ``workdir``; -> (figures recorded, errors as 'cell N: Name: message', seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        figures_file = Path(tmp) / "figures.jsonl"
        old = os.environ.get("MINISSL_FIGURES")
        os.environ["MINISSL_FIGURES"] = str(figures_file)  # the kernel inherits this process's environment
        start = time.perf_counter()
        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                           resources={"metadata": {"path": str(workdir)}}).execute()
        finally:
            if old is None:
                os.environ.pop("MINISSL_FIGURES", None)
            else:
                os.environ["MINISSL_FIGURES"] = old
        seconds = time.perf_counter() - start
        figures = {}
        if figures_file.exists():
            for line in figures_file.read_text(encoding="utf-8").splitlines():
                figures.update(json.loads(line)["figures"])
    errors = [f"cell {i}: {o.ename}: {o.evalue}"[:300] for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    return figures, errors, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--set", required=True, metavar="FIELD=V1,V2,...", help="the preset field and its values")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell (default 3600)")
    parser.add_argument("--json", type=Path, help="also write the rows and the summary here")
    args = parser.parse_args()
    if not args.notebook.is_file():
        raise SystemExit(f"notebook_sweep: no notebook at {args.notebook}")
    field, values = parse_values(args.set)
    nb = nbformat.read(args.notebook, as_version=4)
    rows = []
    for value in values:
        figures, errors, seconds = run_once(with_override(nb, field, value), args.notebook.parent.resolve(),
                                            args.timeout)
        rows.append({field: value, "seconds": round(seconds, 1), "figures": figures, "errors": errors})
        shown = "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items())
        print(f"{field}={value!r}: {seconds:.0f} s; {shown}" + (f"\n  FAILED {errors}" if errors else ""),
              flush=True)
    names = sorted({k for r in rows for k, v in r["figures"].items() if isinstance(v, (int, float))})
    summary = {}
    for name in names:
        xs = [r["figures"][name] for r in rows if name in r["figures"]]
        summary[name] = {"mean": statistics.fmean(xs), "std": statistics.pstdev(xs), "n": len(xs)}
        print(f"{name:24s} mean {summary[name]['mean']:.4f}  std {summary[name]['std']:.4f}  over {len(xs)} runs")
    print(f"{sum(bool(r['errors']) for r in rows)} of {len(rows)} runs had a failing cell")
    if args.json:
        args.json.write_text(json.dumps({"notebook": str(args.notebook), "field": field, "rows": rows,
                                         "summary": summary}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
