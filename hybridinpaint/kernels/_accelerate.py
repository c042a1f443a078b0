"""One kernel body, two compilers, and a cache on disk.

A *body* is a plain Python function that does the work for one element
(one pixel, one list entry). :func:`body` registers it. The launchers that
loop over a body (``_launch_cpu.py``: ``numba.njit``, outer loop a
``prange``; ``_launch_cuda.py``: ``numba.cuda.jit``, one thread per element)
are generated from the declarations in ``_declarations.py`` and compiled
here, by :func:`launcher`, for the signature declared there, with numba's
on-disk cache.

Bodies call each other and a few target primitives (``atomic_add``) by
their global names. When a body is compiled for a target its globals are
rebound so that every such name points at the version compiled for that
same target; the Python source stays single.

The cache: numba keeps compiled launchers beside their source (in
``kernels/__pycache__``) when that folder is writable, else in the user's
cache folder (``~/.cache/numba``), or in ``NUMBA_CACHE_DIR`` when that is
set. A cache written by another numba version or for another CPU is ignored
and rewritten by numba; one that cannot be read (truncated, corrupt) is
deleted and rebuilt here; where no folder is writable, kernels compile in
memory with a warning.
"""

from __future__ import annotations

import functools
import glob
import importlib
import os
import threading
import time
import types
import warnings

import numpy as np

from ._declarations import (
    BODY_MODULES,
    CPU_CALLED,
    CPU_OPTIONS,
    KERNELS,
    Arg,
    cpu_signature,
    cuda_signature,
    redblack_parts,
)

__all__ = [
    "body",
    "launcher",
    "run_cpu",
    "launch_cuda",
    "warm_up",
    "cache_dir",
    "resolve_backend",
    "cuda_usable",
    "cuda_simulated",
    "cuda_threads",
    "BACKENDS",
]

BACKENDS = ("auto", "cpu", "cuda")

_BODIES: dict[str, types.FunctionType] = {}


def body(fn):
    """Register ``fn`` as a kernel body (compiled later, per target)."""
    _BODIES[fn.__name__] = fn
    return fn


def _load_bodies():
    for mod in BODY_MODULES:
        importlib.import_module(f".{mod}", __package__)


@functools.cache
def _primitives(target: str) -> dict:
    mod = importlib.import_module("._primitives" if target == "cpu" else "._primitives_cuda", __package__)
    return {name: _device_jit(getattr(mod, name), target) for name in mod.__all__}


def _device_jit(fn, target):
    if target == "cpu":
        import numba

        # Inlined into the caller at numba's level, which lets the parallel
        # loop see through the call (measured: diffuse 1.8x, splat 1.7x
        # faster than LLVM's own inlining decisions), except where that only
        # multiplies compile time (see CPU_CALLED in _declarations.py).
        inline = "never" if fn.__name__ in CPU_CALLED else "always"
        return numba.njit(**CPU_OPTIONS, inline=inline)(fn)
    from numba import cuda

    return cuda.jit(device=True)(fn)


def _rebound(fn: types.FunctionType, target: str) -> types.FunctionType:
    """A copy of ``fn`` whose body/primitive globals point at ``target`` versions."""
    g = dict(fn.__globals__)
    prims = _primitives(target)
    for name in fn.__code__.co_names:
        if name in _BODIES and _BODIES[name] is not fn:
            g[name] = device_function(name, target)
        elif name in prims:
            g[name] = prims[name]
    new = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__qualname__ = fn.__qualname__
    new.__doc__ = fn.__doc__
    return new


@functools.cache
def device_function(name: str, target: str):
    """The body ``name`` compiled as a callee for ``target`` (compiled when first called)."""
    _load_bodies()
    return _device_jit(_rebound(_BODIES[name], target), target)


def _launch_module(target: str):
    """The generated module of ``target``'s launchers."""
    return importlib.import_module("._launch_cpu" if target == "cpu" else "._launch_cuda", __package__)


def launcher_function(name: str, target: str):
    """The plain Python launcher of kernel ``name`` for ``target`` (for PTX builds)."""
    if name not in KERNELS:
        raise KeyError(f"unknown kernel {name!r}; declared: {', '.join(KERNELS)}")
    return getattr(_launch_module(target), f"{name}_{target}")


