#!/usr/bin/env bash
# Run chapter notebooks under nbval, one pytest per notebook, and write ONE JSON report of what happened:
# the machine (GPU, capability, torch), the preset, and per notebook pass/fail, wall seconds, pytest's summary
# line, the slowest cells, and every figure its check cells recorded with minissl.utils.record(...).
# Made for the GPU machine of the device tool (tests/GPU_CHECK.md says how), and runs on any CPU machine too.
#
#   bash tests/gpu_check.sh [options] NOTEBOOK...
#     --preset NAME        MINISSL_PRESET for the notebooks (default: gpu)
#     --data DIR           MINISSL_DATA for the notebooks (default: .gpudata, made by tests/gpu_prepare.sh)
#     --out FILE           the report (default: $OUT/gpu_check.json when OUT is set, else gpu_check.json)
#     --timeout S          stop any one notebook after S wall seconds (default: 0 = no limit)
#     --budget S           stop starting notebooks once S seconds since this script began are spent: a notebook
#                          gets at most what is left (minus 20 s for the report); one with under 30 s is skipped
#     --cell-timeout S     nbval's limit per cell (default: 1200)
#     --site DIR           where the carried wheels are installed (default: /tmp/site)
# PYTHON picks the interpreter (default: python3); the Jupyter kernel runs on the same one, with the same
# PYTHONPATH. When nbval does not import with it, the wheels in .whl/ (tests/gpu_prepare.sh) are installed into
# --site first. The repository root goes first on PYTHONPATH, so the notebooks import this working tree's minissl.
# The report is rewritten after every notebook, so a run cut short still leaves one ("complete": false).
# Exit status: 0 if every notebook passed, 1 if any failed, timed out or was skipped, 2 on a setup error.
set -uo pipefail

usage() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

abspath() {  # a path given relative to where the script was called from -> absolute
  case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$CALLER_DIR/$1" ;; esac
}

CALLER_DIR=$PWD
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPORT=$REPO/tests/gpu_check_report.py
PY=${PYTHON:-python3}
preset=gpu
data=""
out=""
nb_timeout=0
budget=0
cell_timeout=1200
site=/tmp/site
reserve=20     # seconds kept for the last report when a budget is set
min_run=30     # a notebook is not started with less than this left of the budget
notebooks=()

need_value() { [ "$#" -ge 2 ] || { echo "gpu_check: $1 needs a value" >&2; exit 2; }; }
while [ "$#" -gt 0 ]; do
  case $1 in
    --preset) need_value "$@"; preset=$2; shift 2 ;;
    --preset=*) preset=${1#*=}; shift ;;
    --data) need_value "$@"; data=$2; shift 2 ;;
    --data=*) data=${1#*=}; shift ;;
    --out) need_value "$@"; out=$2; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    --timeout) need_value "$@"; nb_timeout=$2; shift 2 ;;
    --timeout=*) nb_timeout=${1#*=}; shift ;;
    --budget) need_value "$@"; budget=$2; shift 2 ;;
    --budget=*) budget=${1#*=}; shift ;;
    --cell-timeout) need_value "$@"; cell_timeout=$2; shift 2 ;;
    --cell-timeout=*) cell_timeout=${1#*=}; shift ;;
    --site) need_value "$@"; site=$2; shift 2 ;;
    --site=*) site=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; notebooks+=("$@"); break ;;
    -*) echo "gpu_check: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) notebooks+=("$1"); shift ;;
  esac
done
for pair in "timeout:$nb_timeout" "budget:$budget" "cell-timeout:$cell_timeout"; do
  case ${pair#*:} in
    ''|*[!0-9]*) echo "gpu_check: --${pair%%:*} must be a whole number of seconds, got '${pair#*:}'" >&2; exit 2 ;;
  esac
done
if [ "${#notebooks[@]}" -eq 0 ]; then
  echo "gpu_check: name at least one notebook, e.g. notebooks/03_attention.ipynb (see --help)" >&2
  exit 2
fi
if [ -z "$out" ]; then
  if [ -n "${OUT:-}" ]; then out=$OUT/gpu_check.json; else out=$REPO/gpu_check.json; fi
fi
out=$(abspath "$out")
data=$(abspath "${data:-$REPO/.gpudata}")

start=$(date +%s)
W=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
cd "$REPO" || exit 2

# Without a working Python nothing else can run; still leave a JSON behind.
if ! "$PY" -c 'import sys; assert sys.version_info >= (3, 8)' 2>/dev/null; then
  echo "gpu_check: '$PY' is not a working Python 3; set PYTHON" >&2
  mkdir -p "$(dirname "$out")"
  printf '{"schema": 1, "complete": false, "all_passed": false, "error": "no working python: %s"}\n' "$PY" >"$out"
  exit 2
fi
setrun() { "$PY" "$REPORT" set "$W/run.json" "$@"; }
report() { "$PY" "$REPORT" report "$W" "$out" "$@" || echo "gpu_check: could not write the report $out" >&2; }
setup_error() {  # message: record it, write the report, stop
  echo "gpu_check: $1" >&2
  setrun "error=$1" "finished:=true" "wall_s:=$(( $(date +%s) - start ))"
  report
  exit 2
}

setrun "preset=$preset" "data=$data" "out=$out" "python=$PY" "repo=$REPO" "workdir=$W" \
  "timeout_s:=$nb_timeout" "budget_s:=$budget" "cell_timeout_s:=$cell_timeout" "finished:=false" \
  "started=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "git_commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)"
