"""PatchMatch nearest-neighbour fields over (frame, y, x), and patch voting."""

from __future__ import annotations

import numpy as np

from . import patches_fns  # noqa: F401 - registers the bodies
from ._accelerate import launch_cuda, resolve_backend, run_cpu
from .checks import bool_mask, describe, image_hwc, positive_int, real_float32

__all__ = ["patchmatch", "vote"]


def _sources(sources, name, channels, squeeze):
    src = real_float32(sources, name, ndim=(3, 4))
    if src.ndim == 3:
        if not squeeze:
            raise ValueError(f"{name} must be 4-D (S, Hs, Ws, C) for a colour target, got {describe(src)}")
        src = src[..., None]
    if src.shape[3] != channels:
        raise ValueError(f"{name} must have {channels} channel(s) like the target, got {describe(src)}")
    return src


def _patch_size(patch):
    p = positive_int(patch, "patch")
    if p % 2 == 0:
        raise ValueError(f"patch must be an odd integer, got {patch!r}")
    return p


def _region(hole, r):
    """Pixels whose (2r+1)-square patch overlaps the hole."""
    import cv2

    if r == 0:
        return hole.copy()
    kernel = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    return cv2.dilate(hole.view(np.uint8), kernel).view(bool)


def _valid_centres(valid, r):
    """Centres whose whole patch lies on valid pixels inside the frame."""
    s, h, w = valid.shape
    ok = np.zeros((s, h, w), np.uint8)
    if h < 2 * r + 1 or w < 2 * r + 1:
        return ok
    # Count valid pixels in each patch with a summed-area table.
    sat = np.zeros((s, h + 1, w + 1), np.int32)
    np.cumsum(np.cumsum(valid, axis=1, dtype=np.int32), axis=2, out=sat[:, 1:, 1:])
    p = 2 * r + 1
    counts = sat[:, p:, p:] - sat[:, :-p, p:] - sat[:, p:, :-p] + sat[:, :-p, :-p]
    ok[:, r : h - r, r : w - r] = counts == p * p
    return ok


