"""``hybridinpaint doctor``: what this installation can do."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

_PACKAGES = (
    "hybridinpaint",
    "numpy",
    "numba",
    "numba-cuda",
    "llvmlite",
    "scipy",
    "opencv-contrib-python-headless",
    "scikit-image",
    "torch",
)
PTX_TARGETS = ((8, 0), (9, 0))


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def report(out=None) -> int:
    """Print the report to ``out`` (default stdout); return the exit code."""
    out = out or sys.stdout

    def say(line=""):
        print(line, file=out, flush=True)

    say(f"python  {platform.python_version()} ({platform.platform()})")
    for dist in _PACKAGES:
        say(f"{dist:32s}{_version(dist)}")  # versions from metadata: no torch import
    import numba

    say(f"numba threads: {numba.get_num_threads()} (NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS})")
    from hybridinpaint.kernels._accelerate import cuda_simulated, cuda_usable

    if cuda_simulated():
        say("CUDA device: simulator (NUMBA_ENABLE_CUDASIM=1)")
    elif cuda_usable():
        from numba import cuda

        dev = cuda.get_current_device()
        say(
            f"CUDA device: usable: {dev.name.decode() if isinstance(dev.name, bytes) else dev.name}, "
            f"compute capability {dev.compute_capability}"
        )
    else:
        say("CUDA device: none usable (kernels run on the CPU)")

    failures = 0
    try:
        from hybridinpaint.kernels import _registry

        names = list(_registry.kernels())
    except Exception as exc:  # noqa: BLE001 - report, don't crash
        say(f"PTX: cannot list kernels: {type(exc).__name__}: {exc}")
        return 1
    for name in names:
        for cc in PTX_TARGETS:
            label = f"PTX sm_{cc[0]}{cc[1]} {name}"
            try:
                ptx = _registry.compile_ptx(name, cc)
                say(f"{label:40s}OK ({len(ptx.splitlines())} lines)")
            except Exception as exc:  # noqa: BLE001
                failures += 1
                msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                say(f"{label:40s}ERROR {type(exc).__name__}: {msg}")
    say(f"{failures} kernel compilation(s) failed" if failures else "all kernels compile to PTX")
    return 1 if failures else 0
