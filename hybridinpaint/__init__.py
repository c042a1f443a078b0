"""hybridinpaint: explainable video inpainting on the CPU and NVIDIA GPUs.

Importing the package is cheap: it loads neither torch nor numba's
compiler. Submodules load on first use.
"""

import importlib
import os

# Installed, kernels/ lives inside this package (pyproject maps it to
# hybridinpaint.kernels). In a source checkout put first on sys.path (by
# ``python -m`` or ``python -c`` run from its root) it sits beside it: look
# there too, so the checkout imports the same way.
_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if not os.path.isdir(os.path.join(__path__[0], "kernels")) and os.path.isfile(
    os.path.join(_root, "kernels", "_accelerate.py")
):
    __path__.append(_root)
del _root

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("hybridinpaint")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

_SUBMODULES = {
    "kernels",
    "cli",
    "doctor",
    "demo",
    "flow",
    "propagate",
    "pipeline",
    "visualize",
    "hallucinate",
    "net",
    "train",
    "film",
    "flicker",
    "fixes",
    "io",
    "media",
    "stream",
    "blotches",
    "metrics",
    "tracking",
    "live",
    "evaluate",
    "faces",
    "privacy",
    "config",
}
_FUNCTIONS = {
    "inpaint": ".pipeline",
    "InpaintResult": ".pipeline",
    "Provenance": ".pipeline",
    "inpaint_file": ".stream",
    "inpaint_chunks": ".stream",
    "track_mask": ".tracking",
    "inpaint_stream": ".live",
    "anonymize": ".privacy",
    "anonymize_file": ".privacy",
}

__all__ = [
    "inpaint",
    "inpaint_file",
    "inpaint_chunks",
    "inpaint_stream",
    "track_mask",
    "anonymize",
    "anonymize_file",
    "InpaintResult",
    "Provenance",
    "kernels",
    "visualize",
    "__version__",
]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(_FUNCTIONS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
