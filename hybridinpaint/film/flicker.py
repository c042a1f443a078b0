"""Flicker: frame-to-frame brightness and contrast changes of a film scan, estimated and corrected.

Flicker in old film comes from exposure and development that vary from frame
to frame, often unevenly over the frame. The correction here is a gain and an
offset per frame, the gain varying smoothly over the frame: ``corrected =
gain * scan + offset``. Both are estimated on a coarse grid of blocks against
a temporal reference (the median of each block's brightness over the
neighbouring frames), so that slow changes of the scene (a pan, a cloud) are
kept and only the frame-to-frame jitter is removed; blocks whose brightness
moved far from the reference (something moved in or out) get little weight.

References
----------
.. [1] P. M. B. van Roosmalen, R. L. Lagendijk, J. Biemond, "Correction of
   intensity flicker in old film sequences", IEEE Trans. Circuits and
   Systems for Video Technology 9(7), 1999.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hybridinpaint.completion import arrays as _arrays
from hybridinpaint.kernels.checks import positive_int
from hybridinpaint.settings import resolve

__all__ = ["Flicker", "estimate", "apply", "deflicker"]


@dataclass
class Flicker:
    """Per-frame correction fields on a block grid: ``corrected = gain * frame + offset`` (in [0, 1])."""

    gain: np.ndarray  # (T, by, bx) float32
    offset: np.ndarray  # (T, by, bx) float32

    def fields(self, k: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
        """Frame ``k``'s gain and offset at full size ``(h, w)`` (bilinear between block centres)."""
        size = (w, h)
        return (
            cv2.resize(self.gain[k], size, interpolation=cv2.INTER_LINEAR),
            cv2.resize(self.offset[k], size, interpolation=cv2.INTER_LINEAR),
        )

    def strength(self) -> np.ndarray:
        """Per frame, the mean change the correction makes to a mid-grey pixel (in [0, 1] units), ``(T,)``."""
        return np.abs(self.gain * 0.5 + self.offset - 0.5).mean(axis=(1, 2))


def _fit(cur, ref, wgt, *, settings):
    """Weighted least squares ``ref ~ a * cur + b`` over the blocks; ``a = 1`` where the blocks barely differ."""
    cfg = settings.flicker
    sw = wgt.sum()
    mc, mr = (wgt * cur).sum() / sw, (wgt * ref).sum() / sw
    var = (wgt * (cur - mc) ** 2).sum() / sw
    if var < cfg.MIN_SPREAD**2:
        return 1.0, float(mr - mc)
    # Ridge towards a = 1: telling a contrast change from a brightness change
    # needs blocks of clearly different brightness; with few, gain and offset
    # would trade off against each other and bend a clip that has no flicker.
    cov = (wgt * (cur - mc) * (ref - mr)).sum() / sw
    a = float(np.clip((cov + cfg.RIDGE**2) / (var + cfg.RIDGE**2), *cfg.GAIN_RANGE))
    return a, float(mr - a * mc)


