"""Validation and normalisation of frames and masks (DESIGN.md, data contracts).

One float-promotion rule: frames are worked on as float32 in [0, 1]
(uint8 / 255, uint16 / 65535, floats as they are) and cast back to the
input dtype at the end, rounding and clipping for integers.
"""

from __future__ import annotations

import numpy as np

from hybridinpaint.kernels.checks import describe

_INT_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def frames_float(frames) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(original, work)``: the caller's array and a float32 ``(T, H, W, C)`` copy; and whether it was grey.

    Accepts ``(T, H, W, C)`` or ``(T, H, W)``; uint8, uint16, float32/64 in [0, 1].
    """
    if not isinstance(frames, np.ndarray):
        try:
            frames = np.asarray(frames)
        except Exception as exc:
            raise ValueError(f"frames must be an array, got {describe(frames)}") from exc
    if frames.ndim not in (3, 4):
        raise ValueError(f"frames must be (T, H, W, C) or (T, H, W), got {describe(frames)}")
    if frames.shape[0] == 0:
        raise ValueError(f"frames must hold at least one frame (T >= 1), got {describe(frames)}")
    if frames.shape[1] < 2 or frames.shape[2] < 2:
        raise ValueError(f"frames must be at least 2x2 pixels, got {describe(frames)}")
    if frames.ndim == 4 and frames.shape[3] not in (1, 2, 3, 4):
        raise ValueError(f"frames must have 1 to 4 channels in the last axis, got {describe(frames)}")
    dt = frames.dtype
    if dt in _INT_SCALE:
        work = frames.astype(np.float32)
        work *= np.float32(1.0 / _INT_SCALE[dt])  # in place: a video-sized temporary less, the same bits
    elif dt in (np.dtype(np.float32), np.dtype(np.float64)):
        work = frames.astype(np.float32)
        if not np.isfinite(work).all():
            raise ValueError("frames contains NaN or infinite values")
        lo, hi = float(work.min()), float(work.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(f"float frames must lie in [0, 1], got values in [{lo:g}, {hi:g}]")
    else:
        raise ValueError(f"frames must be uint8, uint16, float32 or float64, got dtype {dt}")
    grey = frames.ndim == 3
    if grey:
        # A reshape, not work[..., None]: that axis would have stride 0, which a copy to the device refuses.
        work = np.ascontiguousarray(work).reshape(work.shape + (1,))
    return frames, np.ascontiguousarray(work), grey


def masks_bool(masks, shape_thw: tuple[int, int, int]) -> np.ndarray:
    """Masks as bool ``(T, H, W)``; accepts ``(T, H, W)`` or ``(H, W)``, bool, 0/1 or 0/255."""
    t, h, w = shape_thw
    if not isinstance(masks, np.ndarray):
        try:
            masks = np.asarray(masks)
        except Exception as exc:
            raise ValueError(f"masks must be an array, got {describe(masks)}") from exc
    if masks.shape == (h, w):
        masks = np.broadcast_to(masks, (t, h, w))
    if masks.shape != (t, h, w):
        raise ValueError(f"masks must have shape (T, H, W) = {(t, h, w)} or (H, W) = {(h, w)}, got {describe(masks)}")
    if masks.dtype == bool:
        return np.ascontiguousarray(masks)
    if not (np.issubdtype(masks.dtype, np.integer) or np.issubdtype(masks.dtype, np.floating)):
        raise ValueError(f"masks must be bool, 0/1 or 0/255, got dtype {masks.dtype}")
    vals = np.unique(masks)
    if np.isin(vals, (0, 1)).all() or np.isin(vals, (0, 255)).all():
        return np.ascontiguousarray(masks != 0)
    raise ValueError(f"masks must be bool, 0/1 or 0/255, got values {vals[:6].tolist()}")


def rgb8(image) -> np.ndarray:
    """An 8-bit RGB view of one image, for a display or a detector: ``(H, W, 3)`` uint8.

    Grey ``(H, W)`` or ``(H, W, 1)`` is repeated into three channels, a
    fourth (alpha) channel dropped; uint16 keeps its high byte, floats in
    [0, 1] are rounded.
    """
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f"image must be (H, W, 3) RGB or (H, W) grey, got {describe(img)}")
    img = img[:, :, :3]
    if img.dtype == np.uint8:
        return np.ascontiguousarray(img)
    if img.dtype == np.uint16:
        return (img >> 8).astype(np.uint8)
    if img.dtype in (np.float32, np.float64):
        return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
    raise ValueError(f"image must be uint8, uint16 or float in [0, 1], got dtype {img.dtype}")


def to_dtype(work: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float32 [0, 1] values back to ``dtype`` (rounded and clipped for integers)."""
    if dtype in _INT_SCALE:
        scale = _INT_SCALE[dtype]
        return np.clip(np.rint(work * scale), 0, scale).astype(dtype)
    return np.clip(work, 0.0, 1.0).astype(dtype)


def composite(original: np.ndarray, work: np.ndarray, mask: np.ndarray, grey: bool) -> np.ndarray:
    """A copy of ``original`` with ``work``'s values (float32 ``(T, H, W, C)``) where ``mask`` is True.

    ``grey``: ``original`` is ``(T, H, W)``. Only the masked pixels are
    converted back, so every other pixel stays bit-identical.
    """
    return composite_values(original, work[mask], mask, grey)


def composite_values(original: np.ndarray, values: np.ndarray, mask: np.ndarray, grey: bool) -> np.ndarray:
    """A copy of ``original`` with ``values`` (float32 ``(N, C)``, ``mask``'s pixels in C order) where ``mask`` is."""
    out = original.copy()
    fill = to_dtype(values, original.dtype)
    out[mask] = fill[..., 0] if grey else fill
    return out
