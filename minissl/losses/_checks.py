"""What every loss checks before its maths, in one place, so that the loss functions read like the formulas.

:func:`check_shape` checks a tensor against named dimensions, e.g. ``"N D"``: a name seen before must have
the same size (``z2`` must match the ``N`` and ``D`` of ``z1``), a digit is a fixed size. Its errors name the
function, the argument, the shape received and the shape expected, and say what to do.
:func:`working_dtype` is the precision a loss computes in.
"""

from __future__ import annotations

import torch


def check_shape(who: str, name: str, x, dims: str, sizes: dict[str, int], hint: str = "",
                integer: bool = False) -> None:
    """Raise unless ``x`` is a tensor with ``len(dims.split())`` dimensions whose sizes agree with ``sizes``.

    Args:
        who, name: the function and the argument, for the message (``"nt_xent"``, ``"z2"``).
        dims: one name per dimension, ``"B T V"``; a digit is a fixed size (``"1 K"``).
        sizes: the sizes already known by name; the new names are added to it.
        hint: what the caller should do, appended to the message.
        integer: ``x`` must hold integers (ids, labels) rather than floating-point numbers.

    Raises:
        TypeError: ``x`` is not a tensor, or has the wrong kind of dtype.
        ValueError: the number of dimensions or a size does not match.
    """
    names = dims.split()
    want = tuple(int(n) if n.isdigit() else sizes.get(n, n) for n in names)  # known sizes as ints
    expected = f"({', '.join(names)})" + (f" = ({', '.join(map(str, want))})" if want != tuple(names) else "")
    hint = f"; {hint}" if hint else ""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{who}: {name} must be a tensor {expected}, got {type(x).__name__}{hint}")
    if integer and (x.is_floating_point() or x.is_complex() or x.dtype == torch.bool):
        raise TypeError(f"{who}: {name} must hold integer ids (torch.long), got dtype {x.dtype}{hint}")
    if not integer and not x.is_floating_point():
        raise TypeError(f"{who}: {name} must be a floating-point tensor, got dtype {x.dtype}; convert it with "
                        f".float(){hint}")
    if x.dim() != len(names) or any(isinstance(w, int) and w != s for w, s in zip(want, x.shape)):
        raise ValueError(f"{who}: {name} has shape {tuple(x.shape)}, expected {expected}{hint}")
    sizes.update((n, s) for n, s in zip(names, x.shape) if not n.isdigit())


def check_positive(who: str, **values: float) -> None:
    """Raise ``ValueError`` naming the first of ``values`` (temperatures...) that is not > 0."""
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{who}: {name} must be > 0, got {value}")


def working_dtype(*tensors: torch.Tensor) -> torch.dtype:
    """The dtype a loss computes in: the inputs' own, except that half precision (float16, bfloat16) is
    raised to float32, whose mantissa keeps the small differences a loss is made of. float64 stays float64,
    so :func:`torch.autograd.gradcheck` can check the gradients."""
    dtype = torch.float32
    for t in tensors:
        dtype = torch.promote_types(dtype, t.dtype)
    return dtype
