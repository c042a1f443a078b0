"""Every CUDA kernel of the package, with tiny example arguments.

Used by ``hybridinpaint doctor`` to compile each kernel to PTX without a GPU
(the signature comes from the examples' numba types) and by the tests.
"""

from __future__ import annotations

import contextlib

import numpy as np


def _f32(*shape):
    return np.zeros(shape, np.float32)


def _i64(*shape):
    return np.zeros(shape, np.int64)


def kernels() -> dict[str, tuple[int, tuple]]:
    """``{body name: (index dimensions, example arguments after the sizes)}``."""
    from . import diffusion_fns, patches_fns, propagation_fns, warping_fns  # noqa: F401 - register bodies

    img, flow = _f32(4, 5, 3), _f32(4, 5, 2)
    nnf = np.zeros((4, 5, 3), np.int32)
    return {
        "warp_backward_px": (2, (img, flow, _f32(4, 5, 3), np.zeros((4, 5), np.uint8))),
        "splat_px": (2, (img, flow, _f32(4, 5, 3), _f32(4, 5))),
        "normalise_px": (2, (_f32(4, 5, 3), _f32(4, 5), _f32(4, 5, 3))),
        "sor_px": (1, (_i64(3), _i64(3), img, _f32(4, 5), img, np.float32(1.0), _f32(3))),
        "restrict_px": (
            1,
            (_i64(3), _i64(3), img, _f32(4, 5), img, np.zeros((4, 5), np.uint8), _f32(2, 3, 3), _f32(2, 3, 3)),
        ),
        "prolong_px": (1, (_i64(3), _i64(3), img, img, np.float32(1.0))),
        "pm_cost_px": (1, (_i64(3), _i64(3), img, _f32(4, 5), _f32(2, 4, 5, 3), nnf, 1, _f32(4, 5))),
        "pm_iterate_px": (
            1,
            (
                _i64(3),
                _i64(3),
                0,
                0,
                1,
                img,
                _f32(4, 5),
                _f32(2, 4, 5, 3),
                np.zeros((2, 4, 5), np.uint8),
                1,
                nnf,
                _f32(4, 5),
                nnf,
                _f32(4, 5),
            ),
        ),
        "vote_px": (1, (_i64(3), _i64(3), nnf, _f32(4, 5), _f32(2, 4, 5, 3), 1, np.float32(1.0), img)),
        "chain_px": (
            1,
            (
                0,
                _i64(3),
                _i64(3),
                1,
                0,
                0,
                _f32(2, 4, 5, 2),
                _f32(2, 4, 5, 2),
                np.zeros((3, 4, 5), np.int32),
                np.zeros(3, np.int32),
                _f32(3, 2),
                np.zeros(3, np.int32),
                np.float32(2.0),
                np.float32(0.1),
            ),
        ),
        "sample_known_px": (
            1,
            (
                _i64(3),
                _f32(3),
                _f32(3),
                _f32(2, 4, 5, 3),
                np.zeros((2, 4, 5), np.uint8),
                _f32(3, 3),
                np.zeros(3, np.uint8),
            ),
        ),
    }


def signature(ndim: int, example: tuple):
    import numba

    return tuple([numba.int64] * ndim + [numba.typeof(a) for a in example])


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
    """PTX of kernel ``name`` for compute capability ``cc``; raises on failure."""
    from numba import cuda

    from ._accelerate import launcher_function

    ndim, example = kernels()[name]
    if getattr(cuda, "compile_ptx", None) is None:
        raise RuntimeError("numba.cuda.compile_ptx is unavailable (is NUMBA_ENABLE_CUDASIM set?)")
    with _assumed_device(cc):
        ptx, _ = cuda.compile_ptx(launcher_function(name, ndim, "cuda"), signature(ndim, example), cc=cc)
    return ptx