# --- compilation with the on-disk cache -------------------------------------

_WARNED: set[str] = set()


def _warn_once(key: str, message: str):
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def _launchers_fresh(target: str) -> bool:
    """Whether the generated launcher file carries the digest of today's bodies."""
    from ._generate import bodies_digest

    if _launch_module(target).BODIES_SHA256 == bodies_digest(target):
        return True
    _warn_once(
        f"stale-{target}",
        f"hybridinpaint: the {target} kernel launchers are older than the kernel bodies, so compiled kernels "
        "are not cached (a cache could hold the old code); run `python -m hybridinpaint.kernels._generate`",
    )
    return False


def _enable_cache(disp, target: str) -> bool:
    try:
        disp.enable_caching()
    except RuntimeError as exc:  # numba found no writable cache folder
        _warn_once(
            "no-cache",
            f"hybridinpaint: kernels are compiled in memory on every run, as no cache folder is writable ({exc}); "
            "set NUMBA_CACHE_DIR to a writable folder to keep them",
        )
        return False
    return True


def _discard_cache(disp, fn):
    """Delete the cache files of launcher ``fn`` (index and data) from ``disp``'s cache folder."""
    base = f"{os.path.splitext(os.path.basename(fn.__code__.co_filename))[0]}.{fn.__qualname__}-"
    folder = disp.stats.cache_path
    for path in glob.glob(os.path.join(glob.escape(folder), glob.escape(base) + "*")):
        try:
            os.unlink(path)
        except OSError:
            pass


def _compile(make, fn, sig, target: str, use_cache: bool):
    """Compile ``make(fn)`` for ``sig``, loading from / saving to the cache when allowed.

    A cache that cannot be read is deleted and the launcher compiled afresh
    (and cached again); compile errors of the code itself propagate.
    """
    from numba.core.errors import NumbaError

    disp = make(fn)
    cached = use_cache and _enable_cache(disp, target)
    try:
        disp.compile(sig)
    except NumbaError:
        raise
    except Exception as exc:  # unpickling a damaged index or data file
        if not cached:
            raise
        _warn_once(
            f"corrupt-{fn.__qualname__}",
            f"hybridinpaint: the cached {fn.__qualname__} in {disp.stats.cache_path} could not be read "
            f"({type(exc).__name__}: {exc}); it is deleted and compiled again",
        )
        _discard_cache(disp, fn)
        disp = make(fn)
        _enable_cache(disp, target)
        disp.compile(sig)
    # Declared signatures only: a call with other types fails instead of compiling.
    disp.disable_compile()
    return disp


@functools.cache
def launcher(name: str, target: str):
    """The compiled launcher of kernel ``name`` for ``target`` (``"cpu"`` or ``"cuda"``).

    Loaded from the on-disk cache when it holds this launcher for this numba
    version and CPU (or GPU), else compiled and saved there.
    """
    fn = launcher_function(name, target)
    kernel = KERNELS[name]
    if target == "cpu":
        import numba

        make = functools.partial(numba.njit, **CPU_OPTIONS, parallel=True)
        return _compile(make, fn, cpu_signature(kernel), "cpu", _launchers_fresh("cpu"))
    from numba import cuda

    if cuda_simulated():
        return cuda.jit(fn)  # the simulator runs the Python function; nothing to compile or cache
    return _compile(cuda.jit, fn, cuda_signature(kernel), "cuda", _launchers_fresh("cuda"))


def cache_dir(target: str = "cpu") -> str | None:
    """The folder numba caches this package's ``target`` kernels in; None where none is writable.

    ``NUMBA_CACHE_DIR`` when set, else ``__pycache__`` beside the kernels'
    source when writable (an editable checkout, a user's virtual
    environment), else the user's cache folder (a read-only install).

    Examples
    --------
    >>> from hybridinpaint.kernels import cache_dir
    >>> isinstance(cache_dir(), str)
    True
    """
    if target == "cuda":
        from numba import cuda

        make = functools.partial(cuda.jit, cache=True)
    else:
        import numba

        make = functools.partial(numba.njit, cache=True)
    try:
        return make(launcher_function("normalise_px", target)).stats.cache_path
    except RuntimeError:
        return None


