"""Pictures to trust a fill by: provenance maps and flow colour wheels.

All functions return RGB uint8 arrays.
"""

from __future__ import annotations

import cv2
import numpy as np

# Hue (OpenCV's 0-180 scale) per method code; originals are shown in grey.
_HUES = {1: 60, 2: 110, 3: 150, 4: 15}  # green, blue, magenta, orange
LEGEND = {
    0: "original (grey)",
    1: "propagated along flow (green)",
    2: "patch copy (blue)",
    3: "hallucinated by the network (magenta)",
    4: "spatial fallback (orange)",
}


def provenance(result, *, max_distance=None) -> np.ndarray:
    """Colour images of where each pixel came from.

    Method as hue (see :data:`LEGEND`), the temporal distance to the source
    frame as brightness (bright = near, dark = far); original pixels are the
    frame itself in dim grey, so the scene stays recognisable.

    Parameters
    ----------
    result : InpaintResult
        From ``hybridinpaint.inpaint(..., return_result=True)``.
    max_distance : int, optional, keyword-only
        Distance shown darkest; default the largest in the result.

    Returns
    -------
    ndarray of uint8, shape (T, H, W, 3)
        RGB images.

    Examples
    --------
    >>> import numpy as np, hybridinpaint
    >>> video = np.random.default_rng(0).random((3, 16, 16, 3)).astype(np.float32)
    >>> hole = np.zeros((3, 16, 16), bool); hole[:, 5:9, 5:9] = True
    >>> res = hybridinpaint.inpaint(video, hole, backend="cpu", return_result=True)
    >>> hybridinpaint.visualize.provenance(res).shape
    (3, 16, 16, 3)
    """
    prov = result.provenance
    method = prov.method
    t = method.shape[0]
    dist = np.abs(prov.source_frame - np.arange(t)[:, None, None]).astype(np.float32)
    far = float(max_distance) if max_distance else max(float(dist.max()), 1.0)
    hsv = np.zeros(method.shape + (3,), np.uint8)
    hue = np.zeros(method.shape, np.uint8)
    for code, h in _HUES.items():
        hue[method == code] = h
    filled = method > 0
    hsv[..., 0] = hue
    hsv[..., 1] = np.where(filled, 255, 0)
    bright = 255.0 * (1.0 - 0.75 * np.clip(dist / far, 0.0, 1.0))
    frames = np.asarray(result.frames)
    hsv[..., 2] = np.where(filled, bright.astype(np.uint8), dim_grey(frames, channel_last=frames.ndim == 4))
    return np.stack([cv2.cvtColor(f, cv2.COLOR_HSV2RGB) for f in hsv])


def dim_grey(frames, *, channel_last=None) -> np.ndarray:
    """How :func:`provenance` shows original pixels: the frame's grey, dimmed, as uint8.

    ``frames`` is one frame or a stack, ``(..., H, W, C)`` or ``(..., H, W)``
    grey, uint8/uint16 or float in [0, 1]; ``channel_last`` says whether the
    last axis holds channels (default: when it has 1 to 4 entries and the
    array has 3 or more axes).

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.visualize import dim_grey
    >>> dim_grey(np.full((1, 2, 3), 200, np.uint8))
    array([[90, 90]], dtype=uint8)
    """
    frames = np.asarray(frames)
    if channel_last is None:
        channel_last = frames.ndim >= 3 and frames.shape[-1] <= 4
    if not channel_last:
        frames = frames[..., None]
    scale = 255.0 / np.iinfo(frames.dtype).max if np.issubdtype(frames.dtype, np.integer) else 255.0
    grey = frames[..., :3].astype(np.float32).mean(axis=-1) * scale
    return (0.45 * grey).astype(np.uint8)


def flow(flow_field, *, max_magnitude=None) -> np.ndarray:
    """The usual flow colour wheel: direction as hue, magnitude as saturation.

    Parameters
    ----------
    flow_field : ndarray, shape (H, W, 2) or (N, H, W, 2)
        ``(dx, dy)`` per pixel.
    max_magnitude : float, optional, keyword-only
        Magnitude shown fully saturated; default the largest present.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3) or (N, H, W, 3)

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint import visualize
    >>> f = np.zeros((4, 4, 2), np.float32); f[..., 0] = 1.0   # everything moves right
    >>> visualize.flow(f)[0, 0].tolist()   # right is red
    [255, 0, 0]
    """
    f = np.asarray(flow_field, np.float32)
    if f.ndim == 4:
        top = max_magnitude or float(np.hypot(f[..., 0], f[..., 1]).max())
        return np.stack([flow(x, max_magnitude=top) for x in f])
    if f.ndim != 3 or f.shape[2] != 2:
        raise ValueError(f"flow_field must have shape (H, W, 2) or (N, H, W, 2), got {f.shape}")
    mag, ang = cv2.cartToPolar(f[..., 0], f[..., 1])
    top = float(max_magnitude) if max_magnitude else max(float(mag.max()), 1e-6)
    hsv = np.zeros(f.shape[:2] + (3,), np.uint8)
    hsv[..., 0] = (ang * 90.0 / np.pi).astype(np.uint8) % 180
    hsv[..., 1] = np.clip(mag / top * 255.0, 0, 255).astype(np.uint8)
    hsv[..., 2] = 255
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