def patchmatch(
    target, hole, sources, source_valid, *, patch=7, iterations=5, seed=0, init=None, target_weight=None, backend="auto"
):
    """Nearest-neighbour field from the patches around a hole to patches of source frames.

    For every pixel whose ``patch`` x ``patch`` neighbourhood overlaps
    ``hole``, find the centre ``(s, y, x)`` of a source patch lying wholly on
    valid pixels that minimises the weighted sum of squared differences to
    the target patch, counting only the target's known pixels (PatchMatch:
    random initialisation, propagation, random search [1]_).

    Parameters
    ----------
    target : ndarray, shape (H, W, C) or (H, W)
        The frame with the hole; values under the hole are ignored but must
        be finite.
    hole : ndarray of bool, shape (H, W)
        True where the target is missing.
    sources : ndarray, shape (S, Hs, Ws, C), or (S, Hs, Ws) for a 2-D target
        Frames to copy from (the target itself may be one of them).
    source_valid : ndarray of bool, shape (S, Hs, Ws)
        True where a source pixel may be copied.
    patch : odd int, keyword-only
        Patch side in pixels.
    iterations : int, keyword-only
        Propagation + random-search rounds; 0 returns the initial field.
    seed : int, keyword-only
        Seed of the random initialisation and search; the same seed gives
        the same result on the CPU.
    init : ndarray, shape (H, W, 3), optional, keyword-only
        A starting field (e.g. upsampled from a coarser level); entries that
        are not valid centres are replaced by random ones.
    target_weight : ndarray, shape (H, W), optional, keyword-only
        Non-negative weight of each target pixel in the distance; default
        ``1`` outside the hole and ``0`` inside. Pass a full weight map to
        match against a filled estimate (as in EM-style completion).
    backend : {"auto", "cpu", "cuda"}, keyword-only

    Returns
    -------
    nnf : ndarray of int32, shape (H, W, 3)
        ``[s, y, x]`` of the best source patch centre found; ``-1`` outside
        the region searched (the hole dilated by ``patch // 2``).
    cost : ndarray of float32, shape (H, W)
        The weighted SSD divided by the patch's total target weight (the
        mean squared colour difference per known pixel, summed over
        channels); 0 outside the region and where the patch has no known
        pixel.

    Raises
    ------
    ValueError
        For malformed arguments, or when no source patch lies wholly on
        valid pixels.

    References
    ----------
    .. [1] C. Barnes, E. Shechtman, A. Finkelstein, D. B. Goldman,
       "PatchMatch: A Randomized Correspondence Algorithm for Structural
       Image Editing", ACM Trans. Graphics 28(3), 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.kernels import patchmatch
    >>> rng = np.random.default_rng(0)
    >>> src = rng.random((1, 24, 24)).astype(np.float32)
    >>> tgt = src[0, 2:22, 1:21].copy()          # the source, shifted by (2, 1)
    >>> hole = np.zeros((20, 20), bool); hole[8:12, 8:12] = True
    >>> nnf, cost = patchmatch(tgt, hole, src, np.ones((1, 24, 24), bool),
    ...                        patch=5, iterations=6, backend="cpu")
    >>> nnf[10, 10].tolist(), float(cost[10, 10])   # centre (10, 10) came from (12, 11)
    ([0, 12, 11], 0.0)
    """
    tgt, squeeze = image_hwc(target, "target")
    h, w, c = tgt.shape
    hl = bool_mask(hole, "hole", shape=(h, w))
    src = _sources(sources, "sources", c, squeeze)
    ns, hs, ws, _ = src.shape
    sv = bool_mask(source_valid, "source_valid", shape=(ns, hs, ws))
    p = _patch_size(patch)
    its = positive_int(iterations, "iterations", minimum=0)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    seed32 = int(seed) & 0xFFFFFFFF
    if target_weight is None:
        wt = (~hl).astype(np.float32)
    else:
        wt = real_float32(target_weight, "target_weight", ndim=(2,))
        if wt.shape != (h, w):
            raise ValueError(f"target_weight must have shape {(h, w)}, got shape {wt.shape}")
        if (wt < 0).any():
            raise ValueError("target_weight must be non-negative")
    r = p // 2
    ok = _valid_centres(sv, r)
    centres = np.flatnonzero(ok)
    if centres.size == 0:
        raise ValueError(f"source_valid has no {p}x{p} patch of valid pixels inside the frame; nothing can be copied")
    target_kind = resolve_backend(backend)

    region = _region(hl, r)
    ys, xs = np.nonzero(region)
    ys = ys.astype(np.int64)
    xs = xs.astype(np.int64)
    nnf = np.full((h, w, 3), -1, np.int32)
    rng = np.random.default_rng(seed32)
    picked = centres[rng.integers(0, centres.size, size=ys.size)]
    start = np.stack(np.unravel_index(picked, ok.shape), axis=1).astype(np.int32)
    if init is not None:
        ini = np.asarray(init)
        if ini.shape != (h, w, 3) or not np.issubdtype(ini.dtype, np.integer):
            raise ValueError(f"init must be an integer array of shape {(h, w, 3)}, got {describe(ini)}")
        cand = ini[ys, xs].astype(np.int64)
        good = (
            (cand[:, 0] >= 0)
            & (cand[:, 0] < ns)
            & (cand[:, 1] >= 0)
            & (cand[:, 1] < hs)
            & (cand[:, 2] >= 0)
            & (cand[:, 2] < ws)
        )
        good[good] = ok[cand[good, 0], cand[good, 1], cand[good, 2]] != 0
        start[good] = cand[good]
    nnf[ys, xs] = start
    cost = np.zeros((h, w), np.float32)
    if ys.size == 0:
        return nnf, cost
    jumps = _jumps(its, max(h, w))
    if target_kind == "cpu":
        run_cpu("pm_cost_px", (ys.size,), ys, xs, tgt, wt, src, nnf, r, cost)
        nnf2, cost2 = nnf.copy(), cost.copy()
        for it in range(its):
            run_cpu(
                "pm_iterate_px", (ys.size,), ys, xs, it, seed32, jumps[it], tgt, wt, src, ok, r, nnf, cost, nnf2, cost2
            )
            nnf, nnf2, cost, cost2 = nnf2, nnf, cost2, cost
        return nnf, cost
    from numba import cuda

    d = {k: cuda.to_device(v) for k, v in dict(ys=ys, xs=xs, tgt=tgt, wt=wt, src=src, ok=ok).items()}
    d_nnf, d_cost = cuda.to_device(nnf), cuda.to_device(cost)
    launch_cuda("pm_cost_px", (ys.size,), d["ys"], d["xs"], d["tgt"], d["wt"], d["src"], d_nnf, r, d_cost)
    d_nnf2, d_cost2 = cuda.to_device(nnf), cuda.to_device(cost)
    for it in range(its):
        launch_cuda(
            "pm_iterate_px",
            (ys.size,),
            d["ys"],
            d["xs"],
            it,
            seed32,
            jumps[it],
            d["tgt"],
            d["wt"],
            d["src"],
            d["ok"],
            r,
            d_nnf,
            d_cost,
            d_nnf2,
            d_cost2,
        )
        d_nnf, d_nnf2, d_cost, d_cost2 = d_nnf2, d_nnf, d_cost2, d_cost
    return d_nnf.copy_to_host(), d_cost.copy_to_host()


