"""Helper of ``tests/gpu_check.sh``: the machine's description, and the one JSON report of a run.

Two sub-commands, both run with the interpreter the notebooks run with:

    python tests/gpu_check_report.py machine WORKDIR          # writes WORKDIR/machine.json, prints a summary
    python tests/gpu_check_report.py report WORKDIR OUT_JSON  # (re)writes OUT_JSON from what WORKDIR holds
    python tests/gpu_check_report.py set FILE KEY=TEXT KEY:=JSON KEY+=TEXT ...  # update a small JSON file

``gpu_check.sh`` calls ``report`` after every notebook, so a run that is killed part-way (the device tool stops a
command at 10 minutes) still leaves a JSON of the notebooks that finished. It reads, from WORKDIR:

- ``run.json``: preset, data folder, options, the notebook list, the install step's outcome;
- ``machine.json``: from ``machine`` above;
- ``nb_<i>.json``: one notebook's status, exit code, wall seconds and timeout, written by ``gpu_check.sh``;
- ``nb_<i>.log``: its pytest output (summary line, slowest cells and, for a failure, the tail);
- ``nb_<i>.figures.jsonl``: the lines ``minissl.utils.record(**figures)`` appended (``MINISSL_FIGURES``).

Standard library only, except that ``machine`` imports torch (and says so if it cannot).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

SCHEMA = 1
LOG_TAIL_LINES = 60  # of a notebook that did not pass
SUMMARY_RE = re.compile(r"^=+ (.*\b(?:passed|failed|error|errors|skipped|xfailed|xpassed|no tests ran)\b.*) =+$")
DURATION_RE = re.compile(r"^\s*([0-9.]+)s (call|setup|teardown)\s+(\S.*)$")
JPEG_NOTE = ("Figures from cifar10-jpeg (the JPEG part) are on JPEG-compressed images: call them "
             "'JPEG-compressed CIFAR-10', never plain CIFAR-10.")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _read_json(path: Path, default=None):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def _write_json(path: Path, data) -> None:
    """Write ``data`` to ``path`` through a temporary file, so a reader never sees half a report."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _nvidia_smi() -> list[dict] | str | None:
    """One dict per GPU from ``nvidia-smi``; ``None`` when there is no nvidia-smi; a string when it failed."""
    fields = ["name", "driver_version", "memory.total", "compute_cap"]
    try:
        out = subprocess.run(["nvidia-smi", f"--query-gpu={','.join(fields)}", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return None
    except (OSError, subprocess.SubprocessError) as err:
        return f"nvidia-smi failed: {err}"
    if out.returncode != 0:
        return f"nvidia-smi exited {out.returncode}: {(out.stderr or out.stdout).strip()[:300]}"
    return [dict(zip(fields, (v.strip() for v in line.split(",")))) for line in out.stdout.splitlines() if line]


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # any failure just means "unknown"
        return None


def machine() -> dict:
    """What ran the notebooks: GPU (torch's view and nvidia-smi's), torch, Python, and where minissl came from."""
    info: dict = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "nvidia_smi": _nvidia_smi(),
        "versions": {name: _version(name) for name in ("nbval", "ipykernel", "jupyter_client", "pytest", "numpy")},
    }
    try:
        import torch
    except Exception as err:  # reported, not raised: the notebooks will fail and say more
        info.update(torch=None, torch_error=f"{type(err).__name__}: {err}", gpu=None, device="unknown")
        return info
    info["torch"] = torch.__version__
    info["torch_cuda"] = torch.version.cuda
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        major, minor = torch.cuda.get_device_capability(0)
        info.update(
            device="cuda",
            gpu=torch.cuda.get_device_name(0),
            capability=f"{major}.{minor}",
            gpu_count=torch.cuda.device_count(),
            gpu_memory_gib=round(props.total_memory / 2**30, 1),
            multiprocessors=props.multi_processor_count,
            cudnn=torch.backends.cudnn.version(),
        )
    else:
        info.update(device="cpu", gpu=None, capability=None, torch_threads=torch.get_num_threads())
    try:
        import minissl

        info["minissl"] = {"version": getattr(minissl, "__version__", None), "file": minissl.__file__}
    except Exception as err:
        info["minissl"] = {"error": f"{type(err).__name__}: {err}"}
    return info


def _summary_line(lines: list[str]) -> str | None:
    for line in reversed(lines):
        m = SUMMARY_RE.match(line.strip())
        if m:
            return m.group(1).strip()
    return None


def _counts(summary: str | None) -> dict:
    counts = {}
    for number, word in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|warnings?)", summary or ""):
        counts[word.rstrip("s") if word in ("errors", "warnings") else word] = int(number)
    return counts


def _slowest(lines: list[str], limit: int = 10) -> list[dict]:
    """The ``--durations`` table: slowest cells first, as ``{"seconds", "phase", "cell"}``."""
    out = []
    for line in lines:
        m = DURATION_RE.match(line)
        if m:
            out.append({"seconds": float(m.group(1)), "phase": m.group(2), "cell": m.group(3).strip()})
    out.sort(key=lambda d: -d["seconds"])
    return out[:limit]