for nb in "${notebooks[@]}"; do setrun "notebooks+=$nb"; done
echo "gpu_check: preset $preset, data $data, ${#notebooks[@]} notebook(s), report $out"

# 1. nbval: already importable (a CPU venv), else install the carried wheels.
if "$PY" -c 'import nbval' 2>/dev/null; then
  echo "gpu_check: nbval already imports with $PY; no wheel install"
  setrun "install=skipped: nbval already importable"
else
  shopt -s nullglob
  wheels=("$REPO"/.whl/*.whl)
  shopt -u nullglob
  [ "${#wheels[@]}" -gt 0 ] || setup_error "nbval does not import with $PY and .whl/ holds no wheels: run bash tests/gpu_prepare.sh here first and carry .whl"
  t0=$(date +%s)
  if ! "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" \
      "${wheels[@]}"; then
    setup_error "pip could not install the ${#wheels[@]} wheels of .whl into $site"
  fi
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
  echo "gpu_check: installed ${#wheels[@]} wheels into $site in $(( $(date +%s) - t0 )) s"
  wheel_names=()
  for w in "${wheels[@]}"; do wheel_names+=("wheels+=${w##*/}"); done
  setrun "install=installed ${#wheels[@]} wheels into $site" "site=$site" "${wheel_names[@]}"
fi
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
setrun "pythonpath=$PYTHONPATH"

# 2. Imports, data, machine.
if ! err=$("$PY" -c 'import nbval, ipykernel, nbformat, jupyter_client, minissl' 2>&1); then
  setup_error "nbval or minissl does not import: $(printf '%s' "$err" | tail -n 3 | tr '\n' ' ')"
fi
[ -d "$data" ] || setup_error "no data folder $data: run bash tests/gpu_prepare.sh (and carry .gpudata), or pass --data"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,compute_cap,clocks.max.sm --format=csv \
    || echo "gpu_check: nvidia-smi failed"
else
  echo "gpu_check: no nvidia-smi on this machine"
fi
"$PY" "$REPORT" machine "$W" || echo "gpu_check: could not describe the machine" >&2
report

# 3. The notebooks, one pytest each.
trap 'echo "gpu_check: stopped by a signal" >&2; setrun "stopped_by_signal:=true"; report; exit 143' TERM INT
failures=0
n=${#notebooks[@]}
for i in "${!notebooks[@]}"; do
  name=${notebooks[$i]}
  nb=$(abspath "$name")
  meta=$W/nb_$i.json
  limit=$nb_timeout
  if [ "$budget" -gt 0 ]; then
    left=$(( budget - ($(date +%s) - start) - reserve ))
    if [ "$left" -lt "$min_run" ]; then
      echo "gpu_check: [$((i + 1))/$n] $name: skipped, ${left} s left of the ${budget} s budget"
      "$PY" "$REPORT" set "$meta" "status=skipped" "reason=budget: ${left} s left of ${budget} s"
      failures=$((failures + 1))
      report
      continue
    fi
    if [ "$limit" -eq 0 ] || [ "$left" -lt "$limit" ]; then limit=$left; fi
  fi
  if [ ! -f "$nb" ]; then
    echo "gpu_check: [$((i + 1))/$n] $name: no such file"
    "$PY" "$REPORT" set "$meta" "status=missing" "path=$nb"
    failures=$((failures + 1))
    report
    continue
  fi
  echo "gpu_check: [$((i + 1))/$n] $name (timeout: $([ "$limit" -gt 0 ] && echo "$limit s" || echo none)) ..."
  figures=$W/nb_$i.figures.jsonl
  : >"$figures"
  cmd=("$PY" -m pytest --nbval-lax --nbval-current-env "--nbval-cell-timeout=$cell_timeout" -p no:cacheprovider
       -rfE --durations=10 "$nb")
  if [ "$limit" -gt 0 ]; then cmd=(timeout -k 20 "$limit" "${cmd[@]}"); fi
  t0=$(date +%s.%N)
  MINISSL_PRESET=$preset MINISSL_DATA=$data MINISSL_FIGURES=$figures PYTHONUNBUFFERED=1 \
    JUPYTER_RUNTIME_DIR=$W/jupyter IPYTHONDIR=$W/ipython "${cmd[@]}" >"$W/nb_$i.log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  case $rc in
    0) status=passed ;;
    1) status=failed ;;
    124|137) if [ "$limit" -gt 0 ]; then status=timeout; else status=error; fi ;;
    *) status=error ;;
  esac
  [ "$status" = passed ] || failures=$((failures + 1))
  "$PY" "$REPORT" set "$meta" "status=$status" "rc:=$rc" "wall_s:=$wall" "timeout_s:=$limit" "path=$nb"
  summary=$(grep -E '^=+ .*(passed|failed|error|skipped|no tests ran).* =+$' "$W/nb_$i.log" | tail -n 1)
  echo "gpu_check: [$((i + 1))/$n] $name: $status in $wall s (rc $rc) ${summary:-(no pytest summary)}"
  if [ "$status" != passed ]; then
    echo "----- last 40 lines of its log -----"
    tail -n 40 "$W/nb_$i.log"
    echo "-----"
  fi
  report
done
trap - TERM INT

setrun "finished:=true" "wall_s:=$(( $(date +%s) - start ))" "failures:=$failures"
echo "gpu_check: done in $(( $(date +%s) - start )) s; $failures of $n notebook(s) did not pass"
report --table
echo "gpu_check: wrote $out (working files in $W)"
[ "$failures" -eq 0 ]