def _jumps(iterations, size):
    """Long-range propagation distance per iteration: halving from size/4, repeating."""
    top = 1
    while top * 8 <= size:
        top *= 2
    seq = []
    d = top
    for _ in range(iterations):
        seq.append(d)
        d = d // 2 if d > 2 else top
    return seq


def vote(nnf, cost, sources, hole, *, patch=7, sigma=None, backend="auto"):
    """Rebuild the hole by averaging, per pixel, the source patches that cover it.

    Every pixel ``q`` with a match proposes, for each pixel ``p`` of its
    patch, the source pixel at the same offset; hole pixels take the mean of
    their proposals weighted by ``exp(-cost[q] / sigma**2)`` [1]_.

    Parameters
    ----------
    nnf : ndarray of int, shape (H, W, 3)
        From :func:`patchmatch`; entries with ``s < 0`` propose nothing.
    cost : ndarray, shape (H, W)
        Matching cost of each entry of ``nnf``.
    sources : ndarray, shape (S, Hs, Ws, C) or (S, Hs, Ws)
    hole : ndarray of bool, shape (H, W)
        Pixels to rebuild.
    patch : odd int, keyword-only
        The patch size the field was computed with.
    sigma : float, optional, keyword-only
        Scale of the cost weighting; default: the square root of the 75th
        percentile of the costs of the matched pixels (0 gives plain means).
    backend : {"auto", "cpu", "cuda"}, keyword-only

    Returns
    -------
    ndarray, float32, shape (H, W, C) (or (H, W) for 3-D ``sources``)
        The vote inside ``hole``; 0 outside it.

    References
    ----------
    .. [1] Y. Wexler, E. Shechtman, M. Irani, "Space-Time Completion of
       Video", IEEE TPAMI 29(3), 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.kernels import vote
    >>> src = np.arange(25, dtype=np.float32).reshape(1, 5, 5)
    >>> nnf = np.full((5, 5, 3), -1, np.int32); nnf[2, 2] = (0, 2, 2)   # identity match
    >>> hole = np.zeros((5, 5), bool); hole[2, 2] = True
    >>> vote(nnf, np.zeros((5, 5), np.float32), src, hole, patch=3, backend="cpu")[2, 2]
    np.float32(12.0)
    """
    field = np.asarray(nnf)
    if field.ndim != 3 or field.shape[2] != 3 or not np.issubdtype(field.dtype, np.integer):
        raise ValueError(f"nnf must be an integer array of shape (H, W, 3), got {describe(field)}")
    h, w, _ = field.shape
    cst = real_float32(cost, "cost", ndim=(2,))
    if cst.shape != (h, w):
        raise ValueError(f"cost must have shape {(h, w)} like nnf, got shape {cst.shape}")
    src = real_float32(sources, "sources", ndim=(3, 4))
    squeeze = src.ndim == 3
    if squeeze:
        src = src[..., None]
    ns, hs, ws, c = src.shape
    hl = bool_mask(hole, "hole", shape=(h, w))
    p = _patch_size(patch)
    r = p // 2
    f = np.ascontiguousarray(field, dtype=np.int32)
    matched = f[:, :, 0] >= 0
    fm = f[matched]
    if fm.size and (
        (fm[:, 0] >= ns).any()
        or (fm[:, 1] < r).any()
        or (fm[:, 1] >= hs - r).any()
        or (fm[:, 2] < r).any()
        or (fm[:, 2] >= ws - r).any()
    ):
        raise ValueError(
            f"nnf points outside the sources for patch={p} (centres must be >= patch // 2 "
            "from the border of a frame that exists)"
        )
    if sigma is None:
        s2 = float(np.percentile(cst[matched], 75)) if matched.any() else 0.0
    else:
        if not isinstance(sigma, (int, float, np.floating)) or not np.isfinite(sigma) or sigma < 0:
            raise ValueError(f"sigma must be a non-negative finite number, got {sigma!r}")
        s2 = float(sigma) ** 2
    inv = np.float32(1.0 / s2) if s2 > 0 else np.float32(0.0)
    target_kind = resolve_backend(backend)
    ys, xs = np.nonzero(hl)
    ys = ys.astype(np.int64)
    xs = xs.astype(np.int64)
    out = np.zeros((h, w, c), np.float32)
    if ys.size:
        if target_kind == "cpu":
            run_cpu("vote_px", (ys.size,), ys, xs, f, cst, src, r, inv, out)
        else:
            from numba import cuda

            d_out = cuda.to_device(out)
            launch_cuda(
                "vote_px",
                (ys.size,),
                cuda.to_device(ys),
                cuda.to_device(xs),
                cuda.to_device(f),
                cuda.to_device(cst),
                cuda.to_device(src),
                r,
                inv,
                d_out,
            )
            out = d_out.copy_to_host()
    return out[:, :, 0] if squeeze else out