def _failed_cells(lines: list[str]) -> list[str]:
    return [line[len("FAILED "):].strip() for line in lines if line.startswith("FAILED ")] + \
           [line[len("ERROR "):].strip() for line in lines if line.startswith("ERROR ")]


def _figures(path: Path) -> tuple[list[dict], list[str]]:
    """The dicts ``record(**figures)`` wrote, in call order, and any lines that could not be read."""
    figures, bad = [], []
    if not path.is_file():
        return figures, bad
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            figures.append(entry["figures"] if isinstance(entry, dict) and "figures" in entry else entry)
        except ValueError:
            bad.append(line[:200])
    return figures, bad


def notebook_entry(workdir: Path, index: int, name: str) -> dict:
    meta = _read_json(workdir / f"nb_{index}.json")
    entry: dict = {"notebook": name}
    if meta is None:
        entry.update(status="not run", passed=False)
        return entry
    entry.update(meta)
    entry["passed"] = meta.get("status") == "passed"
    log = workdir / f"nb_{index}.log"
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.is_file() else []
    entry["summary"] = _summary_line(lines)
    entry["counts"] = _counts(entry["summary"])
    entry["slowest_cells"] = _slowest(lines)
    figures, bad = _figures(workdir / f"nb_{index}.figures.jsonl")
    entry["figures"] = figures
    if bad:
        entry["unreadable_figure_lines"] = bad
    if not entry["passed"]:
        entry["failed_cells"] = _failed_cells(lines)
        entry["log_tail"] = lines[-LOG_TAIL_LINES:]
    return entry


def report(workdir: Path, out: Path) -> dict:
    run = _read_json(workdir / "run.json", {}) or {}
    notebooks = run.get("notebooks", [])
    entries = [notebook_entry(workdir, i, name) for i, name in enumerate(notebooks)]
    done = [e for e in entries if e.get("status") != "not run"]
    data = run.get("data") or ""
    data_contents = sorted(p.name for p in Path(data).iterdir()) if data and Path(data).is_dir() else []
    result = {
        "schema": SCHEMA,
        "written": _now(),
        "complete": bool(run.get("finished")),
        "all_passed": bool(entries) and all(e["passed"] for e in entries),
        "preset": run.get("preset"),
        "machine": _read_json(workdir / "machine.json"),
        "run": {k: v for k, v in run.items() if k not in ("notebooks", "preset")},
        "data_contents": data_contents,
        "prepared": _read_json(Path(data) / "PREPARED.json") if data else None,
        "notebooks": entries,
        "total_notebook_seconds": round(sum(e.get("wall_s") or 0 for e in done), 1),
    }
    if "cifar10-jpeg" in data_contents:
        result["note"] = JPEG_NOTE
    _write_json(out, result)
    return result


def _print_table(result: dict) -> None:
    for e in result["notebooks"]:
        wall = f"{e['wall_s']:7.1f} s" if isinstance(e.get("wall_s"), (int, float)) else "      - s"
        nfig = len(e.get("figures") or [])
        print(f"  {e['status']:<8} {wall}  {e['notebook']}  ({e.get('summary') or 'no summary'}; {nfig} figure "
              f"record{'s' if nfig != 1 else ''})")


def set_fields(path: Path, assignments: list[str]) -> None:
    """``KEY=TEXT`` sets a string, ``KEY:=JSON`` a JSON value, ``KEY+=TEXT`` appends a string to a list."""
    data = _read_json(path, {}) or {}
    for item in assignments:
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)(:=|\+=|=)(.*)$", item, re.S)
        if not m:
            raise SystemExit(f"gpu_check_report set: cannot read {item!r}; use KEY=TEXT, KEY:=JSON or KEY+=TEXT")
        key, op, value = m.groups()
        if op == "=":
            data[key] = value
        elif op == ":=":
            data[key] = json.loads(value)
        else:
            data.setdefault(key, []).append(value)
    _write_json(path, data)


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "set":
        set_fields(Path(argv[1]), argv[2:])
        return 0
    if len(argv) >= 2 and argv[0] == "machine":
        info = machine()
        _write_json(Path(argv[1]) / "machine.json", info)
        where = f"{info.get('gpu')} (capability {info.get('capability')})" if info.get("gpu") else "no CUDA GPU"
        print(f"gpu_check: python {info['python']}, torch {info.get('torch')} (CUDA {info.get('torch_cuda')}), "
              f"{where}, {info['cpu_count']} CPUs")
        if info.get("torch_error"):
            print(f"gpu_check: torch does not import: {info['torch_error']}")
        print(f"gpu_check: minissl from {info.get('minissl')}")
        return 0
    if len(argv) >= 3 and argv[0] == "report":
        result = report(Path(argv[1]), Path(argv[2]))
        if "--table" in argv[3:]:
            _print_table(result)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
