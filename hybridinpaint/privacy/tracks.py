"""Faces through time: per-frame detections linked into tracks, carried through the detector's misses.

A track starts from detections linked by box overlap (Hungarian assignment)
and is kept when one of them reaches the threshold. Before its first and
after its last detection, the face is *carried*: its pixels at the nearest
detection are searched for in the neighbouring frames (normalised
cross-correlation at three sizes, in a window around the last position),
frame by frame, for as long as they match. A detector misses faces that
turn, tilt or shrink for a few frames; what it saw a frame earlier is still
there, a little moved, and matching it finds where. Gaps between
detections are interpolated; the boxes are smoothed and grown from the face
to the whole head.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from hybridinpaint.privacy.faces import check_threshold
from hybridinpaint.settings import Privacy as PrivacySettings
from hybridinpaint.settings import resolve

__all__ = ["Track", "box_iou", "link_tracks", "head_box"]


@dataclass
class Track:
    """One face through time: per frame of ``frames``, the grown box and the detector's score.

    ``boxes`` ``(n, 4)`` float32 ``x1, y1, x2, y2``; ``scores`` ``(n,)``
    float32, NaN where no detection was linked (carried, interpolated or
    held); ``carried`` ``(n,)`` bool: the face was followed by matching its
    pixels there, not found by the detector.
    """

    id: int
    frames: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    carried: np.ndarray | None = None

    def __post_init__(self):
        if self.carried is None:
            self.carried = np.zeros(len(self.frames), bool)

    def box_at(self, t: int):
        i = np.searchsorted(self.frames, t)
        if i < self.frames.size and self.frames[i] == t:
            return self.boxes[i]
        return None


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (N, 4) with every box in ``b`` (M, 4)."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-6)


def head_box(face: np.ndarray, shape, cfg: PrivacySettings) -> np.ndarray:
    """The head around face boxes ``(N, 4)`` (the detector's, brows to chin): grown and raised, clipped to ``shape``."""
    face = np.asarray(face, np.float32).reshape(-1, 4)
    cx, cy = (face[:, 0] + face[:, 2]) / 2, (face[:, 1] + face[:, 3]) / 2
    bw, bh = face[:, 2] - face[:, 0], face[:, 3] - face[:, 1]
    cy = cy - cfg.RAISE * bh
    bw, bh = bw * cfg.GROW_W, bh * cfg.GROW_H
    out = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], -1)
    out[:, 0::2] = np.clip(out[:, 0::2], 0, shape[1])
    out[:, 1::2] = np.clip(out[:, 1::2], 0, shape[0])
    return out.astype(np.float32)


def link_tracks(
    detections,
    shape,
    *,
    threshold=None,
    frame_at: Callable[[int], np.ndarray] | None = None,
    settings=None,
) -> list[Track]:
    """Tracks from per-frame detections; boxes are the grown head boxes.

    ``detections``: a list of ``(N, 5)`` arrays, one per frame (from
    :func:`hybridinpaint.privacy.detect` at ``privacy.LINK_FRACTION *
    threshold`` or lower); ``shape``: the frames' ``(H, W)``.
    ``frame_at(t)``, when given, returns frame ``t`` as ``(H, W)`` uint8
    grey; each track is then carried beyond its ends by matching (up to
    ``privacy.CARRY`` frames each way), before it is held ``privacy.HOLD``
    frames more.
    """
    from scipy.optimize import linear_sum_assignment

    cfg = resolve(settings).privacy
    threshold = check_threshold(cfg.THRESHOLD if threshold is None else threshold, "threshold")
    h, w = shape[:2]
    link = cfg.LINK_FRACTION * threshold
    raw: list[dict] = []  # frames, boxes, scores of each track so far
    active: list[int] = []
    for t, dets in enumerate(detections):
        dets = np.asarray(dets, np.float32).reshape(-1, 5)
        dets = dets[dets[:, 4] >= link]
        active = [i for i in active if t - raw[i]["frames"][-1] <= cfg.MAX_GAP]
        matched = set()
        if active and len(dets):
            last = np.array([raw[i]["boxes"][-1] for i in active], np.float32)
            iou = box_iou(last, dets[:, :4])
            rows, cols = linear_sum_assignment(-iou)
            for r, c in zip(rows, cols):
                if iou[r, c] >= cfg.MIN_IOU:
                    tr = raw[active[r]]
                    tr["frames"].append(t)
                    tr["boxes"].append(dets[c, :4])
                    tr["scores"].append(float(dets[c, 4]))
                    matched.add(int(c))
        for c in range(len(dets)):
            if c not in matched:
                raw.append({"frames": [t], "boxes": [dets[c, :4]], "scores": [float(dets[c, 4])]})
                active.append(len(raw) - 1)
    tracks = []
    for tr in raw:
        if max(tr["scores"]) < threshold:
            continue
        if frame_at is not None and cfg.CARRY > 0:
            _carry_ends(tr, len(detections), frame_at, cfg)
        tracks.append(_finish_track(len(tracks), tr, len(detections), h, w, cfg))
    return tracks


