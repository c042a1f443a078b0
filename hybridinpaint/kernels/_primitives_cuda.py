"""Target primitives, CUDA versions (see ``_primitives.py``)."""

from numba import cuda

__all__ = ["atomic_add"]


def atomic_add(arr, idx, val):
    cuda.atomic.add(arr, idx, val)
