"""hybridinpaint.kernels: the hot loops, one body each, compiled for CPU and CUDA.

Every public function takes and returns numpy arrays, never modifies its
inputs, and takes ``backend="auto" | "cpu" | "cuda"``. Nothing is compiled
until a kernel is first called on a target.
"""

import importlib

__all__ = [
    "diffuse",
    "warp_backward",
    "warp_forward",
    "patchmatch",
    "vote",
    "propagate_sources",
    "sample_known",
    "available_backends",
]

_WHERE = {
    "diffuse": ".diffusion",
    "warp_backward": ".warping",
    "warp_forward": ".warping",
    "patchmatch": ".patches",
    "vote": ".patches",
    "propagate_sources": ".propagation",
    "sample_known": ".propagation",
    "available_backends": "._backends",
}


def __getattr__(name):
    if name in _WHERE:
        mod = importlib.import_module(_WHERE[name], __name__)
        return getattr(mod, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
