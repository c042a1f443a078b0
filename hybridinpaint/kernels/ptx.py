"""PTX builds of every CUDA kernel, without a GPU.

Used by ``hybridinpaint doctor`` and by the tests. The signatures are the
ones declared in ``_declarations.py``, the launchers the generated ones in
``_launch_cuda.py``: the same code a GPU run compiles.
"""

from __future__ import annotations

import contextlib

from ._declarations import KERNELS, Kernel, cuda_signature

__all__ = ["kernels", "signature", "compile_ptx"]


def kernels() -> dict[str, Kernel]:
    """``{kernel name: declaration}`` of every kernel (see ``_declarations.py``)."""
    return dict(KERNELS)


def signature(name: str):
    """The numba signature kernel ``name``'s CUDA launcher is compiled for."""
    return cuda_signature(KERNELS[name])


class _Device:
    def __init__(self, cc):
        self.compute_capability = cc


@contextlib.contextmanager
def _assumed_device(cc):
    """Let device functions compile with no GPU present.

    numba-cuda types a call to a ``cuda.jit(device=True)`` function by
    compiling it for the *current device*, which needs a driver. The kernel
    itself is compiled for ``cc`` by ``compile_ptx``; the callee only has to
    be typed and lowered to NVVM IR, which does not depend on a device, so
    a stand-in that reports ``cc`` is enough.
    """
    from numba.cuda import dispatcher

    from ._accelerate import cuda_usable

    if cuda_usable():
        yield
        return
    real = dispatcher.get_current_device
    dispatcher.get_current_device = lambda: _Device(cc)
    try:
        yield
    finally:
        dispatcher.get_current_device = real


def compile_ptx(name: str, cc: tuple[int, int]) -> str:
    """PTX of kernel ``name``'s CUDA launcher for compute capability ``cc``; raises on failure.

    Needs numba-cuda (the ``cuda`` extra) but no GPU.
    """
    from numba import cuda

    from ._accelerate import launcher_function

    if name not in KERNELS:
        raise KeyError(f"unknown kernel {name!r}; declared: {', '.join(KERNELS)}")
    if getattr(cuda, "compile_ptx", None) is None:
        raise RuntimeError("numba.cuda.compile_ptx is unavailable (is NUMBA_ENABLE_CUDASIM set?)")
    with _assumed_device(cc):
        ptx, _ = cuda.compile_ptx(launcher_function(name, "cuda"), signature(name), cc=cc)
    return ptx
