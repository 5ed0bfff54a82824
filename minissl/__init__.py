"""minissl: the package behind the book *Self-supervised learning from scratch*.

Each module holds one idea and names the chapter that builds it. Read them in the order a chapter uses them:
``presets`` -> ``data`` -> ``augment`` / ``masking`` -> ``nn`` -> ``models`` -> ``losses`` -> ``train`` ->
``eval`` -> ``plots``.
"""

__version__ = "0.1.0"
