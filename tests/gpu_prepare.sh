#!/usr/bin/env bash
# Run HERE (a machine with a package registry), before a session's GPU check: fills the two folders that
# travel to the GPU machine with `carry: [".whl", ".gpudata"]` (tests/GPU_CHECK.md):
#   .whl/      pinned wheels to run nbval with a Jupyter kernel on the GPU machine's Python 3.12 (x86-64), only
#              those that machine lacks, plus a wheel of minissl itself
#   .gpudata/  tinyshakespeare/ and cifar10-subset/ from the data mirror, the part of the JPEG CIFAR-10 (first
#              2,500 train + all 1,000 test images per class, 35.5 MiB), and PREPARED.json (what was made, when)
# It prints the sizes and fails if .whl + .gpudata exceed 60 MiB (the device tool carries 64 MiB in all, with
# the working tree).
#
#   bash tests/gpu_prepare.sh [options]
#     --no-jpeg          leave the JPEG part out (e.g. to carry debugpy and jedi instead, or for chapters 1-4 only)
#     --no-subset        leave cifar10-subset out
#     --no-data          make .whl only
#     --no-wheels        make .gpudata only
#     --with-debugpy     also carry debugpy, jedi and parso (10 MB; not needed: see below)
#     --mirror DIR       the data mirror (default: ../shared/data beside the repository)
#     --python-version V the Python the wheels are for (default 3.12, the GPU machine's; 3.11 to test here)
#     --max-mib N        the size limit for .whl + .gpudata (default 60)
# PYTHON picks the interpreter that runs pip and make_part (default: .venv/bin/python, else python3).
#
# debugpy, jedi and parso are required by ipykernel / IPython's metadata but optional at run time (ipykernel
# turns its debugger off without debugpy; IPython completes without jedi): nbval runs the notebooks without
# them, and leaving them out saves 10 MB, which the JPEG part needs. Every other Requires-Dist of every carried
# wheel is checked below: carried, or in the GPU machine's package list (/work/.library/device/KINDS.md).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
if [ -n "${PYTHON:-}" ]; then PY=$PYTHON; elif [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
mirror=$REPO/../shared/data
pyver=3.12
max_mib=60
jpeg=1; subset=1; make_data=1; make_wheels=1; debugpy=0

while [ "$#" -gt 0 ]; do
  case $1 in
    --no-jpeg) jpeg=0; shift ;;
    --no-subset) subset=0; shift ;;
    --no-data) make_data=0; shift ;;
    --no-wheels) make_wheels=0; shift ;;
    --with-debugpy) debugpy=1; shift ;;
    --mirror) mirror=$2; shift 2 ;;
    --python-version) pyver=$2; shift 2 ;;
    --max-mib) max_mib=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_prepare: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

# What nbval needs on the GPU machine and it does not have: nbval, the kernel (ipykernel, IPython) and the
# client (jupyter_client, pyzmq, tornado), nbformat's validation (jsonschema), and their own requirements.
# Versions: those of .venv (pip freeze) when this list was made. Already on the GPU machine, so not carried:
# pytest, coverage, packaging, psutil, pygments, attrs, python-dateutil, pyyaml, numpy, torch, matplotlib, ...
# typing_extensions is there too but carried anyway: jupyter_client wants >= 4.13 and its version there is unknown.
WHEELS=(
  nbval==0.11.0
  ipykernel==7.4.0 comm==0.2.3 matplotlib-inline==0.2.2 nest-asyncio2==1.7.4
  ipython==9.18.1 ipython-pygments-lexers==1.1.1 prompt-toolkit==3.0.53 wcwidth==0.9.4 pexpect==4.9.0
  ptyprocess==0.7.0 stack-data==0.6.3 executing==2.3.0 asttokens==3.0.2 pure-eval==0.2.4
  jupyter-client==8.10.0 jupyter-core==5.9.1 platformdirs==4.14.9 pyzmq==27.3.0 tornado==6.6.1 traitlets==5.16.1
  nbformat==5.11.1 fastjsonschema==2.22.3 jsonschema==4.26.0 jsonschema-specifications==2025.9.1
  referencing==0.37.0 rpds-py==2026.9.1
  typing-extensions==4.16.0
)
OPTIONAL_WHEELS=(debugpy==1.8.22 jedi==0.20.1 parso==0.8.7)
# On the GPU machine already (KINDS.md, "Python packages already there"): requirements met by these are not carried.
ON_DEVICE="attrs coverage iniconfig numpy packaging pluggy psutil pygments pytest python-dateutil pyyaml six
typing-extensions matplotlib pillow torch tqdm scikit-learn scikit-image"

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
bytes_of() { if [ -e "$1" ]; then du -sb "$1" | cut -f1; else echo 0; fi; }

