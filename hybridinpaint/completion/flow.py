"""Optical flow between neighbouring frames, and its completion inside holes.

Flow follows OpenCV's layout: ``(H, W, 2)`` float32, ``[..., 0] = dx``,
``[..., 1] = dy``. ``forward[t]`` maps frame ``t`` to ``t + 1`` (defined on
frame ``t``'s pixels), ``backward[t]`` maps frame ``t + 1`` back to ``t``
(defined on frame ``t + 1``'s pixels).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from hybridinpaint.kernels import diffuse, warp_backward, warp_backward_frames, warp_forward
from hybridinpaint.settings import Settings

METHODS = ("dis", "farneback", "dualtvl1", "rlof")

# Smallest side the estimators accept (DIS needs 12 px in width or height).
_MIN_FLOW_SIDE = 16


def _grey_u8(frame: np.ndarray) -> np.ndarray:
    """A float32 [0, 1] ``(H, W, C)`` frame as 8-bit grey."""
    if frame.shape[2] >= 3:
        g = frame[:, :, 0] * 0.299 + frame[:, :, 1] * 0.587 + frame[:, :, 2] * 0.114
    else:
        g = frame[:, :, 0]
    return np.clip(g * 255.0 + 0.5, 0, 255).astype(np.uint8)


def prefill(frames: np.ndarray, masks: np.ndarray, backend: str, *, scale: int = 1) -> np.ndarray:
    """Grey 8-bit frames with holes filled smoothly, so the estimator does not see black.

    The fill is the membrane (Laplace) interpolation of the surrounding grey
    values; it is only for flow estimation, never shown. ``scale`` > 1
    solves it at that fraction of the size (see :func:`diffuse_reduced`),
    which a live stream, paying per frame, can afford to lose.
    """
    out = np.empty(frames.shape[:3], np.uint8)
    for t in range(frames.shape[0]):
        g = _grey_u8(frames[t])
        if masks[t].any() and not masks[t].all():
            g = diffuse_reduced(g.astype(np.float32), masks[t], scale, 1e-3, backend)
            g = np.clip(g + 0.5, 0, 255).astype(np.uint8)
        out[t] = g
    return out


def diffuse_reduced(field: np.ndarray, unknown: np.ndarray, scale: int, tol: float, backend: str) -> np.ndarray:
    """``kernels.diffuse`` of ``field`` (H, W) or (H, W, C) inside ``unknown``, solved at 1/``scale`` of the size.

    A reduced pixel is unknown if any of its pixels is; the solution is
    interpolated back (bilinear) inside ``unknown``, and everything outside
    keeps its value exactly. Solved at full size where ``scale`` is 1, the
    frame is under 32 x ``scale`` pixels on a side, or every reduced pixel
    would be unknown.
    """

    h, w = unknown.shape
    s = int(scale)
    if s > 1 and min(h, w) >= 32 * s:
        size = (w // s, h // s)
        small_unk = cv2.resize(unknown.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
        if not small_unk.all():
            sol = diffuse(cv2.resize(field, size, interpolation=cv2.INTER_AREA), small_unk, tol=tol, backend=backend)
            out = field.copy()
            out[unknown] = cv2.resize(sol, (w, h), interpolation=cv2.INTER_LINEAR)[unknown]
            return out
    return diffuse(field, unknown, tol=tol, backend=backend)


def estimator(method: str):
    """A function ``calc(a, b) -> (H, W, 2)`` flow from 8-bit grey frame ``a`` to ``b``.

    ``method`` is one of :data:`METHODS`; each call of :func:`estimator`
    makes a fresh OpenCV object, so one estimator serves one thread.
    """
    if method == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return lambda a, b: dis.calc(a, b, None)
    if method == "farneback":
        return lambda a, b: cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 4, 15, 3, 5, 1.2, 0)
    if method == "dualtvl1":
        tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
        return lambda a, b: tvl1.calc(a, b, None)
    if method == "rlof":
        return lambda a, b: cv2.optflow.calcOpticalFlowDenseRLOF(
            cv2.cvtColor(a, cv2.COLOR_GRAY2BGR), cv2.cvtColor(b, cv2.COLOR_GRAY2BGR), None
        )
    raise ValueError(f"flow must be one of {METHODS!r}, got {method!r}")


def working_size(h: int, w: int, *, settings: Settings) -> tuple[int, int]:
    """``(h, w)`` at which flow is estimated and completed: at most ``flow.MAX_FLOW_WIDTH`` (640) px wide."""
    scale = min(1.0, settings.flow.MAX_FLOW_WIDTH / w)
    if scale == 1.0:
        return h, w
    return max(8, round(h * scale)), max(8, round(w * scale))


def downscale(frames: np.ndarray, hole: np.ndarray, size: tuple[int, int]):
    """Float frames ``(T, H, W, C)`` and holes at ``size``; a low-res pixel is a hole if any of it is."""
    hs, ws = size
    if (hs, ws) == frames.shape[1:3]:
        return frames, hole
    small = np.stack([cv2.resize(f, (ws, hs), interpolation=cv2.INTER_AREA).reshape(hs, ws, -1) for f in frames])
    holes = np.stack([cv2.resize(m.astype(np.float32), (ws, hs), interpolation=cv2.INTER_AREA) > 0 for m in hole])
    return small, holes


def upscale(flows: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Flows ``(N, h, w, 2)`` resized to ``size = (H, W)``, vectors scaled with them."""
    h, w = size
    if flows.shape[1:3] == (h, w):
        return flows
    out = np.empty((flows.shape[0], h, w, 2), np.float32)
    factor = np.float32([w / flows.shape[2], h / flows.shape[1]])
    for k, f in enumerate(flows):
        # Into the output and scaled there: no frame-sized temporaries (20 flows at 1080p on 2 cores:
        # 0.35 s instead of 0.7-1.2, the same bits).
        cv2.resize(f, (w, h), dst=out[k], interpolation=cv2.INTER_LINEAR)
        out[k] *= factor
    return out


