"""The bundled network, run by OpenCV's dnn module: inference without torch.

The network (:mod:`hybridinpaint.completion.net`) is trained in PyTorch and
exported to ONNX beside its weights (:func:`hybridinpaint.completion.train.export`
writes ``NAME.pt``, ``NAME.onnx`` and ``NAME.json``, the last saying which
classical fill the network corrects). The package runs the ONNX file with
``cv2.dnn``, which the package has anyway, so ``hallucinate="net"`` needs no
torch, loads in 0.14 s instead of 1.6 s, and runs a 432x240 frame in 0.10 s
instead of PyTorch's 0.14 s on two cores (``benchmarks/RESULTS.md``, issue 28).
A ``.pt`` file given as ``weights`` still runs in PyTorch (imported then).
"""

from __future__ import annotations

import json
import threading
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

__all__ = ["refine", "first_fill", "default_model", "MODEL"]

MODEL = "refine_net.onnx"
_LOCAL = threading.local()  # a cv2.dnn.Net is not safe to run from two threads at once


def default_model() -> Path:
    """The ONNX file shipped inside the package."""
    return Path(str(resources.files("hybridinpaint") / "data" / MODEL))


def _path(weights) -> Path:
    try:
        return Path(weights)
    except TypeError:
        raise TypeError(f"weights must be a path to a .onnx or .pt file, got {type(weights).__name__}") from None


def _is_torch(weights) -> bool:
    if weights is None or _path(weights).suffix.lower() not in (".pt", ".pth"):
        return False
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ImportError(
            f"weights={str(weights)!r} is PyTorch weights, which need torch: pip install 'hybridinpaint[train]'"
        ) from None
    return True


def _model_path(weights) -> Path:
    p = default_model() if weights is None else _path(weights)
    if p.suffix.lower() != ".onnx":
        raise ValueError(f"weights must be a .onnx or .pt (.pth) file of the network, got {str(p)!r}")
    if not p.is_file():
        raise FileNotFoundError(f"network model not found: {p}")
    return p


def first_fill(weights=None) -> str:
    """The classical fill the network corrects: ``"fsr"`` or ``"telea"``."""
    if _is_torch(weights):
        from hybridinpaint.completion import net

        return net.load(weights).first
    meta = _model_path(weights).with_suffix(".json")
    try:
        first = json.loads(meta.read_text())["first"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        model = meta.with_suffix(".onnx")
        raise ValueError(f"network model {model} has no readable {meta.name} beside it: {exc}") from exc
    if first not in ("fsr", "telea"):
        raise ValueError(f"{meta}: first must be 'fsr' or 'telea', got {first!r}")
    return first


def _net(weights):
    p = _model_path(weights)
    key = str(p.resolve())
    cache = _LOCAL.__dict__.setdefault("nets", {})
    if key not in cache:
        try:
            cache[key] = cv2.dnn.readNetFromONNX(key)
        except cv2.error as exc:
            raise ValueError(
                f"network model {p} could not be read by OpenCV {cv2.__version__}'s dnn (it needs OpenCV 5): {exc}"
            ) from exc
    return cache[key]


def refine(image: np.ndarray, alt: np.ndarray, hole: np.ndarray, *, weights=None) -> np.ndarray:
    """The network's correction of the fill in ``hole`` of a float32 ``(H, W, 3)`` RGB image in [0, 1].

    ``alt`` is the same image filled by TELEA. A network that corrects TELEA
    (the shipped one) refines ``alt`` and ignores ``image``'s fill. Returns
    the image with only the hole changed.
    """
    if _is_torch(weights):
        from hybridinpaint.completion import net

        return net.refine(image, alt, hole, weights=weights)
    if first_fill(weights) == "telea":
        image = alt
    h, w = hole.shape
    # The network halves the size three times: pad to a multiple of 8.
    ph, pw = -h % 8, -w % 8
    mode = "reflect" if min(h, w) > 8 else "edge"

    def blob(a):
        a = np.pad(a, ((0, ph), (0, pw), (0, 0)), mode=mode)
        return np.ascontiguousarray(a.transpose(2, 0, 1), dtype=np.float32)[None]

    dnn = _net(weights)
    dnn.setInput(blob(image), "image")
    dnn.setInput(blob(alt), "alt")
    dnn.setInput(np.pad(hole, ((0, ph), (0, pw))).astype(np.float32)[None, None], "hole")
    y = dnn.forward()[0].transpose(1, 2, 0)[:h, :w]
    return np.where(hole[..., None], y, image).astype(np.float32)
