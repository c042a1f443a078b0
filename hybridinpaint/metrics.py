"""Quality measures on numpy arrays.

Video completion: :func:`psnr` and :func:`ssim` against the truth (whole
frames or over a mask), and two measures of steadiness in time that need no
truth: :func:`warp_error` (the flow warping error of Lai et al. [2]_, the
video-inpainting papers' E_warp) and :func:`temporal_consistency` (SSIM
between each frame and the next one warped back onto it). Pixels are
uint8, uint16 or float in [0, 1], all measured in [0, 1] units.

Shapes, one rule for every function here (images as scikit-image reads them):

* ``(T, H, W, C)``, C from 1 to 4: a video of T frames;
* ``(H, W)``: one grey image;
* ``(H, W, C)`` whose last axis is 1 to 4 long: one image of C channels
  (RGB, RGBA, ...), measured as the one-frame video ``image[None]``;
* any other ``(T, H, W)``: a grey video.

So a grey video whose frames are at most 4 pixels wide reads as one image:
pass it as ``video[..., None]``. Masks follow the same rule: ``(H, W)``
(one mask, for an image or for every frame of a video) or ``(T, H, W)``;
a trailing axis of length 1 is dropped, and an ``(H, W, C)`` colour
image of 2 to 4 channels is refused as a mask. :func:`warp_error` and
:func:`temporal_consistency` compare neighbouring frames and refuse one
image or a one-frame video.

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
from hybridinpaint.completion import flow as flowmod
from hybridinpaint.kernels import warp_backward

__all__ = ["psnr", "ssim", "warp_error", "temporal_consistency", "jaccard", "boundary_f"]


_SHAPES = "one image (H, W) or (H, W, C), or a video (T, H, W) or (T, H, W, C)"
_NARROW = "a grey video of frames at most 4 pixels wide reads as one image: pass it as video[..., None]"


def is_image(shape) -> bool:
    """The module's one rule: (H, W), or (H, W, C) with a last axis of 1 to 4, is one image; else a video."""
    return len(shape) == 2 or (len(shape) == 3 and 1 <= shape[2] <= 4)


def _array(x, name) -> np.ndarray:
    try:
        return np.asarray(x)
    except Exception as exc:
        raise ValueError(f"{name} must be an array, {_SHAPES}, got {type(x).__name__}") from exc


def _frames(x, name):
    """``x`` as float32 (T, H, W, C) in [0, 1] by the module's rule of shapes; and whether it was one image."""
    a = _array(x, name)
    if a.ndim not in (2, 3, 4):
        raise ValueError(f"{name} must be {_SHAPES}, got shape {a.shape}")
    image = is_image(a.shape)
    try:
        _, f, _ = _arrays.frames_float(a[None] if image else a)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    return f, image


def _videos(result, truth):
    """Both as float32 (T, H, W, C) in [0, 1] (an image as one frame), checked to match."""
    r, _ = _frames(result, "result")
    g, _ = _frames(truth, "truth")
    if r.shape != g.shape:
        raise ValueError(f"result and truth must have one shape, got {np.shape(result)} and {np.shape(truth)}")
    return r, g


def _mask_shape(mask, name) -> np.ndarray:
    """A mask (H, W) or masks (T, H, W) by the module's rule of shapes; a trailing axis of 1 dropped."""
    a = _array(mask, name)
    if a.ndim in (3, 4) and a.shape[-1] == 1 and (a.ndim == 4 or is_image(a.shape)):
        a = a[..., 0]
    elif a.ndim == 3 and is_image(a.shape):
        raise ValueError(
            f"{name} must be a mask (H, W) or masks (T, H, W), got shape {a.shape}, one image of "
            f"{a.shape[2]} channels: pass one channel, e.g. {name}[..., 0]"
        )
    if a.ndim not in (2, 3):
        raise ValueError(f"{name} must be a mask (H, W) or masks (T, H, W), got shape {a.shape}")
    return a


def _mask(mask, shape):
    if mask is None:
        return np.ones(shape[:3], bool)
    return _arrays.masks_bool(_mask_shape(mask, "mask"), shape[:3])