def estimate(grey: np.ndarray, method: str = "dis") -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward flow between neighbours of 8-bit grey frames ``(T, H, W)``.

    Returns two ``(T - 1, H, W, 2)`` float32 arrays. Callers downscale large
    frames first (:func:`working_size`).
    """
    n = max(grey.shape[0] - 1, 0)
    both = estimate_pairs(grey, [(k, k + 1) for k in range(n)] + [(k + 1, k) for k in range(n)], method)
    return both[:n], both[n:]


def estimate_pairs(grey: np.ndarray, pairs, method: str = "dis") -> np.ndarray:
    """Flow from frame ``a`` to frame ``b`` of 8-bit grey frames ``(T, H, W)`` for each ``(a, b)`` in ``pairs``.

    Returns ``(len(pairs), H, W, 2)`` float32. The pairs are shared among
    as many threads as OpenCV uses (``cv2.getNumThreads()``), each with its
    own estimator: one DIS call keeps few cores busy, so on 2 cores the
    flows of 40 frames took 0.59 s instead of 0.82 at 432x240 and 1.2 s
    instead of 1.8 at 640x360 (bmx-trees), to the bit the same.
    """
    if method not in METHODS:
        raise ValueError(f"flow must be one of {METHODS!r}, got {method!r}")
    t, h, w = grey.shape
    # DIS refuses frames under 12 px on both sides: pad tiny ones by replication.
    pad_y, pad_x = max(0, _MIN_FLOW_SIDE - h), max(0, _MIN_FLOW_SIDE - w)
    if pad_y or pad_x:
        grey = np.pad(grey, ((0, 0), (0, pad_y), (0, pad_x)), mode="edge")
    out = np.empty((len(pairs), h, w, 2), np.float32)

    def run(jobs):
        calc = estimator(method)
        for i in jobs:
            a, b = pairs[i]
            out[i] = calc(grey[a], grey[b]).astype(np.float32)[:h, :w]

    workers = min(len(pairs), max(1, cv2.getNumThreads()))
    if workers <= 1:
        run(range(len(pairs)))
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="hybridinpaint-flow") as pool:
            # Every workers-th pair to each thread: neighbouring pairs cost alike.
            list(pool.map(run, [range(i, len(pairs), workers) for i in range(workers)]))
    return out


def estimate_frames(frames: np.ndarray, method: str = "dis") -> tuple[np.ndarray, np.ndarray]:
    """:func:`estimate` on float32 [0, 1] ``(T, H, W, C)`` frames, made 8-bit grey as :func:`prefill` does."""
    return estimate(np.stack([_grey_u8(f) for f in frames]), method)


def within(masks: np.ndarray, radius: float) -> np.ndarray:
    """Pixels at most ``radius`` from a True pixel of each ``(H, W)`` mask (the masks included)."""
    out = np.empty_like(masks)
    for k, m in enumerate(masks):
        if not m.any():
            out[k] = False
            continue
        dist = cv2.distanceTransform((~m).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        out[k] = dist <= radius
    return out


def foreground_near(
    flow: np.ndarray, unknown: np.ndarray, ring: int, *, wobble: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Pixels near ``unknown`` whose flow disagrees with the background motion, and those that stand out.

    The background motion is a homography fitted by RANSAC to the flow
    outside the hole. Objects moving on their own at the hole's edge are its
    outliers; were they kept as boundary values, the completed flow would
    carry them into the hole (and their colours with it). A vector is an
    outlier (``foreground``) when it misses the homography by more than 1 px
    and 10% of the background's motion. It is also ``distinct`` when it misses
    by more than ``wobble`` times the median miss over the frame as well:
    where the background itself wobbles (a scan of shrunken film bends each
    frame its own way), only such motion is surely an object's. Returns two
    empty masks when no homography explains most of the frame.
    """
    h, w = unknown.shape
    step = max(4, int(np.sqrt(h * w / 2500)))
    ys, xs = np.mgrid[step // 2 : h : step, step // 2 : w : step]
    keep = ~unknown[ys, xs]
    ys, xs = ys[keep], xs[keep]
    if ys.size < 16:
        return np.zeros_like(unknown), np.zeros_like(unknown)
    src = np.stack([xs, ys], -1).astype(np.float32)
    dst = src + flow[ys, xs]
    hom, inl = cv2.findHomography(src, dst, cv2.RANSAC, 1.0)
    if hom is None or inl.mean() < 0.5:
        return np.zeros_like(unknown), np.zeros_like(unknown)
    # Most samples are background (the inliers are): the median miss is the background's wobble.
    miss = float(np.median(np.hypot(*(cv2.perspectiveTransform(src[None], hom)[0] - dst).T)))
    band = within(unknown[None], ring)[0] & ~unknown
    by, bx = np.nonzero(band)
    pts = np.stack([bx, by], -1).astype(np.float32)[None]
    model = cv2.perspectiveTransform(pts, hom)[0] - pts[0]
    dev = np.hypot(*(flow[by, bx] - model).T)
    out, distinct = np.zeros_like(unknown), np.zeros_like(unknown)
    out[by, bx] = dev > np.maximum(1.0, 0.1 * np.hypot(*model.T))
    distinct[by, bx] = out[by, bx] & (dev > wobble * miss)
    return out, distinct


def inconsistent(flow: np.ndarray, back: np.ndarray, backend: str, tau_abs: float, tau_rel: float) -> np.ndarray:
    """Pixels where following ``flow`` then ``back`` does not return home.

    ``flow`` is defined on one frame, ``back`` on the frame it points into;
    a pixel fails when ``|flow + back(p + flow)| > tau_abs + tau_rel |flow|``
    or when ``flow`` leaves the frame. Both ``(H, W, 2)``, or stacks
    ``(N, H, W, 2)`` of such pairs (checked at once, the same bits).
    """

    warp = warp_backward_frames if flow.ndim == 4 else warp_backward
    there, valid = warp(back, flow, backend=backend)
    err = np.hypot(flow[..., 0] + there[..., 0], flow[..., 1] + there[..., 1])
    return ~valid | (err > tau_abs + tau_rel * np.hypot(flow[..., 0], flow[..., 1]))


def complete_pair(fwd, bwd, unknown, backend: str, *, settings: Settings, carry: bool = True):
    """Complete forward and backward flows inside ``unknown`` (``(T, H, W)``).

    Besides the holes themselves, two kinds of pixels near a hole (within
    ``flow.RING``) are completed rather than trusted: foreground motion (see
    :func:`foreground_near`) and pixels whose forward and backward flows
    disagree. The estimator's coarse levels see the pre-filled hole, and
    around it under fast motion its flow is wrong by several pixels; such
    wrong boundary values would be carried into the whole hole.

    With ``carry``, foreground motion seen next to a hole in one frame is
    carried into the next frame's hole first (see :func:`carry_motion`), and
    only the rest is completed from the background: an object walking into a
    hole keeps walking instead of freezing with the background.
    """
    ring, checks = settings.flow.RING, settings.propagate
    near = within(unknown, ring)
    n = fwd.shape[0]
    unk_f = unknown[:-1].copy()
    unk_b = unknown[1:].copy()
    # Checked as stacks where a hole is near (one transfer each way on CUDA).
    has_near = near.reshape(near.shape[0], -1).any(axis=1)
    ks = np.flatnonzero(has_near[:-1])  # forward flow k lives on frame k
    if ks.size:
        unk_f[ks] |= near[ks] & inconsistent(fwd[ks], bwd[ks], backend, checks.TAU_ABS, checks.TAU_REL)
    ks = np.flatnonzero(has_near[1:])  # backward flow k lives on frame k + 1
    if ks.size:
        unk_b[ks] |= near[ks + 1] & inconsistent(bwd[ks], fwd[ks], backend, checks.TAU_ABS, checks.TAU_REL)
    fg_f, ds_f = _foreground_chain(fwd, unk_f, ring, settings.flow.WOBBLE)
    fg_b, ds_b = _foreground_chain(bwd, unk_b, ring, settings.flow.WOBBLE)
    if not carry or n < 2:
        return complete(fwd, unk_f | fg_f, backend, settings=settings), complete(
            bwd, unk_b | fg_b, backend, settings=settings
        )
    # Forward flows run forward in time: fwd[t - 1] (frame t - 1) lands on frame t,
    # and is steady where it undoes bwd[t - 2] (frame t - 1 back to t - 2).
    cf, known_f = carry_motion(fwd, unk_f, fg_f, ds_f, [None] + list(bwd[:-1]), backend, settings=settings)
    # Backward flows run backward in time: bwd[t + 1] (frame t + 2) lands on frame t + 1,
    # and is steady where it undoes fwd[t + 2] (frame t + 2 on to t + 3).
    rb, known_rb = carry_motion(
        bwd[::-1], unk_b[::-1], fg_b[::-1], ds_b[::-1], [None] + list(fwd[:0:-1]), backend, settings=settings
    )
    cb, known_b = rb[::-1], known_rb[::-1]
    return (
        complete(cf, (unk_f | fg_f) & ~known_f, backend, settings=settings),
        complete(cb, (unk_b | fg_b) & ~known_b, backend, settings=settings),
    )


def _foreground_chain(flows, unknown, ring, wobble):
    """:func:`foreground_near` of each flow of a chain: ``(foreground, distinct)``, each ``(N, H, W)``."""
    none = np.zeros(unknown.shape[1:], bool)
    pairs = [foreground_near(f, u, ring, wobble=wobble) if u.any() else (none, none) for f, u in zip(flows, unknown)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def carry_motion(flows, unknown, foreground, distinct, previous, backend: str, *, settings: Settings):
    """Foreground motion next to a hole carried one frame on, into the next frame's hole.

    ``flows[k]`` (``(N, H, W, 2)``) are the flows of a chain of frames in
    time order, each pointing at the next frame of the chain; ``unknown[k]``
    where ``flows[k]`` is not trusted; ``foreground[k]`` motion that differs
    from the background's, ``distinct[k]`` motion that stands out of the
    background's wobble too (:func:`foreground_near`); ``previous[k]`` the
    flow from frame k of the chain back to the frame before it (None for
    the first).

    A trusted distinct vector whose motion was steady over the step before
    it (it undoes ``previous``: constant velocity held) is splatted along
    itself onto the next frame, where it becomes that frame's flow if the
    pixel it lands on was to be completed. Only one frame on: further on,
    the measured gains turned into losses (issue 15 in RESULTS.md).
    Returns the flows with the carried vectors in, and where they went.
    """

    cfg = settings.flow
    out = flows.copy()
    carried = np.zeros(unknown.shape, bool)
    for k in range(1, flows.shape[0]):
        back = previous[k - 1]
        if back is None or not (unknown[k] | foreground[k]).any():
            continue
        v = flows[k - 1]
        speed = np.hypot(v[..., 0], v[..., 1])
        steady = np.hypot(v[..., 0] + back[..., 0], v[..., 1] + back[..., 1]) <= cfg.STEADY_ABS + cfg.STEADY_REL * speed
        source = distinct[k - 1] & ~unknown[k - 1] & steady
        if not source.any():
            continue
        data = np.concatenate([v * source[..., None], source[..., None]], axis=-1).astype(np.float32)
        mean, weight = warp_forward(data, v, backend=backend)
        landed = weight * mean[..., 2]
        take = (unknown[k] | foreground[k]) & (landed >= cfg.CARRY_WEIGHT)
        out[k][take] = mean[take, :2] / mean[take, 2:3]
        carried[k] = take
    return out, carried


def complete(flows: np.ndarray, unknown: np.ndarray, backend: str, *, settings: Settings, weights=None) -> np.ndarray:
    """Replace each flow inside ``unknown[k]`` by its Laplace completion from outside.

    Without ``weights`` the completion is solved on a copy reduced by
    ``flow.COMPLETE_SCALE`` (see :func:`diffuse_reduced`); pixels outside
    ``unknown`` keep their values exactly.
    """

    cfg = settings.flow
    out = flows.copy()
    for k in range(flows.shape[0]):
        unk = unknown[k]
        if not unk.any() or unk.all():
            continue
        if weights is None:
            out[k] = diffuse_reduced(flows[k], unk, cfg.COMPLETE_SCALE, cfg.FLOW_TOL, backend)
        else:
            out[k] = diffuse(flows[k], unk, weights=weights[k], tol=cfg.FLOW_TOL, backend=backend)
    return out


def dilate(masks: np.ndarray, radius: int) -> np.ndarray:
    """Each mask grown by ``radius`` pixels (a disc)."""
    if radius <= 0:
        return masks.copy()
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return np.stack([cv2.dilate(m.view(np.uint8), k).view(bool) for m in masks])
