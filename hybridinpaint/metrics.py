"""Quality measures on numpy arrays.

Segmentation (DAVIS [1]_): :func:`jaccard` (region similarity J, the
intersection over union) and :func:`boundary_f` (contour accuracy F, the
F-measure of boundary pixels matched within a tolerance).

References
----------
.. [1] F. Perazzi, J. Pont-Tuset, B. McWilliams, L. Van Gool, M. Gross,
   A. Sorkine-Hornung, "A benchmark dataset and evaluation methodology for
   video object segmentation", CVPR 2016.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["jaccard", "boundary_f"]


def _pair(result, truth, name="result"):
    result, truth = np.asarray(result), np.asarray(truth)
    if result.shape != truth.shape or result.ndim < 2:
        raise ValueError(
            f"{name} and truth must be masks of one shape, (H, W) or (T, H, W), got {result.shape} and {truth.shape}"
        )
    return result.astype(bool), truth.astype(bool)


def jaccard(result, truth):
    """Intersection over union of two masks, per frame for (T, H, W); 1 where both are empty.

    >>> import numpy as np
    >>> a = np.zeros((4, 4), bool); a[:2] = True
    >>> b = np.zeros((4, 4), bool); b[1:3] = True
    >>> float(jaccard(a, b))
    0.3333333333333333
    """
    r, g = _pair(result, truth)
    axes = (-2, -1)
    inter = (r & g).sum(axis=axes)
    union = (r | g).sum(axis=axes)
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def _boundary(mask):
    return mask & ~ndimage.binary_erosion(mask, structure=np.ones((3, 3)), border_value=0)


def boundary_f(result, truth, *, tolerance=0.008):
    """Boundary F-measure of two masks, per frame for (T, H, W).

    Boundary pixels of each mask count as matched when a boundary pixel of
    the other lies within ``tolerance`` x the image diagonal (DAVIS: 0.008,
    rounded up to whole pixels, a disc). 1 where both are empty.

    >>> import numpy as np
    >>> a = np.zeros((40, 40), bool); a[10:30, 10:30] = True
    >>> float(boundary_f(a, a))
    1.0
    """
    r, g = _pair(result, truth)
    if r.ndim == 3:
        return np.array([boundary_f(a, b, tolerance=tolerance) for a, b in zip(r, g)])
    h, w = r.shape
    radius = int(np.ceil(tolerance * np.hypot(h, w)))
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    disc = yy**2 + xx**2 <= radius**2
    br, bg = _boundary(r), _boundary(g)
    if not br.any() and not bg.any():
        return 1.0
    if not br.any() or not bg.any():
        return 0.0
    precision = (br & ndimage.binary_dilation(bg, structure=disc)).sum() / br.sum()
    recall = (bg & ndimage.binary_dilation(br, structure=disc)).sum() / bg.sum()
    return float(2 * precision * recall / max(precision + recall, 1e-12))
