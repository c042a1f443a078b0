"""Fills for pixels no frame shows (DESIGN.md, pipeline step 5).

One key frame at a time: a classical fill (OpenCV TELEA, Navier-Stokes or
xphoto's FSR_FAST), optionally refined by the small network
(:mod:`hybridinpaint.completion.net`, run by OpenCV's dnn:
:mod:`hybridinpaint.completion.refiner`) for structure, optionally textured by
coarse-to-fine PatchMatch (the project's kernels), which copies real patches
from the known part of the frame so the fill is as sharp as its
surroundings. The pipeline propagates the result to the other frames.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from hybridinpaint.completion import refiner
from hybridinpaint.kernels import patchmatch, vote
from hybridinpaint.settings import Settings, resolve

FILLS = ("net", "patch", "fsr", "telea", "ns")


class Fill(NamedTuple):
    """What :func:`fill` returns: the filled frame, PatchMatch's field (or None), and the fill that ran."""

    image: np.ndarray  # (H, W, C) float32
    nnf: np.ndarray | None  # (H, W, 3) int32 (t, y, x) in the frame's coordinates, -1 outside the hole
    method: str  # one of FILLS: what produced the hole's pixels, which may differ from what was asked


def classical(image: np.ndarray, hole: np.ndarray, how: str) -> np.ndarray:
    """Classical single-image fill of ``hole`` in a float32 [0, 1] ``(H, W, C)`` image."""
    c = image.shape[2]
    u8 = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    m = hole.astype(np.uint8) * 255
    chans = [u8[..., k] for k in range(c)] if c not in (1, 3) else [u8]
    out = []
    for ch in chans:
        if how == "fsr":
            src = ch if ch.ndim == 3 else ch[..., None]
            if src.shape[2] == 3:
                src = cv2.cvtColor(src, cv2.COLOR_RGB2Lab)
            dst = np.empty_like(src)
            cv2.xphoto.inpaint(src, (m == 0).astype(np.uint8), dst, cv2.xphoto.INPAINT_FSR_FAST)
            if src.shape[2] == 3:
                dst = cv2.cvtColor(dst, cv2.COLOR_Lab2RGB)
            out.append(dst.reshape(ch.shape))
        else:
            flag = cv2.INPAINT_TELEA if how == "telea" else cv2.INPAINT_NS
            out.append(cv2.inpaint(ch, m, 5, flag).reshape(ch.shape))
    res = out[0] if len(out) == 1 else np.stack(out, -1)
    res = res.reshape(image.shape).astype(np.float32) / 255.0
    # Only the hole changes: keep the float values elsewhere exactly.
    return np.where(hole[..., None], res, image)


