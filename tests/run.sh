#!/usr/bin/env bash
# Every test, from a fresh machine: set up .venv, then ruff, the unit tests, every chapter notebook under
# nbval (cpu preset unless MINISSL_PRESET says otherwise), then the book built from those runs' outputs and its
# pages checked in headless Chromium (tests/browser_setup.sh installs it as root; without it that test skips).
#   bash tests/run.sh                          # all of it
#   bash tests/run.sh notebooks/04_gpt.ipynb   # one chapter (or any pytest arguments), in one process
#   MINISSL_PRESET=gpu bash tests/run.sh       # the same on a GPU machine, with the gpu preset's sizes/thresholds
# The whole cpu run uses two pytest-xdist workers with half the cores each (one notebook per worker at a time,
# the slowest first; MINISSL_TEST_WORKERS=1 for one process): the chapters' small models keep a second thread
# of one process half idle, so two processes of one thread each do about 1.4 times the work on 2 cores.
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
bash tests/browser_setup.sh
export MINISSL_PRESET=${MINISSL_PRESET:-cpu}
start=$(date +%s)
ruff check .
common=(--nbval-lax --nbval-current-env --nbval-cell-timeout=1200 -p no:cacheprovider)
cores=$(nproc)
default_workers=1
if [ "$MINISSL_PRESET" = cpu ] && [ "$cores" -ge 2 ]; then
  default_workers=2  # on a GPU machine one notebook at a time: the device and its timings are not shared
fi
workers=${MINISSL_TEST_WORKERS:-$default_workers}
if [ $# -gt 0 ] || [ "$workers" -le 1 ]; then
  # --nbval-lax: notebooks are committed without outputs, so their check cells (asserts) are the tests.
  python -m pytest "${common[@]}" --durations=30 "$@"
else
  threads=$(( cores / workers > 0 ? cores / workers : 1 ))
  # everything but the book and browser tests, which read the executed notebooks these runs write
  OMP_NUM_THREADS=$threads python -m pytest "${common[@]}" -n "$workers" --dist loadfile --no-loadscope-reorder \
    --durations=30 -m "not after_notebooks"
  python -m pytest "${common[@]}" -m after_notebooks
fi
echo "tests: finished in $(( $(date +%s) - start )) s"
