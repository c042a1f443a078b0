"""Target primitives, CPU versions: the one place where the two targets need different code.

A body calls a primitive by its plain name (``atomic_add``); compiled for a
target, the name is bound to that target's version (``_primitives_cuda.py``
holds the CUDA ones).
"""

__all__ = ["atomic_add"]


def atomic_add(arr, idx, val):
    # The CPU launchers of scatter bodies run bands that never touch the same
    # rows at once, so a plain add is exact and deterministic.
    arr[idx] += val