def warm_up(backend="cpu", *, names=None, progress=False) -> list[dict]:
    """Compile (or load from the cache) the kernels, so later calls start at once.

    Parameters
    ----------
    backend : {"cpu", "cuda", "auto"}
        Which launchers; ``"cuda"`` needs a usable device.
    names : iterable of str, optional, keyword-only
        Kernels to build (default: all declared).
    progress : bool, keyword-only
        Show a progress bar on stderr, but only once something is actually
        compiled (a run that loads everything from the cache stays silent).

    Returns
    -------
    list of dict
        Per kernel: ``name``, ``seconds``, ``cached`` (loaded from the
        cache rather than compiled).

    Examples
    --------
    >>> from hybridinpaint.kernels import warm_up
    >>> [k["name"] for k in warm_up(names=["normalise_px"])]
    ['normalise_px']
    """
    from numba.core import event

    target = resolve_backend(backend)
    todo = list(KERNELS) if names is None else list(names)
    for n in todo:
        if n not in KERNELS:
            raise ValueError(f"names: unknown kernel {n!r}; declared: {', '.join(KERNELS)}")
    state = {"bar": None, "done": 0}

    class _Notice(event.Listener):
        # numba announces a compile (never a cache hit) with this event.
        def on_start(self, ev):
            if progress and state["bar"] is None:
                from tqdm.auto import tqdm

                state["bar"] = tqdm(
                    total=len(todo), initial=state["done"], desc="compiling kernels (first run only)", unit="kernel"
                )

        def on_end(self, ev):
            pass

    report = []
    with event.install_listener("numba:compile", _Notice()):
        for n in todo:
            t0 = time.perf_counter()
            disp = launcher(n, target)
            stats = getattr(disp, "stats", None)
            report.append(
                {
                    "name": n,
                    "seconds": round(time.perf_counter() - t0, 3),
                    "cached": bool(stats and sum(stats.cache_hits.values())),
                }
            )
            state["done"] += 1
            if state["bar"] is not None:
                state["bar"].update(1)
    if state["bar"] is not None:
        state["bar"].close()
    return report


# --- launching ----------------------------------------------------------------


def _check_arg(kernel, a, v):
    """``v`` for declared argument ``a`` of ``kernel``: a scalar converted, an array checked."""
    want = a.np_dtype
    if a.ndim == 0:
        return want.type(v)
    is_contig = getattr(v, "is_c_contiguous", None)  # device arrays
    contiguous = is_contig() if callable(is_contig) else bool(getattr(getattr(v, "flags", None), "c_contiguous", 0))
    if getattr(v, "dtype", None) != want or getattr(v, "ndim", None) != a.ndim or not contiguous:
        raise TypeError(
            f"kernel {kernel.name}: argument {a.name} must be a C-contiguous {a.ndim}-D {want} array, "
            f"got {type(v).__name__} of dtype {getattr(v, 'dtype', None)} and ndim {getattr(v, 'ndim', None)}"
        )
    if a.written and isinstance(v, np.ndarray) and not v.flags.writeable:
        raise TypeError(f"kernel {kernel.name}: argument {a.name} is written, so it must be a writable array")
    return v


def _checked(kernel, decl, args):
    if len(args) != len(decl):
        raise TypeError(f"kernel {kernel.name} takes {len(decl)} arguments after the sizes, got {len(args)}")
    return [_check_arg(kernel, a, v) for a, v in zip(decl, args)]


def run_cpu(name: str, sizes: tuple[int, ...], *args, band: int = 0):
    """Run kernel ``name`` over ``sizes`` on the CPU, arguments checked against its declaration.

    Scatter kernels (declared ``cpu="bands"``) also take ``band``, the rows
    of one band. Red-black kernels take ``sizes=()`` and ``(ys_red, xs_red,
    ys_black, xs_black, *shared, delta_red, delta_black, tol, sweeps)``, and
    return the last sweep's largest change.
    """
    kernel = KERNELS[name]
    if kernel.cpu == "redblack":
        (ys, xs), shared, delta = redblack_parts(kernel)
        decl = (ys, xs, ys, xs, *shared, delta, delta, Arg("tol", "f32"), Arg("sweeps", "i64"))
        checked = _checked(kernel, decl, args)
        with _CPU_KERNELS:
            return launcher(name, "cpu")(*checked)
    if len(sizes) != kernel.ndim:
        raise TypeError(f"kernel {name} runs over {kernel.ndim}-D sizes, got {sizes!r}")
    checked = _checked(kernel, kernel.args, args)
    sizes = tuple(np.int64(s) for s in sizes)
    if kernel.cpu == "bands":
        sizes += (np.int64(max(1, int(band))),)
    with _CPU_KERNELS:
        return launcher(name, "cpu")(*sizes, *checked)


