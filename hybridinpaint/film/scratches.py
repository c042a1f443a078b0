"""Line scratches: thin vertical lines across the picture, told apart from the picture's own lines.

A line scratch is a thin, nearly vertical line brighter or darker than both
its sides, persisting over frames [1]_: each frame's column profile of
horizontal detail (the frame minus its horizontal median) is searched for
narrow peaks that recur within a pixel in the frames around.

A pole, a door frame or a grid printed on a mat looks the same in one frame.
What tells them apart is the picture around them over time [2]_: the
picture's line moves with the picture, so the neighbouring frames warped
along the optical flow bring it back to the same place with the same
strength; a scratch is made on the film, and wanders, flickers in strength
and stays where it is while the camera moves. So each line is compared with
its motion-compensated neighbours along its length: where they reproduce
it as well as they bring back the picture beside it (the residual at the
line under ``film.STILL_LINE`` times the residual 3 px beside it, the
median of five frames around), it is the picture's, and it is left alone. A scratch
that neither wanders nor flickers in a shot where nothing moves cannot be
told from the picture and is left alone too: the archivist sees it listed,
and can have it repaired.

References
----------
.. [1] A. C. Kokaram, "Detection and removal of line scratches in motion
   picture films", CVPR 1996.
.. [2] A. Newson, A. Almansa, Y. Gousseau, P. Pérez, "Robust automatic line
   scratch detection in films", IEEE Trans. Image Processing 23(3), 2014.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from hybridinpaint.film import blotches

__all__ = ["Lines", "detect"]


@dataclass
class Lines:
    """What :func:`detect` found: the scratches' mask and contrast, and the lines left alone."""

    mask: np.ndarray  # (T, H, W) bool: scratch pixels
    score: np.ndarray  # (T, H, W) float32: the line's contrast (grey levels in [0, 1])
    still: np.ndarray  # (T, H, W) bool: lines the neighbours reproduce (the picture's), left alone
    residual: dict  # {(frame, x): the line's residual in its neighbours / the picture's beside it}


def _residual(grey, k, flows, x, rows):
    """How much worse frames k-1 and k+1 reproduce the line at column ``x`` of frame k than the picture beside it.

    Each pixel of the line is looked for in both neighbours where the flow
    says it came from, rounded to a pixel and within a pixel either way (a
    sharp line must not be blurred off itself by interpolating a flow a
    fraction of a pixel off); the mean absolute difference, the median over
    the line's rows, at the line and 3 px on either side (the same rows), as
    a ratio: about 1 for a line the neighbours bring back as well as the
    picture (the picture's own), far above 1 for one they do not.
    """
    t, h, w = grey.shape
    fwd, bwd = flows
    ys = np.flatnonzero(rows)

    def err(c, moved=True):
        total = 0.0
        for j, flow in ((k - 1, bwd[k - 1]), (k + 1, fwd[k])):
            dy, dx = (flow[ys, c, 1], flow[ys, c, 0]) if moved else (0.0, 0.0)
            sy = np.clip(np.rint(ys + dy).astype(int), 0, h - 1)
            sx = np.rint(c + dx).astype(int) + np.zeros(ys.size, int)
            near = np.clip(sx[:, None] + np.array([-1, 0, 1]), 0, w - 1)
            total = total + np.abs(grey[k, ys, c][:, None] - grey[j][sy[:, None], near]).min(1)
        return 0.5 * total

    side = max(float(np.median(0.5 * (err(max(x - 3, 0)) + err(min(x + 3, w - 1))))), 0.5 / 255)
    # Or the line stays where it is, as a pole does when what passes behind it drags the flow along: the
    # frames unmoved must then reproduce it as well as the flow reproduces the picture. A scratch in a pan
    # fails this (unmoved, the picture under it has changed).
    return min(float(np.median(err(x))), float(np.median(err(x, moved=False)))) / side


def detect(grey, sensitivity, flows=None, *, still_line=2.0, max_width=5, min_frames=3) -> Lines:
    """Scratches of ``grey`` (T, H, W) float in [0, 1], given the flows between its frames (or None).

    ``flows`` is ``(forward, backward)``, each (T-1, H, W, 2) (OpenCV's
    layout). Without them (fewer than 3 frames) no line can be tested
    against the picture, and every persistent line is a scratch.
    """
    t, h, w = grey.shape
    mask = np.zeros(grey.shape, bool)
    still = np.zeros(grey.shape, bool)
    score = np.zeros(grey.shape, np.float32)
    cols = []
    details = []
    for k in range(t):
        g = grey[k]
        # Horizontal detail: the frame minus its horizontal median (a line narrower than the window stands out).
        detail = g - ndimage.median_filter(g, size=(1, 2 * max_width + 3))
        details.append(detail)
        prof = np.median(detail, axis=0)  # a line spanning most of the height survives the median
        sigma = blotches.noise_sigma(prof)
        thr = max(6.0 * sigma, 0.02) / sensitivity
        peaks = np.flatnonzero(np.abs(prof) > thr)
        # A line is narrow: the profile falls back within a few pixels on both sides.
        left = prof[np.maximum(peaks - max_width, 0)]
        right = prof[np.minimum(peaks + max_width, w - 1)]
        narrow = (np.abs(left) < 0.4 * np.abs(prof[peaks])) & (np.abs(right) < 0.4 * np.abs(prof[peaks]))
        cols.append((peaks[narrow], prof))
    found = []  # (frame, x, rows, contrast)
    for k in range(t):
        peaks, prof = cols[k]
        for x in peaks:
            # Persistence: the same line (within 1 px: scratches drift slowly,
            # picture content pans) in enough frames around this one.
            near = 0
            for j in range(max(0, k - min_frames + 1), min(t, k + min_frames)):
                if j != k and np.any(np.abs(cols[j][0] - x) <= 1):
                    near += 1
            if near + 1 < min(min_frames, t):
                continue
            sign = np.sign(prof[x])
            rows = np.sign(details[k][:, x]) == sign
            # Bridge short gaps (grain flips the sign here and there): one line, one record.
            rows = ndimage.binary_closing(np.pad(rows, 8), structure=np.ones(17))[8:-8]
            found.append((k, int(x), rows, abs(prof[x])))
    residual = {}
    for k, x, rows, _ in found:
        if flows is not None and 0 < k < t - 1 and rows.any():
            residual[k, x] = _residual(grey, k, flows, x, rows)
    for k, x, rows, contrast in found:
        # The line's residual over up to five frames around (the same line within a pixel), the median.
        around = [r for (j, xj), r in residual.items() if abs(j - k) <= 2 and abs(xj - x) <= 1 and np.isfinite(r)]
        if around and float(np.median(around)) < still_line:
            still[k, rows, x] = True
            continue
        mask[k, rows, x] = True
        score[k, :, x] = np.maximum(score[k, :, x], contrast)
    return Lines(mask, score, still, residual)
