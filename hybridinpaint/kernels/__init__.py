"""hybridinpaint.kernels: the hot loops, one body each, compiled for CPU and CUDA.

Every public function takes and returns numpy arrays, never modifies its
inputs, and takes ``backend="auto" | "cpu" | "cuda"``; the exceptions are
the fill's stages that take a :class:`Placement` (``*_into``, which write
into the arrays they name, and ``unfilled_per_frame``, ``gather_holes``),
which run on arrays it holds (host or device memory), and
:func:`propagate_holes`, which with ``"cuda"`` also takes device arrays and
then returns device arrays, so a run on the device keeps its arrays there from
stage to stage. Nothing is compiled
until a kernel is first called on a target; compiled kernels are cached on
disk (see :func:`cache_dir`), so later processes load them in a moment.
:func:`warm_up` compiles them all at once, ahead of time.
"""

import importlib

__all__ = [
    "diffuse",
    "warp_backward",
    "warp_backward_frames",
    "warp_forward",
    "patchmatch",
    "vote",
    "propagate_sources",
    "propagate_holes",
    "HoleList",
    "sample_known",
    "combine_sources_into",
    "seam_mismatch_into",
    "seam_correct_into",
    "key_frame_into",
    "sweep_start_into",
    "unfilled_per_frame",
    "gather_holes",
    "Placement",
    "on_device",
    "available_backends",
    "cuda_usable",
    "cuda_simulated",
    "resolve_backend",
    "auto_backend",
    "warm_up",
    "cache_dir",
]

_WHERE = {
    "diffuse": ".diffusion",
    "warp_backward": ".warping",
    "warp_backward_frames": ".warping",
    "warp_forward": ".warping",
    "patchmatch": ".patches",
    "vote": ".patches",
    "propagate_sources": ".propagation",
    "propagate_holes": ".propagation",
    "HoleList": ".propagation",
    "sample_known": ".propagation",
    "combine_sources_into": ".propagation",
    "seam_mismatch_into": ".propagation",
    "seam_correct_into": ".propagation",
    "key_frame_into": ".propagation",
    "sweep_start_into": ".propagation",
    "unfilled_per_frame": ".propagation",
    "gather_holes": ".propagation",
    "Placement": ".placement",
    "on_device": ".placement",
    "available_backends": "._backends",
    "cuda_usable": "._accelerate",
    "cuda_simulated": "._accelerate",
    "resolve_backend": "._accelerate",
    "auto_backend": "._accelerate",
    "warm_up": "._accelerate",
    "cache_dir": "._accelerate",
}


_MODULES = {"checks", "ptx"}


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _WHERE:
        mod = importlib.import_module(_WHERE[name], __name__)
        return getattr(mod, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