def _carry_ends(tr: dict, count: int, frame_at, cfg: PrivacySettings) -> None:
    """Extend ``tr`` (lists of frames, boxes, scores) before its first and after its last detection by matching."""
    first, last = tr["frames"][0], tr["frames"][-1]
    before = carry(tr["boxes"][0], first, -1, max(-1, first - cfg.CARRY - 1), frame_at, cfg)
    after = carry(tr["boxes"][-1], last, 1, min(count, last + cfg.CARRY + 1), frame_at, cfg)
    tr["carried"] = [t for t, _ in before] + [t for t, _ in after]
    tr["frames"] = [t for t, _ in before[::-1]] + tr["frames"] + [t for t, _ in after]
    tr["boxes"] = [b for _, b in before[::-1]] + tr["boxes"] + [b for _, b in after]
    tr["scores"] = [np.nan] * len(before) + tr["scores"] + [np.nan] * len(after)


_SIZES = (0.93, 1.0, 1.07)  # zoom between neighbouring frames the match follows


def carry(box, t0: int, step: int, stop: int, frame_at, cfg: PrivacySettings) -> list[tuple[int, np.ndarray]]:
    """``[(t, face box)]`` for ``t = t0 + step, ...`` (before ``stop``) while the face at ``t0`` is found again.

    The face's pixels at ``t0`` (its box, half again as large to take in
    the hair) are the template; each frame is searched within one box size
    of where the face was last, at three sizes; the track ends at the first
    frame whose best normalised cross-correlation is below
    ``cfg.CARRY_NCC`` or where the face leaves the picture.
    """
    ref = frame_at(t0)
    h, w = ref.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    cx, cy, bw, bh = (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1
    tw, th = 1.5 * bw, 1.5 * bh
    tx1, ty1 = int(round(cx - tw / 2)), int(round(cy - th / 2))
    tx2, ty2 = int(round(cx + tw / 2)), int(round(cy + th / 2))
    if tx1 < 0 or ty1 < 0 or tx2 > w or ty2 > h or min(tx2 - tx1, ty2 - ty1) < 8:
        return []  # a face at the edge or too small to match reliably
    anchor = np.ascontiguousarray(ref[ty1:ty2, tx1:tx2])
    out = []
    scale = 1.0
    for t in range(t0 + step, stop, step):
        img = frame_at(t)
        best = (-1.0, 0.0, 0.0, scale)
        for s in _SIZES:
            size = (max(8, round(anchor.shape[1] * scale * s)), max(8, round(anchor.shape[0] * scale * s)))
            tmpl = cv2.resize(anchor, size, interpolation=cv2.INTER_AREA)
            sx1 = int(max(0, round(cx - size[0] / 2 - bw * scale)))
            sy1 = int(max(0, round(cy - size[1] / 2 - bh * scale)))
            sx2 = int(min(w, round(cx + size[0] / 2 + bw * scale)))
            sy2 = int(min(h, round(cy + size[1] / 2 + bh * scale)))
            if sx2 - sx1 < size[0] or sy2 - sy1 < size[1]:
                continue
            ncc = cv2.matchTemplate(img[sy1:sy2, sx1:sx2], tmpl, cv2.TM_CCOEFF_NORMED)
            _, score, _, (mx, my) = cv2.minMaxLoc(ncc)
            if score > best[0]:
                best = (score, sx1 + mx + size[0] / 2, sy1 + my + size[1] / 2, scale * s)
        score, ncx, ncy, nscale = best
        if score < cfg.CARRY_NCC:
            break
        cx, cy, scale = ncx, ncy, nscale
        if not (0 <= cx < w and 0 <= cy < h):
            break
        fw, fh = bw * scale, bh * scale
        out.append((t, np.float32([cx - fw / 2, cy - fh / 2, cx + fw / 2, cy + fh / 2])))
    return out


def _finish_track(ident: int, tr: dict, count: int, h: int, w: int, cfg: PrivacySettings) -> Track:
    seen = np.asarray(tr["frames"])
    boxes = np.asarray(tr["boxes"], np.float32)
    first, last = max(0, seen[0] - cfg.HOLD), min(count - 1, seen[-1] + cfg.HOLD)
    frames = np.arange(first, last + 1)
    # centre x, centre y, width, height: interpolated between detections, held beyond them
    cwh = np.stack(
        [
            (boxes[:, 0] + boxes[:, 2]) / 2,
            (boxes[:, 1] + boxes[:, 3]) / 2,
            boxes[:, 2] - boxes[:, 0],
            boxes[:, 3] - boxes[:, 1],
        ],
        -1,
    )
    full = np.stack([np.interp(frames, seen, cwh[:, k]) for k in range(4)], -1)
    if cfg.SMOOTH > 1 and frames.size > 1:
        pad = cfg.SMOOTH // 2
        padded = np.pad(full, ((pad, pad), (0, 0)), mode="edge")
        kernel = np.ones(cfg.SMOOTH) / cfg.SMOOTH
        smooth = np.stack([np.convolve(padded[:, k], kernel, mode="valid") for k in range(4)], -1)
        full[:, :2] = smooth[:, :2]
        # never smaller than what was seen: a face that grows fast stays covered
        full[:, 2:] = np.maximum(smooth[:, 2:], full[:, 2:])
    cx, cy, bw, bh = full.T
    face = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], -1)
    scores = np.full(frames.size, np.nan, np.float32)
    scores[seen - first] = tr["scores"]
    carried = np.zeros(frames.size, bool)
    carried[np.asarray(tr.get("carried", []), int) - first] = True
    return Track(ident, frames, head_box(face, (h, w), cfg), scores, carried)
