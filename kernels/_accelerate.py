"""One kernel body, two compilers.

A *body* is a plain Python function that does the work for one element
(one pixel, one list entry). :func:`body` registers it; :func:`launcher`
turns it into a CPU entry point (``numba.njit``, outer loop a ``prange``)
or a CUDA kernel (``numba.cuda.jit``, one thread per element).

Bodies call each other and a few target primitives (``atomic_add``) by
their global names. When a body is compiled for a target its globals are
rebound so that every such name points at the version compiled for that
same target; the Python source stays single.
"""

from __future__ import annotations

import functools
import os
import types

import numpy as np

__all__ = [
    "body",
    "launcher",
    "resolve_backend",
    "cuda_usable",
    "cuda_threads",
    "BACKENDS",
]

BACKENDS = ("auto", "cpu", "cuda")

# Options of every CPU build. No fastmath: the CPU and CUDA builds should do
# the same float32 arithmetic. numpy's error model: a division by zero gives
# inf/nan instead of a Python exception, which spares a branch per division
# (bodies guard their divisions themselves).
CPU_OPTIONS = {"fastmath": False, "error_model": "numpy"}

_BODIES: dict[str, types.FunctionType] = {}


def body(fn):
    """Register ``fn`` as a kernel body (compiled later, per target)."""
    _BODIES[fn.__name__] = fn
    return fn


# --- target primitives -----------------------------------------------------
# A primitive is the one place where the two targets need different code.
# Each has a source per target, compiled in a namespace that provides ``cuda``.

_PRIMITIVES = {
    "atomic_add": {
        # The CPU launchers that call it run serially, so a plain add is exact
        # and deterministic.
        "cpu": "def atomic_add(arr, idx, val):\n    arr[idx] += val\n",
        "cuda": "def atomic_add(arr, idx, val):\n    cuda.atomic.add(arr, idx, val)\n",
    },
}


def _numba():
    import numba

    return numba


def _cuda():
    from numba import cuda

    return cuda


@functools.cache
def _compiled_primitive(name: str, target: str):
    g: dict = {}
    if target == "cuda":
        g["cuda"] = _cuda()
    exec(compile(_PRIMITIVES[name][target], f"<primitive {name}/{target}>", "exec"), g)
    if target == "cpu":
        return _numba().njit(**CPU_OPTIONS, inline="always")(g[name])
    return _cuda().jit(device=True)(g[name])


def _rebound(fn: types.FunctionType, target: str) -> types.FunctionType:
    """A copy of ``fn`` whose body/primitive globals point at ``target`` versions."""
    g = dict(fn.__globals__)
    for name in fn.__code__.co_names:
        if name in _BODIES and _BODIES[name] is not fn:
            g[name] = device_function(name, target)
        elif name in _PRIMITIVES:
            g[name] = _compiled_primitive(name, target)
    new = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__qualname__ = fn.__qualname__
    new.__doc__ = fn.__doc__
    return new


@functools.cache
def device_function(name: str, target: str):
    """The body ``name`` compiled as a callee for ``target``."""
    fn = _rebound(_BODIES[name], target)
    if target == "cpu":
        return _numba().njit(**CPU_OPTIONS, inline="always")(fn)
    return _cuda().jit(device=True)(fn)


def _launcher_source(name: str, params: list[str], ndim: int, target: str, mode: str):
    args = ", ".join(params[ndim:])
    sizes = ", ".join(f"n{i}" for i in range(ndim))
    idx = ", ".join(f"i{i}" for i in range(ndim))
    if target == "cuda":
        lines = [f"def {name}_cuda({sizes}, {args}):"]
        if ndim == 1:
            lines.append("    i0 = cuda.grid(1)")
            lines.append("    if i0 < n0:")
        else:
            # x (fastest-varying thread index) walks the last array axis.
            lines.append(f"    i{ndim - 1}, i{ndim - 2} = cuda.grid(2)")
            lines.append("    if i0 < n0 and i1 < n1:")
        lines.append(f"        _px({idx}, {args})")
    elif mode == "bands":
        # Scatter bodies: rows are cut into bands of ``band`` rows, all even
        # bands run in parallel, then all odd ones. With ``band`` taller than
        # the rows one band can write to, no two running bands touch the same
        # output, and each output sums its inputs in an order that depends
        # neither on the scheduler nor on the number of threads.
        lines = [f"def {name}_cpu({sizes}, band, {args}):"]
        lines.append("    nb = (n0 + band - 1) // band")
        lines.append("    for phase in range(2):")
        lines.append("        for k in prange((nb - phase + 1) // 2):")
        lines.append("            b = 2 * k + phase")
        lines.append("            for i0 in range(b * band, min((b + 1) * band, n0)):")
        depth = 4
        for d in range(1, ndim):
            lines.append("    " * depth + f"for i{d} in range(n{d}):")
            depth += 1
        lines.append("    " * depth + f"_px({idx}, {args})")
    else:
        lines = [f"def {name}_cpu({sizes}, {args}):"]
        for d in range(ndim):
            rng = "prange" if d == 0 else "range"
            lines.append("    " * (d + 1) + f"for i{d} in {rng}(n{d}):")
        lines.append("    " * (ndim + 1) + f"_px({idx}, {args})")
    return "\n".join(lines) + "\n"


