"""Where a run keeps its arrays: host memory for the CPU kernels, device memory for CUDA.

A stage that runs several kernels over the same arrays puts them once
(:meth:`Placement.put`), passes the placed arrays from kernel to kernel, and
gets back only what the host needs (:meth:`Placement.get`). On the CPU every
method is a no-op or a plain numpy operation, so one stage body serves both
targets. Device arrays are numba's (``numba.cuda.to_device``); arrays of
other libraries that expose ``__cuda_array_interface__`` (CuPy, torch) are
taken without a copy.
"""

from __future__ import annotations

import numpy as np

from ._accelerate import resolve_backend

__all__ = ["Placement", "on_device", "as_numba"]


def on_device(a) -> bool:
    """Whether ``a`` is a CUDA device array (numba's, the simulator's, or any ``__cuda_array_interface__``)."""
    return hasattr(a, "copy_to_host") or hasattr(a, "__cuda_array_interface__")


def as_numba(a):
    """A device array as numba's (a view of another library's through ``__cuda_array_interface__``, no copy)."""
    if hasattr(a, "copy_to_host"):
        return a
    from numba import cuda

    return cuda.as_cuda_array(a)


class Placement:
    """The memory of one backend: ``"cpu"`` (numpy arrays) or ``"cuda"`` (device arrays).

    Parameters
    ----------
    backend : {"auto", "cpu", "cuda"}

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.kernels import Placement
    >>> place = Placement("cpu")
    >>> a = place.zeros((2, 3), np.float32)
    >>> place.put_frame(a, 1, np.ones(3, np.float32))
    >>> place.get(a).sum()
    np.float32(3.0)
    """

    def __init__(self, backend="auto"):
        self.target = resolve_backend(backend)

    @property
    def device(self) -> bool:
        """True for CUDA device memory."""
        return self.target == "cuda"

    def put(self, a) -> np.ndarray:
        """``a`` in this placement's memory (C-contiguous; on the CPU without a copy where it already is)."""
        if not self.device:
            return np.ascontiguousarray(a)
        from numba import cuda

        if on_device(a):
            return as_numba(a)
        return cuda.to_device(np.ascontiguousarray(a))

    def get(self, a) -> np.ndarray:
        """``a`` as a numpy array (a copy from the device; on the CPU ``a`` itself)."""
        return as_numba(a).copy_to_host() if on_device(a) else a

    def empty(self, shape, dtype) -> np.ndarray:
        """A new array whose values are to be written (allocated, nothing sent)."""
        if not self.device:
            return np.empty(shape, dtype)
        from numba import cuda

        return cuda.device_array(shape, dtype)

    def zeros(self, shape, dtype) -> np.ndarray:
        """A new zero-filled array."""
        return self.put(np.zeros(shape, dtype)) if self.device else np.zeros(shape, dtype)

    def copy(self, a) -> np.ndarray:
        """A copy of a placed array, in the same memory."""
        if not self.device:
            return a.copy()
        from numba import cuda

        a = as_numba(a)
        out = cuda.device_array_like(a)
        out.copy_to_device(a)
        return out

    def get_frame(self, a, k) -> np.ndarray:
        """``a[k]`` (``k`` an index or a slice) as a numpy array to change and then :meth:`put_frame`.

        On the CPU it is ``a[k]`` itself.
        """
        return as_numba(a)[k].copy_to_host() if on_device(a) else a[k]

    def put_frame(self, a, k, value) -> None:
        """``a[k] = value`` (nothing to do where ``value`` is ``a[k]`` from :meth:`get_frame`)."""
        if on_device(a):
            as_numba(a)[k].copy_to_device(np.ascontiguousarray(value, dtype=a.dtype))
        elif not _same_view(value, a[k]):
            a[k] = value


def _same_view(x, y) -> bool:
    """Whether ``x`` and ``y`` are the same memory seen the same way (assigning one to the other is a no-op)."""
    if not isinstance(x, np.ndarray) or x.dtype != y.dtype or x.shape != y.shape or x.strides != y.strides:
        return False
    return x.__array_interface__["data"][0] == y.__array_interface__["data"][0]
