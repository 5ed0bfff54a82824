"""What every chapter's presets share: the three machine classes and what is known of their times.

* ``cpu``: a 2-core laptop; at most 4 minutes of training per notebook, on a fixed data slice that is the
  same whether the machine holds the book's offline subset or the full download. Times measured.
* ``gpu``: one Colab-class GPU, a T4 (16 GB, about 65 TFLOP/s fp16 peak, no bf16): a whole notebook in at
  most 10 minutes, sized from FLOP counts at a quarter of the peak. What Colab readers get by default.
* ``h100``: one H100/H200, for the headline figures; only by name or ``MINISSL_PRESET=h100``.
"""

T4_TIME = "at most 10 minutes on one T4 (sized from FLOP counts at ~25% of its fp16 peak; not yet timed on a GPU)"
H100_TIME = "a few minutes on one H100/H200 (sized from FLOP counts; not yet timed on a GPU)"


def cpu_time(seconds: int) -> str:
    """The measured time of a whole notebook on a 2-core CPU (an AMD EPYC VM; a recent laptop is faster)."""
    where = "on 2 CPU cores (measured on a 2-core cloud VM; a recent laptop is faster)"
    return f"about {seconds} s {where}" if seconds < 120 else f"about {round(seconds / 60)} minutes {where}"