def psnr(result, truth, *, mask=None, per_frame=False):
    """Peak signal-to-noise ratio (dB) of ``result`` against ``truth``.

    The squared error is pooled over every pixel (and channel) of ``mask``
    (default: all), over all frames, or per frame with ``per_frame``; the
    peak is 1 (the full range of the dtype). ``inf`` where they are equal;
    ``nan`` for a frame with an empty mask.

    Parameters
    ----------
    result, truth : ndarray, shape (T, H, W, C) or (T, H, W) (a video), or (H, W, C) or (H, W) (one image)
        Of one shape; read by the module's rule of shapes (an ``(H, W, C)``
        array with C from 1 to 4 is one image). One image is measured as a
        one-frame video.
    mask : ndarray (H, W) or (T, H, W) of bool, optional, keyword-only
        Where to measure (e.g. the hole); ``(H, W)`` serves every frame.
    per_frame : bool, keyword-only
        Return one value per frame, an array of shape (T,); of shape (1,)
        for one image.

    Returns
    -------
    float, or ndarray of shape (T,) with ``per_frame``

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.metrics import psnr
    >>> truth = np.full((2, 4, 4, 3), 100, np.uint8)
    >>> result = truth.copy(); result[:, 0, 0] = 110
    >>> round(psnr(result, truth), 2)
    40.17

    One RGB image ``(H, W, 3)`` is one image, as in scikit-image:

    >>> round(psnr(result[0], truth[0]), 2)
    40.17
    >>> psnr(result[0], truth[0], per_frame=True).shape
    (1,)
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

    Per frame: scikit-image's SSIM (7x7 windows, averaged over channels,
    ``data_range`` 1 on the [0, 1] values), or with ``mask`` the mean of its
    SSIM map over the mask; the frames' mean, or each frame's with
    ``per_frame``. On one image, scikit-image's
    ``structural_similarity(result, truth, channel_axis=-1, data_range=...)``
    (without ``channel_axis`` for a grey ``(H, W)`` image).

    Parameters
    ----------
    result, truth : ndarray, shape (T, H, W, C) or (T, H, W) (a video), or (H, W, C) or (H, W) (one image)
        As :func:`psnr`; frames of at least 7x7 pixels.
    mask : ndarray (H, W) or (T, H, W) of bool, optional, keyword-only
    per_frame : bool, keyword-only
        Return one value per frame, an array of shape (T,); of shape (1,)
        for one image.

    Returns
    -------
    float, or ndarray of shape (T,) with ``per_frame``

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.metrics import ssim
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.random((1, 32, 32, 3))
    >>> ssim(truth, truth)
    1.0

    One RGB image ``(H, W, 3)``, or a grey one ``(H, W)``:

    >>> image = truth[0]
    >>> noisy = np.clip(image + 0.1 * rng.standard_normal(image.shape), 0, 1)
    >>> ssim(noisy, image) == ssim(noisy[None], image[None])
    True
    >>> 0 < ssim(noisy[..., 0], image[..., 0]) < 1
    True
    """
    from skimage.metrics import structural_similarity

    r, g = _videos(result, truth)
    m = _mask(mask, r.shape)
    if min(r.shape[1:3]) < 7:
        raise ValueError(f"ssim needs images or frames of at least 7x7 pixels, got {r.shape[2]}x{r.shape[1]}")
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

    src = video
    if reference is not None:
        src, _ = _frames(reference, "reference")
        if src.shape[:3] != video.shape[:3]:
            raise ValueError(f"reference must have the video's (T, H, W) = {video.shape[:3]}, got {src.shape[:3]}")
    return flowmod.estimate_frames(src)


def _video(video, who):
    """``video`` as float32 (T, H, W, C) in [0, 1], refused unless it holds two frames or more."""
    v, image = _frames(video, "video")
    need = f"{who} needs at least two frames: video must be a video (T, H, W, C) or (T, H, W) with T >= 2"
    if image:
        hint = f" ({_NARROW})" if np.ndim(video) == 3 else ""
        raise ValueError(f"{need}, got one image of shape {np.shape(video)}{hint}")
    if v.shape[0] < 2:
        raise ValueError(f"{need}, got a video of one frame, shape {np.shape(video)}")
    return v


