"""Quality measures on numpy arrays.

Video completion: :func:`psnr` and :func:`ssim` against the truth (whole
frames or over a mask), and two measures of steadiness in time that need no
truth: :func:`warp_error` (the flow warping error of Lai et al. [2]_, the
video-inpainting papers' E_warp) and :func:`temporal_consistency` (SSIM
between each frame and the next one warped back onto it). Videos follow
:func:`hybridinpaint.inpaint`'s rules: ``(T, H, W, C)`` or ``(T, H, W)``,
uint8, uint16 or float in [0, 1], all measured in [0, 1] units (a single
image is a one-frame video, ``img[None]``).

LPIPS and VFID, the learned measures of the papers' tables, are absent: they
need network weights (AlexNet/VGG, I3D) that cannot ship inside this package
or be downloaded when it runs.

Segmentation (DAVIS [1]_): :func:`jaccard` (region similarity J, the
intersection over union) and :func:`boundary_f` (contour accuracy F, the
F-measure of boundary pixels matched within a tolerance).

References
----------
.. [1] F. Perazzi, J. Pont-Tuset, B. McWilliams, L. Van Gool, M. Gross,
   A. Sorkine-Hornung, "A benchmark dataset and evaluation methodology for
   video object segmentation", CVPR 2016.
.. [2] W.-S. Lai, J.-B. Huang, O. Wang, E. Shechtman, E. Yumer, M.-H. Yang,
   "Learning blind video temporal consistency", ECCV 2018.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from hybridinpaint.completion import arrays as _arrays

__all__ = ["psnr", "ssim", "warp_error", "temporal_consistency", "jaccard", "boundary_f"]


def _videos(result, truth):
    """Both videos as float32 (T, H, W, C) in [0, 1], checked to match."""
    _, r, _ = _arrays.frames_float(result)
    _, g, _ = _arrays.frames_float(truth)
    if r.shape != g.shape:
        raise ValueError(f"result and truth must have one shape, got {np.shape(result)} and {np.shape(truth)}")
    return r, g


def _mask(mask, shape):
    if mask is None:
        return np.ones(shape[:3], bool)
    return _arrays.masks_bool(mask, shape[:3])


def psnr(result, truth, *, mask=None, per_frame=False):
    """Peak signal-to-noise ratio (dB) of ``result`` against ``truth``.

    The squared error is pooled over every pixel (and channel) of ``mask``
    (default: all), over all frames, or per frame with ``per_frame``; the
    peak is 1 (the full range of the dtype). ``inf`` where they are equal;
    ``nan`` for a frame with an empty mask.

    Parameters
    ----------
    result, truth : ndarray, shape (T, H, W, C) or (T, H, W)
    mask : ndarray (H, W) or (T, H, W) of bool, optional, keyword-only
        Where to measure (e.g. the hole).
    per_frame : bool, keyword-only

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.metrics import psnr
    >>> truth = np.full((2, 4, 4, 3), 100, np.uint8)
    >>> result = truth.copy(); result[:, 0, 0] = 110
    >>> round(psnr(result, truth), 2)
    40.17
    """
    r, g = _videos(result, truth)
    m = _mask(mask, r.shape)
    sq = ((r.astype(np.float64) - g) ** 2).mean(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if per_frame:
            n = m.sum(axis=(1, 2))
            mse = np.where(n > 0, (sq * m).sum(axis=(1, 2)) / np.maximum(n, 1), np.nan)
            return np.where(mse > 0, 10 * np.log10(1.0 / mse), np.inf)
        if not m.any():
            raise ValueError("mask is empty: there is nothing to measure")
        mse = float(sq[m].mean())
        return float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))


def ssim(result, truth, *, mask=None, per_frame=False):
    """Structural similarity (scikit-image's, Wang et al. 2004) of ``result`` against ``truth``.

    Per frame: scikit-image's SSIM (7x7 windows, averaged over channels),
    or with ``mask`` the mean of its SSIM map over the mask; the frames'
    mean, or each frame's with ``per_frame``.

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.metrics import ssim
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.random((1, 32, 32, 3))
    >>> ssim(truth, truth)
    1.0
    """
    from skimage.metrics import structural_similarity

    r, g = _videos(result, truth)
    m = _mask(mask, r.shape)
    if min(r.shape[1:3]) < 7:
        raise ValueError(f"ssim needs frames of at least 7x7 pixels, got {r.shape[2]}x{r.shape[1]}")
    out = np.full(r.shape[0], np.nan)
    for k in range(r.shape[0]):
        if mask is None:  # scikit-image's own mean, which leaves out a border of half a window
            out[k] = structural_similarity(r[k], g[k], channel_axis=2, data_range=1.0)
        elif m[k].any():
            _, smap = structural_similarity(r[k], g[k], channel_axis=2, data_range=1.0, full=True)
            out[k] = float(smap.mean(axis=2)[m[k]].mean())
    if per_frame:
        return out
    if np.isnan(out).all():
        raise ValueError("mask is empty: there is nothing to measure")
    return float(np.nanmean(out))


def _flows(video, flow, reference):
    """(forward, backward) flows between neighbours: given, or DIS on ``reference`` (default: the video)."""
    t, h, w = video.shape[:3]
    if flow is not None:
        fwd, bwd = (np.asarray(f, np.float32) for f in flow)
        if fwd.shape != (t - 1, h, w, 2) or bwd.shape != (t - 1, h, w, 2):
            raise ValueError(
                f"flow must be (forward, backward), each (T - 1, H, W, 2) = {(t - 1, h, w, 2)}, "
                f"got {fwd.shape} and {bwd.shape}"
            )
        return fwd, bwd
    from hybridinpaint.completion import flow as flowmod

    src = video
    if reference is not None:
        _, src, _ = _arrays.frames_float(reference)
        if src.shape[:3] != video.shape[:3]:
            raise ValueError(f"reference must have the video's (T, H, W) = {video.shape[:3]}, got {src.shape[:3]}")
    return flowmod.estimate_frames(src)


def _warped_pairs(video, mask, flow, reference, occlusion):
    """Per consecutive pair: frame t, frame t+1 warped back onto it, the mask, and where the warp holds."""
    from hybridinpaint.kernels import warp_backward

    _, v, _ = _arrays.frames_float(video)
    t = v.shape[0]
    if t < 2:
        raise ValueError("a measure of steadiness in time needs at least two frames")
    m = _mask(mask, v.shape)
    fwd, bwd = _flows(v, flow, reference)
    for k in range(t - 1):
        warped, ok = warp_backward(v[k + 1], fwd[k], backend="cpu")
        if occlusion:
            back, _ = warp_backward(bwd[k], fwd[k], backend="cpu")
            ok &= np.hypot(fwd[k][..., 0] + back[..., 0], fwd[k][..., 1] + back[..., 1]) < 1.0
        yield v[k], warped, m[k], ok


def warp_error(video, *, mask=None, flow=None, reference=None, occlusion=True):
    """Flow warping error: how much each frame differs from the next one warped back onto it.

    For each pair of neighbours, frame t+1 is sampled along the forward flow
    of frame t (bilinear, :func:`hybridinpaint.kernels.warp_backward`), and
    the mean squared difference is taken over ``mask`` in frame t (default:
    everything), leaving out pixels whose flow leaves the frame and, with
    ``occlusion``, pixels where the forward and backward flows disagree by
    1 px or more (occlusions). The pairs' mean; lower is steadier; in
    squared [0, 1] units (the papers report it x 1000).

    Parameters
    ----------
    video : ndarray, shape (T, H, W, C) or (T, H, W), T >= 2
    mask : ndarray (H, W) or (T, H, W) of bool, optional, keyword-only
    flow : (forward, backward), each ndarray (T - 1, H, W, 2), optional, keyword-only
        OpenCV layout ``(dx, dy)``; ``forward[t]`` maps frame t to t+1,
        ``backward[t]`` frame t+1 to t. Default: OpenCV DIS flow of
        ``reference``.
    reference : ndarray like ``video``, optional, keyword-only
        The frames to estimate the flow on, e.g. the truth, so that a
        result's errors do not bend its own flow (default: ``video``).
    occlusion : bool, keyword-only

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.metrics import warp_error
    >>> still = np.repeat(np.linspace(0, 1, 48, dtype=np.float32)[None, :], 32, 0)
    >>> video = np.repeat(still[None], 3, 0)  # grey, (3, 32, 48): nothing moves
    >>> flow = np.zeros((2, 32, 48, 2), np.float32)
    >>> warp_error(video, flow=(flow, flow))
    0.0
    """
    pairs = _warped_pairs(video, mask, flow, reference, occlusion)
    errs = [float(((a - b)[m & ok] ** 2).mean()) for a, b, m, ok in pairs if (m & ok).any()]
    return float(np.mean(errs)) if errs else float("nan")


def temporal_consistency(video, *, mask=None, flow=None, reference=None, occlusion=True):
    """SSIM between each frame and the next one warped back onto it, over ``mask``; the pairs' mean.

    1 for a video whose every frame is its neighbour moved along the flow;
    lower where content flickers or jumps. Arguments as :func:`warp_error`;
    pixels whose 7x7 SSIM window holds a pixel whose flow leaves the frame
    or is occluded are left out of the mean of the SSIM map.

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.metrics import temporal_consistency
    >>> rng = np.random.default_rng(0)
    >>> video = np.repeat(rng.random((1, 32, 48, 3)).astype(np.float32), 3, 0)
    >>> flow = np.zeros((2, 32, 48, 2), np.float32)
    >>> temporal_consistency(video, flow=(flow, flow))
    1.0
    """
    from skimage.metrics import structural_similarity

    vals = []
    for a, b, m, ok in _warped_pairs(video, mask, flow, reference, occlusion):
        # SSIM at a pixel reads a 7x7 window: only windows that hold no failed warp count.
        sel = m & ndimage.binary_erosion(ok, structure=np.ones((7, 7)), border_value=1)
        if sel.any():
            _, smap = structural_similarity(a, b, channel_axis=2, data_range=1.0, full=True)
            vals.append(float(smap.mean(axis=2)[sel].mean()))
    return float(np.mean(vals)) if vals else float("nan")


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
