#!/usr/bin/env bash
# Build the book from a fresh machine: set up .venv, execute every notebook (cached in _build), write the HTML
# to _build/html. A cell error fails the build (-W). Open _build/html/index.html.
source "$(dirname "${BASH_SOURCE[0]}")/../tests/setup_env.sh"
start=$(date +%s)
jupyter-book build -W -n --keep-going "$@" .
echo "book: built in $(( $(date +%s) - start )) s -> _build/html/index.html"
