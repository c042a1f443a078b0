"""hybridinpaint: explainable video inpainting on the CPU and NVIDIA GPUs.

Importing the package is cheap: it loads neither torch nor numba's
compiler. Submodules load on first use.
"""

import importlib

try:
    from importlib.metadata import PackageNotFoundError, version

    __version__ = version("hybridinpaint")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

# Public subpackages and modules, by layer (ARCHITECTURE.md), loaded on first use.
_SUBMODULES = {
    "settings",
    "kernels",
    "completion",
    "film",
    "privacy",
    "tracking",
    "live",
    "metrics",
    "visualize",
    "runs",
    "interfaces",
}
_FUNCTIONS = {
    "Settings": ".settings",
    "inpaint": ".completion.pipeline",
    "InpaintResult": ".completion.pipeline",
    "Provenance": ".completion.pipeline",
    "restore": ".film.repair",
    "revert": ".film.repair",
    "track_mask": ".tracking.tracker",
    "inpaint_stream": ".live",
    "anonymize": ".privacy.anonymizer",
    "inpaint_file": ".runs.stream",
    "inpaint_chunks": ".runs.stream",
    "anonymize_file": ".runs.anonymize",
    "remove_file": ".runs.remove",
    "restore_dir": ".runs.restore",
}

__all__ = [
    "inpaint",
    "inpaint_file",
    "inpaint_chunks",
    "restore",
    "revert",
    "restore_dir",
    "remove_file",
    "inpaint_stream",
    "track_mask",
    "anonymize",
    "anonymize_file",
    "InpaintResult",
    "Provenance",
    "Settings",
    "settings",
    "metrics",
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
