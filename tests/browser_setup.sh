#!/usr/bin/env bash
# What the browser test (tests/test_browser.py) needs besides Python packages: Debian's chromium and its
# driver, and MathJax 3 (npm's mathjax@3, es5 build) in _mathjax/mathjax so that math is typeset offline.
# Installs chromium only as root with apt-get; otherwise it says what to install and the browser test skips.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) \
      >/dev/null || echo "browser setup: apt-get could not install chromium chromium-driver"
  else
    echo "browser setup: install chromium and chromium-driver (Debian/Ubuntu: apt-get install chromium" \
      "chromium-driver) to run the browser test; it is skipped without them"
  fi
fi
if [ ! -f _mathjax/mathjax/tex-mml-chtml.js ]; then
  if command -v npm >/dev/null; then
    tmp=$(mktemp -d)
    if (cd "$tmp" && npm pack -q mathjax@3 >/dev/null 2>&1 && tar xzf mathjax-3*.tgz); then
      mkdir -p _mathjax
      rm -rf _mathjax/mathjax.tmp && mkdir -p _mathjax/mathjax.tmp/output/chtml/fonts
      mv "$tmp/package/es5/tex-mml-chtml.js" _mathjax/mathjax.tmp/  # the one file Sphinx loads, and its fonts
      mv "$tmp/package/es5/output/chtml/fonts/woff-v2" _mathjax/mathjax.tmp/output/chtml/fonts/
      mv _mathjax/mathjax.tmp _mathjax/mathjax  # moved into place whole
    else
      echo "browser setup: npm could not fetch mathjax@3; the book test uses MathJax from its CDN"
    fi
    rm -rf "$tmp"
  else
    echo "browser setup: no npm, so no offline MathJax; the book test uses MathJax from its CDN"
  fi
fi
