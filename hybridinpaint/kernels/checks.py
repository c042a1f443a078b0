"""Argument checks shared by the kernel wrappers and the layers above them.

Every check names the argument and says what was expected. Converted
arrays are fresh copies or the caller's own array unchanged, so callers'
arrays are never written.
"""

from __future__ import annotations

import numpy as np

__all__ = ["describe", "real_float32", "bool_mask", "image_hwc", "flow_hw2", "positive_int"]


def describe(x) -> str:
    """A short description of ``x`` for error messages: shape and dtype of an array, else its type."""
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__}"


def _as_array(x, name: str) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} must be array-like, got {describe(x)}") from exc
    if arr.dtype == object:
        raise ValueError(f"{name} must be a numeric array, got {describe(x)}")
    return arr


def real_float32(x, name: str, *, ndim: tuple[int, ...], allow_nonfinite: bool = False) -> np.ndarray:
    """``x`` as a C-contiguous float32 array; rejects bool/complex/object, NaN, inf."""
    arr = _as_array(x, name)
    if arr.ndim not in ndim:
        want = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"{name} must be {want}, got {describe(arr)}")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must have a real integer or floating dtype, got {describe(arr)}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got {describe(arr)}")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if not allow_nonfinite and not np.isfinite(out).all():
        bad = "NaN" if np.isnan(out).any() else "infinite values"
        raise ValueError(f"{name} contains {bad}; all values must be finite")
    return out


def bool_mask(x, name: str, *, shape: tuple[int, ...]) -> np.ndarray:
    """``x`` as a C-contiguous bool array of ``shape``; accepts bool or 0/1 integers."""
    arr = _as_array(x, name)
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {describe(arr)}")
    if arr.dtype == bool:
        return np.ascontiguousarray(arr)
    if np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating):
        if not np.isin(arr, (0, 1)).all():
            raise ValueError(f"{name} must be boolean (or 0/1), got values other than 0 and 1")
        return np.ascontiguousarray(arr != 0)
    raise ValueError(f"{name} must be a boolean array, got {describe(arr)}")


def image_hwc(x, name: str) -> tuple[np.ndarray, bool]:
    """An image as float32 ``(H, W, C)``; also returns whether it came in as ``(H, W)``."""
    arr = real_float32(x, name, ndim=(2, 3))
    if arr.ndim == 2:
        return arr[:, :, None], True
    return arr, False


def flow_hw2(x, name: str, shape_hw: tuple[int, int]) -> np.ndarray:
    arr = real_float32(x, name, ndim=(3,))
    if arr.shape != (shape_hw[0], shape_hw[1], 2):
        raise ValueError(
            f"{name} must have shape (H, W, 2) = {(shape_hw[0], shape_hw[1], 2)} "
            f"matching the image, got {describe(arr)}"
        )
    return arr


def positive_int(x, name: str, *, minimum: int = 1) -> int:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    if x < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return int(x)