if [ "$make_wheels" = 1 ]; then
  mkdir -p .whl
  rm -f .whl/*.whl   # one version of each: a stale second version stops the install there
  specs=("${WHEELS[@]}")
  if [ "$debugpy" = 1 ]; then specs+=("${OPTIONAL_WHEELS[@]}"); fi
  echo "gpu_prepare: downloading ${#specs[@]} wheels for CPython $pyver manylinux x86_64 into .whl/"
  "$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: --python-version "$pyver" \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_26_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux_2_12_x86_64 --platform manylinux2010_x86_64 --platform manylinux_2_5_x86_64 \
    --platform manylinux1_x86_64 -d .whl "${specs[@]}" 2> >(grep -v "^WARNING: Location" >&2)
  echo "gpu_prepare: building the minissl wheel (from a copy of the working tree, so no build/ is left here)"
  build=$(mktemp -d)
  cp -r pyproject.toml README.md minissl "$build"/
  [ -f LICENSE ] && cp LICENSE "$build"/
  find "$build" -name __pycache__ -type d -prune -exec rm -rf {} +
  "$PY" -m pip wheel -q --disable-pip-version-check --no-deps -w .whl "$build" 2> >(grep -v "^WARNING: Location" >&2)
  rm -rf "$build"
  # The closure check: every carried wheel's requirements (markers for Linux, CPython $pyver) are carried too,
  # or on the GPU machine; one version of each name.
  "$PY" - "$pyver" "$debugpy" "$ON_DEVICE" <<'EOF'
import re, sys, zipfile
from pathlib import Path
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

pyver, with_debugpy, on_device = sys.argv[1], sys.argv[2] == "1", set(sys.argv[3].split())
optional = {"debugpy", "jedi", "parso"}  # required on paper, optional at run time (see gpu_prepare.sh)
env = dict(default_environment(), python_version=pyver, python_full_version=pyver + ".3",
           sys_platform="linux", platform_system="Linux", implementation_name="cpython", extra="")
carried = {}
for whl in sorted(Path(".whl").glob("*.whl")):
    name, version, *_ = parse_wheel_filename(whl.name)
    if name in carried:
        sys.exit(f"gpu_prepare: two versions of {name} in .whl: {carried[name][0]} and {version}")
    carried[name] = (version, whl)
problems, assumed = [], set()
for name, (version, whl) in carried.items():
    with zipfile.ZipFile(whl) as z:
        meta = next(n for n in z.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
        lines = z.read(meta).decode().splitlines()
    for line in lines:
        if not line.startswith("Requires-Dist:"):
            continue
        req = Requirement(line.split(":", 1)[1].strip())
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        dep = canonicalize_name(req.name)
        if dep in carried:
            if not req.specifier.contains(carried[dep][0], prereleases=True):
                problems.append(f"{name} wants {req}, .whl has {dep} {carried[dep][0]}")
        elif dep in {canonicalize_name(n) for n in on_device}:
            assumed.add(f"{dep}{req.specifier}" if str(req.specifier) else dep)
        elif dep in optional and not with_debugpy:
            continue
        elif name != "minissl":
            problems.append(f"{name} wants {req}: neither carried nor on the GPU machine")
if problems:
    sys.exit("gpu_prepare: the wheels are not a closed set:\n  " + "\n  ".join(problems))
print(f"gpu_prepare: {len(carried)} wheels, requirements closed; assumed on the GPU machine: "
      + ", ".join(sorted(assumed)))
EOF
  for f in .whl/*.whl; do printf '  %-84s %7s KiB\n' "${f#.whl/}" $(( $(stat -c %s "$f") / 1024 )); done
  echo "gpu_prepare: .whl is $(mib "$(bytes_of .whl)")"
fi

if [ "$make_data" = 1 ]; then
  [ -d "$mirror/tinyshakespeare" ] || { echo "gpu_prepare: no data mirror at $mirror (use --mirror)" >&2; exit 1; }
  mirror=$(cd "$mirror" && pwd)
  if [ -d .gpudata ]; then chmod -R u+w .gpudata; rm -rf .gpudata; fi
  mkdir -p .gpudata
  folders=(tinyshakespeare)
  if [ "$subset" = 1 ]; then folders+=(cifar10-subset); fi
  for f in "${folders[@]}"; do
    cp -r "$mirror/$f" .gpudata/
  done
  chmod -R u+w .gpudata   # the mirror is read-only; the copies need not be
  jpeg_state="left out (--no-jpeg)"
  if [ "$jpeg" = 1 ]; then
    if ! "$PY" -c 'import minissl.data.cifar_jpeg' 2>/dev/null; then
      jpeg_state="skipped: minissl.data.cifar_jpeg (make_part) does not import"
      echo "gpu_prepare: SKIPPING the JPEG part: minissl.data.cifar_jpeg does not import with $PY" >&2
    elif [ ! -f "$mirror/cifar10-jpeg/cifar10-jpeg.zip" ]; then
      jpeg_state="skipped: no $mirror/cifar10-jpeg/cifar10-jpeg.zip"
      echo "gpu_prepare: SKIPPING the JPEG part: no cifar10-jpeg/cifar10-jpeg.zip in $mirror" >&2
    else
      echo "gpu_prepare: making the JPEG CIFAR-10 part (make_part: 2,500 train + 1,000 test per class)"
      t0=$(date +%s)
      "$PY" -c 'import sys; from minissl.data.cifar_jpeg import make_part; make_part(sys.argv[1], sys.argv[2])' \
        "$mirror/cifar10-jpeg/cifar10-jpeg.zip" .gpudata/cifar10-jpeg/cifar10-jpeg-part.zip
      jpeg_state="made by make_part (defaults) in $(( $(date +%s) - t0 )) s"
      echo "gpu_prepare: $jpeg_state"
    fi
  fi
  # What was made, for the report gpu_check.sh writes (it copies this file into its JSON as "prepared").
  "$PY" - "$jpeg_state" <<'EOF'
import datetime, hashlib, json, subprocess, sys
from pathlib import Path

def git(*args):
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None

files = {}
for p in sorted(Path(".gpudata").rglob("*")):
    if p.is_file() and p.name != "PREPARED.json":
        entry = {"bytes": p.stat().st_size}
        if p.suffix == ".zip":
            entry["sha256"] = hashlib.sha256(p.read_bytes()).hexdigest()
        files[str(p.relative_to(".gpudata"))] = entry
info = {
    "made": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "git_commit": git("rev-parse", "HEAD"),
    "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    "jpeg_part": sys.argv[1],
    "jpeg_note": "figures on cifar10-jpeg are on JPEG-compressed CIFAR-10: say so wherever they are reported",
    "files": files,
}
Path(".gpudata/PREPARED.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
EOF
  du -sb .gpudata/* | while read -r b p; do echo "  $p: $(mib "$b")"; done
  echo "gpu_prepare: .gpudata is $(mib "$(bytes_of .gpudata)")"
  git check-ignore -q .gpudata || echo "gpu_prepare: WARNING: .gpudata is not git-ignored; add /.gpudata/ to .gitignore" >&2
fi

whl_b=$(bytes_of .whl)
data_b=$(bytes_of .gpudata)
total=$(( whl_b + data_b ))
# The rest of what travels: tracked files and untracked ones git does not ignore (.whl and .gpudata counted above).
tree_b=$( { git ls-files -z; git ls-files -z --others --exclude-standard -- . ':!.gpudata' ':!.whl'; } \
  | du -cb --files0-from=- 2>/dev/null | tail -n 1 | cut -f1 || echo 0)
echo "gpu_prepare: .whl $(mib "$whl_b") + .gpudata $(mib "$data_b") = $(mib "$total") (limit $max_mib MiB);" \
  "with the working tree ($(mib "$tree_b")) $(mib $(( total + tree_b ))) of the 64 MiB that travel"
if [ "$total" -gt $(( max_mib * 1048576 )) ]; then
  echo "gpu_prepare: FAILED: over $max_mib MiB; try --no-subset, --no-jpeg, or leave out --with-debugpy" >&2
  exit 1
fi
if [ $(( total + tree_b )) -gt $(( 64 * 1048576 )) ]; then
  echo "gpu_prepare: FAILED: with the working tree it is over the 64 MiB the device tool carries" >&2
  exit 1
fi
echo "gpu_prepare: ready; carry [\".whl\", \".gpudata\"] (tests/GPU_CHECK.md)"
