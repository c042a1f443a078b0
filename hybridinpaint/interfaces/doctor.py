"""``hybridinpaint doctor``: what this installation can do.

Plain ``doctor`` builds every CUDA kernel to PTX for sm_80 and sm_90 (no GPU
needed); ``doctor --compile`` instead compiles every kernel for this
machine and stores it in the kernel cache, so that an image build or a
cluster start pays the compilation once and every later process starts at
once.
"""

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


def report(out=None, *, compile=False) -> int:
    """Print the report to ``out`` (default stdout); return the exit code.

    With ``compile`` the kernels are compiled (or loaded) for this machine
    and cached, instead of the PTX builds.
    """
    out = out or sys.stdout

    def say(line=""):
        print(line, file=out, flush=True)

    say(f"python  {platform.python_version()} ({platform.platform()})")
    for dist in _PACKAGES:
        say(f"{dist:32s}{_version(dist)}")  # versions from metadata: no torch import
    import numba

    say(f"numba threads: {numba.get_num_threads()} (NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS})")
    from hybridinpaint.kernels import auto_backend, cuda_simulated, cuda_usable

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
    target, why = auto_backend()
    say(f"backend='auto' runs on: {target} ({why})")

    network_ok = _network(say)
    if compile:
        return _compile(say) or (0 if network_ok else 1)
    if _version("numba-cuda") == "not installed":
        # numba's own numba.cuda is deprecated and cannot build these kernels: no PTX to check.
        say("PTX: not built (numba-cuda, the 'cuda' extra, is not installed: pip install 'hybridinpaint[cuda]')")
        return 0 if network_ok else 1
    failures = 0
    try:
        from hybridinpaint.kernels import ptx

        names = list(ptx.kernels())
    except Exception as exc:  # noqa: BLE001 - report, don't crash
        say(f"PTX: cannot list kernels: {type(exc).__name__}: {exc}")
        return 1
    for name in names:
        for cc in PTX_TARGETS:
            label = f"PTX sm_{cc[0]}{cc[1]} {name}"
            try:
                text = ptx.compile_ptx(name, cc)
                say(f"{label:40s}OK ({len(text.splitlines())} lines)")
            except Exception as exc:  # noqa: BLE001
                failures += 1
                msg = _first_line(exc)
                say(f"{label:40s}ERROR {type(exc).__name__}: {msg}")
    say(f"{failures} kernel compilation(s) failed" if failures else "all kernels compile to PTX")
    return 1 if failures or not network_ok else 0


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


def _network(say) -> bool:
    """Whether OpenCV's dnn reads and runs the bundled network (``hallucinate="net"``)."""
    import cv2
    import numpy as np

    try:
        from hybridinpaint.completion import refiner

        hole = np.zeros((16, 16), bool)
        hole[4:12, 4:12] = True
        refiner.refine(np.full((16, 16, 3), 0.5, np.float32), np.full((16, 16, 3), 0.5, np.float32), hole)
    except Exception as exc:  # noqa: BLE001 - report, don't crash
        say(f"network (hallucinate='net'): ERROR {type(exc).__name__}: {_first_line(exc)}")
        return False
    say(f"network (hallucinate='net'): {refiner.default_model().name} runs with OpenCV {cv2.__version__}'s dnn")
    return True


def _compile(say) -> int:
    from hybridinpaint.kernels import available_backends, cache_dir, cuda_simulated, warm_up

    targets = [b for b in available_backends() if not (b == "cuda" and cuda_simulated())]
    failures = 0
    for target in targets:
        say(f"kernel cache ({target}): {cache_dir(target) or 'none writable: kernels compile on every run'}")
        try:
            rows = warm_up(target, progress=False)
        except Exception as exc:  # noqa: BLE001 - report, don't crash
            failures += 1
            say(f"compile {target}: ERROR {type(exc).__name__}: {_first_line(exc)}")
            continue
        for row in rows:
            how = "loaded from cache" if row["cached"] else "compiled and cached"
            say(f"{target} {row['name']:32s}{how} ({row['seconds']:.2f} s)")
        say(f"{target}: {len(rows)} kernels ready in {sum(r['seconds'] for r in rows):.1f} s")
    return 1 if failures else 0
