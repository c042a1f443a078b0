"""Pathological motion: a spot that is found again, elsewhere, in the frames around it is not dirt.

A small object that moves fast (a ball, a hand, a racket, a bird) is, in one
frame, what dirt is: an impulse that the motion-compensated neighbours do
not share, because the optical flow cannot follow it. What tells them apart
is that dirt has no before and after, and the ball does: it is in frames
t-1 and t+1 too, somewhere else, along a smooth path [1]_ [2]_.

So each spot the blotch classifier calls dirt is looked for in the frames
around it. Its pixels (the region and a one-pixel ring) are matched, by the
sum of squared differences, at every displacement within a search radius,
under three paths of constant velocity over five frames: through t-1 and
t+1 (the object passes), through t-2 and t-1 (it has just stopped or left
the flow's reach), through t+1 and t+2 (it is just arriving). When the best
path reproduces the spot far better than the motion-compensated neighbours
did, the spot is the picture's and is left alone. Dirt could only pass by
matching a look-alike in two other frames at displacements that line up.

References
----------
.. [1] D. Corrigan, N. Harte, A. Kokaram, "Pathological motion detection for
   robust missing data treatment", EURASIP Journal on Advances in Signal
   Processing, 2008.
.. [2] A. C. Kokaram, "Motion Picture Restoration", Springer, 1998.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage

__all__ = ["Path", "best_path", "search_radius"]


@dataclass(frozen=True)
class Path:
    """The best path a spot was found along: where it went, and how well it matched."""

    frames: tuple[int, int]  # the two other frames it was found in
    step: tuple[float, float]  # (dy, dx) pixels per frame
    ratio: float  # the path's match error / the motion-compensated neighbours' (0: found exactly)

    def describe(self) -> str:
        speed = float(np.hypot(*self.step))
        return (
            f"found again {speed:.0f} px per frame away in frames {self.frames[0]} and {self.frames[1]} "
            f"(match error {self.ratio:.2f} of the motion-compensated neighbours')"
        )


def search_radius(width: int) -> int:
    """Pixels per frame searched: 7.5% of the frame's width (32 px at 432), at least 8."""
    return max(8, int(round(0.075 * width)))


def _errors(frame, template, weight, top, left, radius):
    """Match error of ``template`` over ``frame`` at every displacement within ``radius`` (NaN: out of frame).

    Returns (2 * radius + 1, 2 * radius + 1): entry ``[radius + dy, radius + dx]``
    is the weighted sum of squared differences with the template moved by
    (dy, dx) from its place ``top, left``.
    """
    h, w = frame.shape
    th, tw = template.shape
    size = 2 * radius + 1
    out = np.full((size, size), np.nan, np.float32)
    y0, x0 = top - radius, left - radius
    ya, xa = max(0, y0), max(0, x0)
    yb, xb = min(h, y0 + size - 1 + th), min(w, x0 + size - 1 + tw)
    if yb - ya < th or xb - xa < tw:
        return out
    res = cv2.matchTemplate(frame[ya:yb, xa:xb], template, cv2.TM_SQDIFF, mask=weight)
    out[ya - y0 : ya - y0 + res.shape[0], xa - x0 : xa - x0 + res.shape[1]] = res
    return out


def _along(err, f, radius):
    """``err`` (by displacement, up to 2 * radius) read along velocities: entry (vy, vx) is err at f * (vy, vx)."""
    v = np.arange(-radius, radius + 1)
    idx = 2 * radius + f * v
    return err[np.ix_(idx, idx)]


def best_path(grey, k, region, prev_k, next_k, *, radius=None) -> Path | None:
    """The constant-velocity path through t-2..t+2 along which the spot ``region`` of frame ``k`` is found best.

    Parameters
    ----------
    grey : ndarray, shape (T, H, W)
        The frames, float in [0, 1].
    k : int
        The frame of the spot.
    region : ndarray, shape (H, W), bool
        The spot's pixels.
    prev_k, next_k : ndarray, shape (H, W)
        Frames k-1 and k+1 warped onto frame k (the motion-compensated
        neighbours that disagreed with the spot).
    radius : int, optional
        Largest displacement per frame searched (default :func:`search_radius`).

    Returns
    -------
    Path or None
        None when no path fits in the frames.
    """
    t, h, w = grey.shape
    radius = search_radius(w) if radius is None else radius
    ys, xs = np.nonzero(region)
    y0, y1 = max(0, ys.min() - 1), min(h, ys.max() + 2)
    x0, x1 = max(0, xs.min() - 1), min(w, xs.max() + 2)
    template = grey[k, y0:y1, x0:x1].astype(np.float32)
    inner = region[y0:y1, x0:x1]
    # The spot and a one-pixel ring: its pixels alone match any patch of like brightness (tried: dirt then
    # matched within 0.02 of its compensated error); the ring ties it to its edge.
    weight = ndimage.binary_dilation(inner).astype(np.float32)
    n = float(weight.sum())
    compensated = 0.5 * float(
        ((template - prev_k[y0:y1, x0:x1]) ** 2 + (template - next_k[y0:y1, x0:x1]) ** 2)[weight > 0].mean()
    )
    if compensated <= 0 or not inner.any():
        return None
    # Acceleration and matching to the nearest pixel: each frame's error is the best within one pixel.
    err = {
        j: ndimage.minimum_filter(
            np.nan_to_num(_errors(grey[j].astype(np.float32), template, weight, y0, x0, 2 * radius), nan=np.inf),
            size=3,
        )
        for j in range(k - 2, k + 3)
        if j != k and 0 <= j < t
    }
    best = None
    # (the two frames, each frame's displacement in steps of the velocity)
    for a, fa, b, fb in ((k - 1, -1, k + 1, 1), (k - 2, -2, k - 1, -1), (k + 1, 1, k + 2, 2)):
        if a not in err or b not in err:
            continue
        total = _along(err[a], fa, radius) + _along(err[b], fb, radius)
        if not np.isfinite(total).any():
            continue
        i = np.unravel_index(np.argmin(total), total.shape)
        ratio = float(total[i]) / (2 * n) / compensated
        if best is None or ratio < best.ratio:
            best = Path((a, b), (float(i[0] - radius), float(i[1] - radius)), ratio)
    return best
