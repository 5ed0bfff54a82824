"""minissl: the package behind the book *Self-supervised learning from scratch*.

Each module holds one idea and names the chapter that builds it. Read them in the order a chapter uses them:
``presets`` -> ``data`` -> ``augment`` / ``masking`` -> ``nn`` -> ``models`` -> ``losses`` -> ``train`` ->
``eval`` -> ``plots``.
"""

from importlib.metadata import PackageNotFoundError, version

try:  # the one version number lives in pyproject.toml
    __version__ = version("minissl")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "unknown"
