#!/usr/bin/env bash
# Every test, from a fresh machine: set up .venv, then ruff, the unit tests, every chapter notebook under
# nbval (cpu preset unless MINISSL_PRESET says otherwise), then the book built from those runs' outputs and its
# pages checked in headless Chromium (tests/browser_setup.sh installs it as root; without it that test skips).
#   bash tests/run.sh                      # all of it
#   MINISSL_PRESET=gpu bash tests/run.sh   # the same on a GPU machine, with the gpu preset's sizes/thresholds
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
bash tests/browser_setup.sh
export MINISSL_PRESET=${MINISSL_PRESET:-cpu}
start=$(date +%s)
ruff check .
# --nbval-lax: notebooks are committed without outputs, so their check cells (asserts) are the tests.
python -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=1200 -p no:cacheprovider \
  --durations=30 "$@"
echo "tests: finished in $(( $(date +%s) - start )) s"