@functools.cache
def launcher_function(name: str, ndim: int, target: str, mode: str = "parallel"):
    """The uncompiled Python launcher for body ``name`` (used for PTX checks)."""
    import inspect

    params = list(inspect.signature(_BODIES[name]).parameters)
    if len(params) <= ndim:
        raise TypeError(f"body {name} needs {ndim} index parameters and some arrays")
    g: dict = {"_px": device_function(name, target), "np": np}
    if target == "cpu":
        g["prange"] = _numba().prange
    else:
        g["cuda"] = _cuda()
    src = _launcher_source(name, params, ndim, target, mode)
    exec(compile(src, f"<hybridinpaint launcher {name}/{target}>", "exec"), g)
    return g[f"{name}_{target}"]


@functools.cache
def launcher(name: str, ndim: int, target: str, mode: str = "parallel"):
    """Compiled entry point running body ``name`` over an ``ndim``-D index space.

    ``mode`` (CPU only): ``"parallel"`` (outer loop a ``prange``) or
    ``"bands"`` (for scatter bodies, see the source).
    Call it as ``f(n0, ..., *arrays)`` on the CPU (``f(n0, n1, band,
    *arrays)`` for bands), or through :func:`launch_cuda` for CUDA.
    """
    if target == "cuda":
        mode = "parallel"
    fn = launcher_function(name, ndim, target, mode)
    if target == "cpu":
        return _numba().njit(**CPU_OPTIONS, parallel=True)(fn)
    return _cuda().jit(fn)


def cuda_threads(ndim: int):
    """Threads per block: ``HYBRIDINPAINT_CUDA_THREADS`` (e.g. ``"4"``) or defaults."""
    env = os.environ.get("HYBRIDINPAINT_CUDA_THREADS")
    if env:
        t = int(env)
        return (t,) if ndim == 1 else (t, t)
    return (256,) if ndim == 1 else (16, 16)


def launch_cuda(name: str, sizes: tuple[int, ...], *args):
    """Launch body ``name`` on the GPU over ``sizes`` with device-array ``args``."""
    ndim = len(sizes)
    kern = launcher(name, ndim, "cuda")
    threads = cuda_threads(ndim)
    if ndim == 1:
        blocks = (max(1, -(-sizes[0] // threads[0])),)
    else:
        # grid x follows the last axis (columns), grid y the first (rows)
        blocks = (max(1, -(-sizes[1] // threads[0])), max(1, -(-sizes[0] // threads[1])))
    kern[blocks, threads](*sizes, *args)


def run_cpu(name: str, sizes: tuple[int, ...], *args, mode: str = "parallel", band: int = 0):
    """Run body ``name`` over ``sizes`` on the CPU."""
    fn = launcher(name, len(sizes), "cpu", mode)
    if mode == "bands":
        fn(*sizes, max(1, int(band)), *args)
    else:
        fn(*sizes, *args)


@functools.cache
def cuda_usable() -> bool:
    """True when numba-cuda is installed and a real CUDA device answers."""
    try:
        from numba import config, cuda
    except Exception:  # numba-cuda missing or broken driver
        return False
    if getattr(config, "ENABLE_CUDASIM", 0):
        return False
    try:
        return bool(cuda.is_available())
    except Exception:
        return False


def cuda_simulated() -> bool:
    try:
        from numba import config

        return bool(getattr(config, "ENABLE_CUDASIM", 0))
    except Exception:  # pragma: no cover
        return False


def resolve_backend(backend) -> str:
    """Map ``"auto" | "cpu" | "cuda"`` to the target that will run."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS!r}, got {backend!r}")
    if backend == "auto":
        return "cuda" if cuda_usable() else "cpu"
    if backend == "cuda" and not (cuda_usable() or cuda_simulated()):
        raise RuntimeError(
            "backend='cuda' was requested but no usable CUDA device was found "
            "(install the 'cuda' extra: pip install 'hybridinpaint[cuda]', and check "
            "the driver with `hybridinpaint doctor`); use backend='cpu' or 'auto'"
        )
    return backend