def _warped_pairs(v, mask, flow, reference, occlusion):
    """Per consecutive pair of ``v``: frame t, frame t+1 warped back onto it, the mask, and where the warp holds."""

    m = _mask(mask, v.shape)
    fwd, bwd = _flows(v, flow, reference)
    for k in range(v.shape[0] - 1):
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
        At least two frames: one image, ``(H, W)`` or ``(H, W, C)`` with C
        from 1 to 4 (the module's rule of shapes), or a one-frame video is
        refused with a ValueError.
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

    One image has no neighbour to compare with:

    >>> warp_error(still)
    Traceback (most recent call last):
    ...
    ValueError: warp_error needs at least two frames: video must be a video (T, H, W, C) or (T, H, W) with T >= 2, \
got one image of shape (32, 48)
    """
    pairs = _warped_pairs(_video(video, "warp_error"), mask, flow, reference, occlusion)
    errs = [float(((a - b)[m & ok] ** 2).mean()) for a, b, m, ok in pairs if (m & ok).any()]
    return float(np.mean(errs)) if errs else float("nan")


def temporal_consistency(video, *, mask=None, flow=None, reference=None, occlusion=True):
    """SSIM between each frame and the next one warped back onto it, over ``mask``; the pairs' mean.

    1 for a video whose every frame is its neighbour moved along the flow;
    lower where content flickers or jumps. Arguments as :func:`warp_error`
    (``video`` of two frames or more, one image refused); pixels whose 7x7
    SSIM window holds a pixel whose flow leaves the frame or is occluded are
    left out of the mean of the SSIM map.

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
    for a, b, m, ok in _warped_pairs(_video(video, "temporal_consistency"), mask, flow, reference, occlusion):
        # SSIM at a pixel reads a 7x7 window: only windows that hold no failed warp count.
        sel = m & ndimage.binary_erosion(ok, structure=np.ones((7, 7)), border_value=1)
        if sel.any():
            _, smap = structural_similarity(a, b, channel_axis=2, data_range=1.0, full=True)
            vals.append(float(smap.mean(axis=2)[sel].mean()))
    return float(np.mean(vals)) if vals else float("nan")


def _pair(result, truth, name="result"):
    """Two masks, (H, W) or (T, H, W) by the module's rule of shapes, as bool; checked to match."""
    r, g = _mask_shape(result, name), _mask_shape(truth, "truth")
    if r.shape != g.shape:
        raise ValueError(
            f"{name} and truth must be masks of one shape, (H, W) or (T, H, W), got {np.shape(result)} and "
            f"{np.shape(truth)}"
        )
    return r.astype(bool), g.astype(bool)


def jaccard(result, truth):
    """Intersection over union of two masks, per frame for (T, H, W); 1 where both are empty.

    ``result`` and ``truth`` follow the module's rule of shapes: ``(H, W)``
    (or ``(H, W, 1)``) is one mask, ``(T, H, W)`` a video of masks; an
    ``(H, W, C)`` array of 2 to 4 channels is one colour image and refused.

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
    """The DAVIS (and BSDS, Martin et al. 2003) boundary map: pixels that differ from their right,
    lower or lower-right neighbour, the image's last row compared to the right only, its last
    column to below only. The boundary lies half a pixel towards the origin from the mask's
    edge, and the image's own edges are no boundary."""
    b = np.zeros_like(mask)
    b[:-1, :-1] = (
        (mask[:-1, :-1] != mask[:-1, 1:]) | (mask[:-1, :-1] != mask[1:, :-1]) | (mask[:-1, :-1] != mask[1:, 1:])
    )
    b[-1, :-1] = mask[-1, :-1] != mask[-1, 1:]
    b[:-1, -1] = mask[:-1, -1] != mask[1:, -1]
    return b


def boundary_f(result, truth, *, tolerance=0.008):
    """Boundary F-measure of two masks, per frame for (T, H, W).

    Boundary pixels of each mask count as matched when a boundary pixel of
    the other lies within ``tolerance`` x the image diagonal (DAVIS: 0.008,
    rounded up to whole pixels, a disc). 1 where neither has a boundary (both empty,
    or a mask filling the frame, as DAVIS counts it). Shapes
    as :func:`jaccard`.

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