def estimate(frames, *, window=None, blocks=None, rounds=None, settings=None) -> Flicker:
    """Estimate each frame's flicker against the median of its ``window`` neighbours on each side.

    Each round fits, per frame, a gain and an offset that map the frame's
    block brightnesses onto those of its temporal reference (weighted least
    squares over the blocks, so that contrast flicker is told from
    brightness flicker), then a smooth gain field for what varies over the
    frame.

    Parameters
    ----------
    frames : ndarray, shape (T, H, W) or (T, H, W, C)
        uint8, uint16 or float in [0, 1].
    window : int, keyword-only
        Frames on each side in the temporal reference (default
        ``config.flicker.WINDOW``, 4).
    blocks : int, keyword-only
        Blocks across the longer side of the frame (``config.flicker.BLOCKS``, 8).
    rounds : int, keyword-only
        Rounds of estimation (``config.flicker.ROUNDS``, 3; why there).

    Returns
    -------
    Flicker
    """
    settings = resolve(settings)
    cfg = settings.flicker
    _, work, _ = _arrays.frames_float(frames)
    window = cfg.WINDOW if window is None else window
    blocks = cfg.BLOCKS if blocks is None else blocks
    rounds = cfg.ROUNDS if rounds is None else rounds
    window, blocks, rounds = (
        positive_int(v, n) for v, n in ((window, "window"), (blocks, "blocks"), (rounds, "rounds"))
    )
    t, h, w, _ = work.shape
    scale = blocks / max(h, w)
    by, bx = max(1, round(h * scale)), max(1, round(w * scale))
    means = np.stack([cv2.resize(f.mean(axis=2), (bx, by), interpolation=cv2.INTER_AREA) for f in work])
    means = means.reshape(t, by, bx).astype(np.float32)
    # Clipped pixels (blown highlights, crushed blacks) no longer follow the
    # flicker: a block counts by its share of unclipped pixels.
    inside = ((work > cfg.CLIP) & (work < 1 - cfg.CLIP)).all(axis=3).astype(np.float32)
    unclipped = np.stack([cv2.resize(f, (bx, by), interpolation=cv2.INTER_AREA) for f in inside]).reshape(t, by, bx)
    gain = np.ones((t, by, bx), np.float32)
    offset = np.zeros((t, by, bx), np.float32)
    for _ in range(rounds):
        # The fields are smooth over a block, so a block's corrected mean is
        # gain * mean + offset: the rounds work on the block means alone.
        cur = gain * means + offset
        for k in range(t):
            lo, hi = max(0, k - window), min(t, k + window + 1)
            ref = np.median(cur[lo:hi], axis=0)
            wgt = unclipped[k] / (1.0 + (np.abs(cur[k] - ref) / np.maximum(ref, 0.05) / cfg.MOTION) ** 2) + 1e-6
            a, b = _fit(cur[k], ref, wgt, settings=settings)
            fitted = a * cur[k] + b
            g = _smooth(np.clip(ref / np.maximum(fitted, 1e-3), *cfg.GAIN_RANGE), wgt)
            # corrected = g * (a * (gain * frame + offset) + b)
            gain[k] = np.clip(g * a * gain[k], *cfg.GAIN_RANGE)
            offset[k] = g * (a * offset[k] + b)
    return Flicker(gain, offset)


def _smooth(field: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """A weighted Gaussian smoothing over the block grid (normalised convolution)."""
    sigma = max(1.0, 0.5 * max(field.shape))
    num = cv2.GaussianBlur((field * weight).astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    den = cv2.GaussianBlur(weight.astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    return (num / np.maximum(den, 1e-6)).astype(np.float32).reshape(field.shape)


def apply(frames, flicker: Flicker) -> np.ndarray:
    """``frames`` with ``flicker`` removed; the input's dtype and shape (integers rounded and clipped)."""
    original, work, grey = _arrays.frames_float(frames)
    t, h, w, _ = work.shape
    if flicker.gain.shape[0] != t:
        raise ValueError(f"flicker covers {flicker.gain.shape[0]} frames, frames holds {t}")
    out = np.empty_like(work)
    for k in range(t):
        g, o = flicker.fields(k, h, w)
        out[k] = np.clip(work[k] * g[..., None] + o[..., None], 0.0, 1.0)
    res = _arrays.to_dtype(out, original.dtype)
    return res[..., 0] if grey else res


def deflicker(frames, *, window=None, blocks=None, rounds=None, settings=None) -> tuple[np.ndarray, Flicker]:
    """Estimate and remove flicker; returns the corrected frames and the :class:`Flicker` applied.

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.film.flicker import deflicker
    >>> rng = np.random.default_rng(0)
    >>> scene = rng.uniform(0.2, 0.8, (1, 32, 48)).astype(np.float32)
    >>> gains = np.array([1.0, 1.1, 0.9, 1.0, 1.12, 0.95], np.float32)
    >>> film = np.clip(scene * gains[:, None, None], 0, 1)
    >>> fixed, fl = deflicker(film)
    >>> spread = lambda v: float(np.ptp(v.mean(axis=(1, 2))))
    >>> spread(fixed) < 0.2 * spread(film)
    True
    """
    fl = estimate(frames, window=window, blocks=blocks, rounds=rounds, settings=settings)
    return apply(frames, fl), fl
