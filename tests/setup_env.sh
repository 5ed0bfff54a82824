# Sourced by book/build.sh and tests/run.sh: make (or reuse) .venv and install the book, the tests and the
# package into it. MINISSL_TORCH picks the torch to install (default: the 2.13.0 wheel the book is tested
# with; on a machine with a torch you want to keep, use MINISSL_TORCH='torch>=2.0').
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
start=$(date +%s)
python -m pip install -q --disable-pip-version-check "${MINISSL_TORCH:-torch==2.13.0}" -r requirements.txt -e .
echo "setup: environment ready in $(( $(date +%s) - start )) s ($(python -c 'import torch; print("torch", torch.__version__)'))"
# Datasets: an explicit MINISSL_DATA is made absolute, since notebooks run with notebooks/ as their folder.
if [ -n "${MINISSL_DATA:-}" ]; then
  MINISSL_DATA=$(cd "$MINISSL_DATA" && pwd)
  export MINISSL_DATA
fi