def _pyramid_sizes(h, w, coarsest):
    sizes = [(h, w)]
    while min(sizes[-1]) // 2 >= coarsest:
        sizes.append((sizes[-1][0] // 2, sizes[-1][1] // 2))
    return sizes[::-1]


def texture(image: np.ndarray, hole: np.ndarray, guide: np.ndarray, *, settings: Settings, backend: str, seed: int = 0):
    """Coarse-to-fine PatchMatch completion of ``hole`` guided by ``guide``.

    Each level alternates PatchMatch (nearest source patch of every patch
    touching the hole, the hole's pixels counted at weight ``hallucinate.GUIDE`` from
    the current estimate) and voting (each hole pixel the weighted mean of
    the patches covering it), starting from the guide at the coarsest level
    and from the upsampled result at finer ones (Wexler et al. 2007).

    Returns ``(filled (H, W, C), nnf (H, W, 3))``; ``nnf[y, x] = (0, sy, sx)``
    is the centre of the patch each hole pixel's own patch was copied from.
    """

    h, w, c = image.shape
    cfg = settings.hallucinate
    sizes = _pyramid_sizes(h, w, cfg.COARSEST)
    est = None
    nnf = None
    for hs, ws in sizes:
        img = cv2.resize(image, (ws, hs), interpolation=cv2.INTER_AREA).reshape(hs, ws, c)
        hl = cv2.resize(hole.astype(np.float32), (ws, hs), interpolation=cv2.INTER_AREA) > 0
        gd = cv2.resize(guide, (ws, hs), interpolation=cv2.INTER_AREA).reshape(hs, ws, c)
        if est is None:
            est = np.where(hl[..., None], gd, img)
        else:
            up = cv2.resize(est, (ws, hs), interpolation=cv2.INTER_LINEAR).reshape(hs, ws, c)
            est = np.where(hl[..., None], 0.5 * up + 0.5 * gd, img)
            if nnf is not None:
                prev = nnf
                yy, xx = np.mgrid[0:hs, 0:ws]
                py, px = np.minimum(yy // 2, prev.shape[0] - 1), np.minimum(xx // 2, prev.shape[1] - 1)
                nnf = prev[py, px].copy()
                nnf[..., 1] = nnf[..., 1] * 2 + (yy % 2)
                nnf[..., 2] = nnf[..., 2] * 2 + (xx % 2)
        known = ~hl
        if not known.any() or min(hs, ws) < cfg.PATCH:
            continue
        weight = np.where(hl, np.float32(cfg.GUIDE), np.float32(1.0)).astype(np.float32)
        # Large levels start from a good upsampled field: one short round does.
        big = nnf is not None and int(hl.sum()) > cfg.BIG_LEVEL
        for r in range(1 if big else cfg.EM_ROUNDS):
            try:
                nnf, cost = patchmatch(
                    est,
                    hl,
                    img[None],
                    known[None],
                    patch=cfg.PATCH,
                    iterations=2 if big else cfg.PM_ITERS,
                    seed=seed + r,
                    init=nnf,
                    target_weight=weight,
                    backend=backend,
                )
            except ValueError:  # no whole patch of known pixels at this level
                nnf = None
                break
            voted = vote(nnf, cost, img[None], hl, patch=cfg.PATCH, backend=backend)
            est = np.where(hl[..., None], voted, img)
    if est is None or est.shape[:2] != (h, w):
        return np.where(hole[..., None], guide, image), None
    return np.where(hole[..., None], est, image).astype(np.float32), nnf


def context_box(hole: np.ndarray, margin: float = 1.0, least: int = 32):
    """Slices of the hole's bounding box grown by ``margin`` times its size (at least ``least`` px)."""
    ys, xs = np.nonzero(hole)
    h, w = hole.shape
    my = max(least, int(margin * (ys.max() - ys.min() + 1)))
    mx = max(least, int(margin * (xs.max() - xs.min() + 1)))
    return (
        slice(max(0, ys.min() - my), min(h, ys.max() + my + 1)),
        slice(max(0, xs.min() - mx), min(w, xs.max() + mx + 1)),
    )


def guide_fsr(image: np.ndarray, hole: np.ndarray, *, pixels: int) -> np.ndarray:
    """FSR fill, at a reduced scale for holes of more than ``pixels`` pixels, upsampled into the hole."""
    scale = min(1.0, float(np.sqrt(pixels / max(int(hole.sum()), 1))))
    if scale >= 0.9:
        return classical(image, hole, "fsr")
    h, w, c = image.shape
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], c)
    small_hole = cv2.resize(hole.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
    fsr = classical(small, small_hole, "fsr")
    up = cv2.resize(fsr, (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, c)
    return np.where(hole[..., None], np.clip(up, 0, 1), image).astype(np.float32)


def fill(
    image: np.ndarray,
    hole: np.ndarray,
    how: str,
    *,
    settings: Settings | None = None,
    backend: str = "cpu",
    weights=None,
    guide: str = "fsr",
) -> Fill:
    """Fill ``hole`` of a float32 [0, 1] ``(H, W, C)`` key frame.

    ``how``: ``"telea"``, ``"ns"``, ``"fsr"`` (classical), ``"patch"`` (FSR,
    then PatchMatch texture), ``"net"`` (the classical fill the network's
    weights were trained on, TELEA for the shipped ones, refined by the
    network, then PatchMatch texture guided by it; RGB frames only, others
    use ``"patch"``). The PatchMatch fills work on the hole's surroundings (its
    bounding box grown by its own size), which is what they draw on, and
    take their FSR guide at a reduced scale for large holes, so their cost
    does not grow with the frame. ``guide="telea"`` takes TELEA instead of
    FSR as PatchMatch's guide (FSR costs about 0.1 ms per missing pixel, and
    more on a large context; TELEA a few ms). Returns ``(filled, nnf or
    None, method)`` (:class:`Fill`), the field in the frame's coordinates;
    ``method`` names the fill that produced the hole's pixels (``"patch"``
    for ``"net"`` on frames that are not RGB, the guide's name where the
    hole's surroundings are too small for PatchMatch).
    """

    settings = resolve(settings)
    if how not in FILLS:
        raise ValueError(f"hallucinate must be one of {FILLS!r}, got {how!r}")
    if how in ("telea", "ns", "fsr"):
        return Fill(classical(image, hole, how), None, how)
    out = image.copy()
    if not hole.any():
        return Fill(out, None, how)
    by, bx = context_box(hole)
    img, hl = np.ascontiguousarray(image[by, bx]), np.ascontiguousarray(hole[by, bx])
    if guide not in ("fsr", "telea"):
        raise ValueError(f"guide must be 'fsr' or 'telea', got {guide!r}")
    use_net = how == "net" and image.shape[2] == 3
    if use_net and _net_first(weights) == "telea":
        guide = "telea"  # the network refines TELEA: no FSR to compute
    cfg = settings.hallucinate
    first = guide_fsr(img, hl, pixels=cfg.GUIDE_PIXELS) if guide == "fsr" else classical(img, hl, "telea")
    if use_net:
        first = _net_guide(first, hl, weights, max_side=cfg.NET_MAX_SIDE)
    part, nnf = texture(img, hl, first, settings=settings, backend=backend)
    out[by, bx] = part
    if nnf is None:  # too small a context for PatchMatch: the guide is the fill
        return Fill(out, None, "net" if use_net else guide)
    full = np.full(hole.shape + (3,), -1, np.int32)
    nnf = nnf.copy()
    nnf[..., 1] += by.start
    nnf[..., 2] += bx.start
    full[by, bx] = nnf
    return Fill(out, full, "net" if use_net else "patch")


def _net_first(weights) -> str:
    return refiner.first_fill(weights)


def _net_guide(guide, hole, weights, *, max_side: int):
    by, bx = context_box(hole, margin=0.0, least=32)
    crop, hc = guide[by, bx], hole[by, bx]
    alt = classical(np.where(hc[..., None], 0.0, crop).astype(np.float32), hc, "telea")
    ch, cw = hc.shape
    scale = min(1.0, max_side / max(ch, cw))
    if scale < 1.0:
        size = (max(8, round(cw * scale)), max(8, round(ch * scale)))
        small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        small_alt = cv2.resize(alt, size, interpolation=cv2.INTER_AREA)
        hs = cv2.resize(hc.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
        corr = refiner.refine(small, small_alt, hs, weights=weights) - small
        corr = cv2.resize(corr, (cw, ch), interpolation=cv2.INTER_LINEAR)
        refined = np.clip(crop + corr, 0, 1)
    else:
        refined = refiner.refine(crop, alt, hc, weights=weights)
    out = guide.copy()
    out[by, bx] = np.where(hc[..., None], refined, crop)
    return out