# One parallel CPU kernel at a time in a process: each uses every core, and
# numba's "workqueue" threading layer (where neither TBB nor OpenMP is found)
# aborts the process when two threads launch at once. A chunked run prepares
# the next chunk in a second thread (runs.stream) while this one fills.
_CPU_KERNELS = threading.Lock()


def cuda_threads(ndim: int):
    """Threads per block: ``HYBRIDINPAINT_CUDA_THREADS`` (e.g. ``"4"``) or defaults."""
    env = os.environ.get("HYBRIDINPAINT_CUDA_THREADS")
    if env:
        t = int(env)
        return (t,) if ndim == 1 else (t, t)
    return (256,) if ndim == 1 else (16, 16)


def launch_cuda(name: str, sizes: tuple[int, ...], *args):
    """Launch kernel ``name`` on the GPU over ``sizes`` with device-array ``args``."""
    kernel = KERNELS[name]
    ndim = len(sizes)
    if ndim != kernel.ndim:
        raise TypeError(f"kernel {name} runs over {kernel.ndim}-D sizes, got {sizes!r}")
    checked = _checked(kernel, kernel.args, args)
    kern = launcher(name, "cuda")
    threads = cuda_threads(ndim)
    if ndim == 1:
        blocks = (max(1, -(-sizes[0] // threads[0])),)
    else:
        # grid x follows the last axis (columns), grid y the first (rows)
        blocks = (max(1, -(-sizes[1] // threads[0])), max(1, -(-sizes[0] // threads[1])))
    kern[blocks, threads](*(np.int64(s) for s in sizes), *checked)


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
    """True when Numba's CUDA simulator is switched on (``NUMBA_ENABLE_CUDASIM=1``)."""
    try:
        from numba import config

        return bool(getattr(config, "ENABLE_CUDASIM", 0))
    except Exception:  # pragma: no cover
        return False


def auto_backend() -> tuple[str, str]:
    """What ``backend="auto"`` runs, and why: ``(target, reason)``.

    The rule is measured, not the presence of a device: on an H200 machine with 16 cores,
    whole ``inpaint`` runs were 1.7-2.9x slower with ``"cuda"`` than with ``"cpu"`` at
    432x240 to 1080p (benchmarks/RESULTS.md, "CUDA"), because every stage copies its arrays
    to the device and back. The fill now keeps its arrays on the device (RESULTS.md, "The fill
    kept on the device"), but that is not yet timed on a device; until it measures faster,
    ``"auto"`` is the CPU; ``backend="cuda"`` runs every kernel on the device.

    Examples
    --------
    >>> from hybridinpaint.kernels import auto_backend
    >>> auto_backend()[0]
    'cpu'
    """
    device = "a CUDA device is usable" if cuda_usable() else "no CUDA device is usable"
    return "cpu", (
        f"{device}; whole runs measured 1.7-2.9x faster on the CPU than with backend='cuda' "
        "(benchmarks/RESULTS.md, CUDA; the device-resident fill since is not yet timed), so 'auto' runs on the CPU"
    )


def resolve_backend(backend) -> str:
    """Map ``"auto" | "cpu" | "cuda"`` to the target that will run (``"auto"``: :func:`auto_backend`).

    Examples
    --------
    >>> from hybridinpaint.kernels import resolve_backend
    >>> resolve_backend("cpu")
    'cpu'
    """
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS!r}, got {backend!r}")
    if backend == "auto":
        return auto_backend()[0]
    if backend == "cuda" and not (cuda_usable() or cuda_simulated()):
        raise RuntimeError(
            "backend='cuda' was requested but no usable CUDA device was found "
            "(install the 'cuda' extra: pip install 'hybridinpaint[cuda]', and check "
            "the driver with `hybridinpaint doctor`); use backend='cpu' or 'auto'"
        )
    return backend
