"""Privacy: find faces, follow them through the video, remove them, and check that none is left.

Stages, each usable alone:

1. :func:`detect` — the bundled face detector (:mod:`hybridinpaint.privacy.faces`)
   on every frame, at a low *link* threshold.
2. :func:`link_tracks` — detections joined into tracks by box overlap
   (Hungarian assignment); a track is kept if one of its detections reaches
   the threshold (hysteresis: weak detections of a face that was seen
   clearly extend it, weak detections alone are dropped). Frames a
   detector misses inside a track are interpolated, each track is held a
   few frames beyond its ends, its boxes are smoothed and grown from the
   face to the whole head.
3. :func:`track_masks` — an ellipse per track and frame (a rectangle for
   ``mode="box"``).
4. The fill: :func:`hybridinpaint.inpaint` (``"remove"``: pixels from the
   background, with provenance), a strong blur, or a black box.
5. :func:`verify` — the detector again on the result at a lower threshold;
   a hit centred in a track's box is a leak.

Every stage's output is in the record (:func:`build_record`), checked against
:data:`RECORD_SCHEMA`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from hybridinpaint.completion import arrays as _arrays
from hybridinpaint.completion.pipeline import inpaint
from hybridinpaint.privacy.faces import MODEL, FaceDetector
from hybridinpaint.privacy.faces import check_threshold as _check_threshold
from hybridinpaint.settings import Privacy as PrivacySettings
from hybridinpaint.settings import resolve

__all__ = [
    "anonymize",
    "AnonymizeResult",
    "Track",
    "detect",
    "link_tracks",
    "box_iou",
    "track_masks",
    "verify",
    "build_record",
    "frame_mask",
    "record_tracks",
    "RECORD_SCHEMA",
    "MODES",
]

MODES = ("remove", "blur", "box")


@dataclass
class Track:
    """One face through time: per frame of ``frames``, the grown box and the detector's score.

    ``boxes`` ``(n, 4)`` float32 ``x1, y1, x2, y2``; ``scores`` ``(n,)``
    float32, NaN where no detection was linked (interpolated or held).
    """

    id: int
    frames: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray

    def box_at(self, t: int):
        i = np.searchsorted(self.frames, t)
        if i < self.frames.size and self.frames[i] == t:
            return self.boxes[i]
        return None


@dataclass
class AnonymizeResult:
    """What :func:`anonymize` returns with ``return_result=True``."""

    frames: np.ndarray
    masks: np.ndarray  # (T, H, W) bool: what was replaced
    tracks: list
    leaks: list  # per leak: {"frame", "box", "score", "track"}
    detections: list = field(default_factory=list)  # per frame (N, 5), at the link threshold
    record: dict = field(default_factory=dict)


def detect(frames, *, threshold=None, detector=None, progress=False, settings=None) -> list[np.ndarray]:
    """Face boxes ``(N, 5)`` (``x1, y1, x2, y2, score``) per frame of ``frames`` ``(T, H, W[, C])``.

    ``frames`` may be any iterable of RGB images (uint8, uint16 or float in
    [0, 1]); ``threshold`` is the lowest score kept.
    """
    from tqdm.auto import tqdm

    settings = resolve(settings)
    threshold = _check_threshold(settings.privacy.THRESHOLD if threshold is None else threshold, "threshold")
    det = detector if detector is not None else FaceDetector(settings=settings)
    return [det(f, threshold) for f in tqdm(frames, desc="finding faces", unit="frame", disable=not progress)]


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


def link_tracks(detections, shape, *, threshold=None, settings=None) -> list[Track]:
    """Tracks from per-frame detections (see the module's stage 2); boxes are the grown head boxes.

    ``detections``: a list of ``(N, 5)`` arrays, one per frame (from
    :func:`detect` at ``privacy.LINK_FRACTION * threshold`` or lower); ``shape``:
    the frames' ``(H, W)``.
    """
    from scipy.optimize import linear_sum_assignment

    cfg = resolve(settings).privacy
    threshold = _check_threshold(cfg.THRESHOLD if threshold is None else threshold, "threshold")
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
        tracks.append(_finish_track(len(tracks), tr, len(detections), h, w, cfg))
    return tracks


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
    cy = cy - cfg.RAISE * bh
    bw, bh = bw * cfg.GROW_W, bh * cfg.GROW_H
    grown = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], -1)
    grown[:, 0::2] = np.clip(grown[:, 0::2], 0, w)
    grown[:, 1::2] = np.clip(grown[:, 1::2], 0, h)
    scores = np.full(frames.size, np.nan, np.float32)
    scores[seen - first] = tr["scores"]
    return Track(ident, frames, grown.astype(np.float32), scores)


def _draw(mask: np.ndarray, box, ellipse: bool) -> None:
    x1, y1, x2, y2 = (float(v) for v in box)
    if ellipse:
        centre = (round((x1 + x2) / 2), round((y1 + y2) / 2))
        axes = (max(1, round((x2 - x1) / 2)), max(1, round((y2 - y1) / 2)))
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, thickness=-1)
    else:
        cv2.rectangle(mask, (int(x1), int(y1)), (int(np.ceil(x2)) - 1, int(np.ceil(y2)) - 1), 1, -1)


def track_masks(tracks, count: int, shape, *, ellipse=True) -> np.ndarray:
    """``(count, H, W)`` bool: each track's box per frame, as the inscribed ellipse or the whole box."""
    return np.stack([frame_mask(tracks, t, shape, ellipse=ellipse) for t in range(count)]).reshape(count, *shape[:2])


def frame_mask(tracks, t: int, shape, *, ellipse=True) -> np.ndarray:
    """``(H, W)`` bool: what :func:`track_masks` gives for frame ``t``."""
    mask = np.zeros(shape[:2], np.uint8)
    for tr in tracks:
        box = tr.box_at(t)
        if box is not None:
            _draw(mask, box, ellipse)
    return mask.astype(bool)


def cover(frame: np.ndarray, mask: np.ndarray, tracks, t: int, mode: str) -> np.ndarray:
    """``frame`` with its faces at ``t`` covered by ``mode``; every other pixel unchanged.

    ``"box"``: black where ``mask`` is; ``"blur"``: each track's ellipse
    blurred. ``frame``: ``(H, W)`` or ``(H, W, C)``.
    """
    if mode == "box":
        return np.where(mask.reshape(mask.shape + (1,) * (frame.ndim - 2)), 0, frame).astype(frame.dtype)
    return _blur(frame, tracks, t)


def _blur(frame: np.ndarray, tracks, t: int) -> np.ndarray:
    """``frame`` with each track's ellipse at ``t`` replaced by a blur a quarter of its box's size."""
    out = frame.copy()
    for tr in tracks:
        box = tr.box_at(t)
        if box is None:
            continue
        inside = np.zeros(frame.shape[:2], np.uint8)
        _draw(inside, box, True)
        inside = inside.astype(bool)
        sigma = max(2.0, float(max(box[2] - box[0], box[3] - box[1])) / 4)
        out[inside] = cv2.GaussianBlur(frame, (0, 0), sigma).reshape(frame.shape)[inside]
    return out


def verify(frames, tracks, *, threshold, detector=None, settings=None) -> list[dict]:
    """Faces the detector still finds at ``threshold`` in ``frames`` where a track's face was replaced.

    A hit is a leak when its centre lies inside a track's box on that frame
    (a face left visible by a box too small is centred there; a hit merely
    touching the box, such as a head shape the box itself makes over a
    body, is not). Returns one dict per leak: ``frame``, ``box`` (x1, y1,
    x2, y2), ``score`` and ``track`` (its id).
    """
    threshold = _check_threshold(threshold, "threshold")
    found = detect(frames, threshold=threshold, detector=detector, settings=settings)
    leaks = []
    for t, dets in enumerate(found):
        boxes = [(tr.id, tr.box_at(t)) for tr in tracks]
        for d in dets:
            cx, cy = (d[0] + d[2]) / 2, (d[1] + d[3]) / 2
            hit = next((i for i, b in boxes if b is not None and b[0] <= cx <= b[2] and b[1] <= cy <= b[3]), None)
            if hit is not None:
                box = [round(float(v), 1) for v in d[:4]]
                leaks.append({"frame": t, "box": box, "score": round(float(d[4]), 3), "track": hit})
    return leaks


def anonymize(
    frames,
    *,
    faces=True,
    plates=False,
    mode="remove",
    threshold=None,
    verify_threshold=None,
    backend="auto",
    settings=None,
    return_result=False,
    progress=False,
    **inpaint_options,
):
    """Remove every face from a video: detect, track, fill, verify.

    Parameters
    ----------
    frames : ndarray, shape (T, H, W, 3)
        RGB video, uint8, uint16 or float in [0, 1] (the detector was
        trained on RGB; BGR input finds fewer faces), or grey ``(T, H,
        W)`` (film scans: the detector sees the grey in all three channels).
    faces : bool, keyword-only
        Find faces (the only detector bundled).
    plates : bool, keyword-only
        Licence plates: not available (no permissively licensed plate
        detector installs from a package registry); True raises.
    mode : {"remove", "blur", "box"}, keyword-only
        ``"remove"``: fill each head from the background with
        :func:`hybridinpaint.inpaint` (provenance recorded); ``"blur"``: a
        Gaussian blur of a quarter of the box's size inside the ellipse;
        ``"box"``: a black rectangle.
    threshold : float, keyword-only
        Detector score in (0, 1) a track must reach once. The default 0.4
        was chosen leave-one-clip-out on the annotated set (every fold
        chose it; benchmarks/RESULTS.md, "Privacy").
    verify_threshold : float, optional, keyword-only
        Threshold of the verifying detector (default
        ``privacy.VERIFY_FRACTION * threshold``).
    backend : {"auto", "cpu", "cuda"}, keyword-only
        For the inpainting kernels.
    return_result : bool, keyword-only
        Return an :class:`AnonymizeResult` (masks, tracks, leaks, record).
    **inpaint_options
        Passed to :func:`hybridinpaint.inpaint` for ``mode="remove"``.

    Returns
    -------
    ndarray or AnonymizeResult
        Frames of the input's shape and dtype; pixels outside the masks are
        bit-identical to the input.

    Examples
    --------
    >>> import numpy as np, hybridinpaint
    >>> video = np.full((3, 64, 96, 3), 128, np.uint8)  # no face in it
    >>> res = hybridinpaint.anonymize(video, backend="cpu", return_result=True)
    >>> len(res.tracks), len(res.leaks), bool((res.frames == video).all())
    (0, 0, True)
    """

    settings = resolve(settings)
    threshold, verify_threshold = _options(faces, plates, mode, threshold, verify_threshold, settings)
    original, work, grey = _arrays.frames_float(frames)
    if work.shape[3] not in (1, 3):
        raise ValueError(f"frames must be (T, H, W, 3) RGB or grey (T, H, W), got shape {np.shape(original)}")
    t, h, w, _ = work.shape
    detector = FaceDetector(settings=settings)
    found = detect(
        work,
        threshold=settings.privacy.LINK_FRACTION * threshold,
        detector=detector,
        progress=progress,
        settings=settings,
    )
    tracks = link_tracks(found, (h, w), threshold=threshold, settings=settings)
    masks = track_masks(tracks, t, (h, w), ellipse=mode != "box")
    provenance = None
    if not masks.any():
        out = original.copy()
    elif mode == "remove":
        res = inpaint(
            original,
            masks,
            backend=backend,
            settings=settings,
            return_result=True,
            progress=progress,
            **inpaint_options,
        )
        out, provenance = res.frames, res.stats.get("pixels", {})
    else:
        filled = work.copy()
        for k in range(t):
            if masks[k].any():
                filled[k] = cover(work[k], masks[k], tracks, k, mode)
        out = _arrays.composite(original, filled, masks, grey)
    # the check sees the output as the detection saw the input: the float view
    leaks = verify(_arrays.frames_float(out)[1], tracks, threshold=verify_threshold, detector=detector)
    doc = build_record(
        tracks,
        leaks,
        mode=mode,
        threshold=threshold,
        verify_threshold=verify_threshold,
        frames=t,
        shape=(h, w),
        pixels=provenance,
    )
    if not return_result:
        return out
    return AnonymizeResult(out, masks, tracks, leaks, found, doc)


def _options(faces, plates, mode, threshold, verify_threshold, settings) -> tuple[float, float]:
    """Checked options; returns the detection and verification thresholds."""
    if plates:
        raise ValueError(
            "plates=True is not available: no permissively licensed licence-plate detector installs from a "
            "package registry (see the README's Privacy section); faces only"
        )
    if not faces:
        raise ValueError("faces must be True: faces are the only thing anonymize can find")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES!r}, got {mode!r}")
    cfg = settings.privacy
    threshold = _check_threshold(cfg.THRESHOLD if threshold is None else threshold, "threshold")
    verify_threshold = _check_threshold(
        cfg.VERIFY_FRACTION * threshold if verify_threshold is None else verify_threshold, "verify_threshold"
    )
    return threshold, verify_threshold


RECORD_VERSION = 1

RECORD_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "detector", "mode", "threshold", "verify_threshold", "frames", "size", "tracks", "leaks"],
    "properties": {
        "version": {"const": RECORD_VERSION},
        "detector": {"type": "string"},
        "mode": {"enum": list(MODES)},
        "threshold": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "verify_threshold": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "frames": {"type": "integer", "minimum": 1},
        "size": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
        "pixels": {"type": ["object", "null"]},
        "tracks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "frames", "boxes", "scores", "fill"],
                "properties": {
                    "id": {"type": "integer", "minimum": 0},
                    "frames": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                    "boxes": {
                        "type": "array",
                        "items": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                    },
                    "scores": {"type": "array", "items": {"type": ["number", "null"]}},
                    "fill": {"enum": list(MODES)},
                },
            },
        },
        "leaks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["frame", "box", "score", "track"],
                "properties": {
                    "frame": {"type": "integer", "minimum": 0},
                    "box": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                    "score": {"type": "number"},
                    "track": {"type": "integer"},
                },
            },
        },
    },
}


def build_record(tracks, leaks, *, mode, threshold, verify_threshold, frames, shape, pixels=None) -> dict:
    """The JSON record of a run: every track (frames, boxes, scores; null where not detected), the leaks.

    Checked against :data:`RECORD_SCHEMA` before it is returned.
    """
    import jsonschema

    doc = {
        "version": RECORD_VERSION,
        "detector": f"CenterFace ({MODEL}, bundled)",
        "mode": mode,
        "threshold": threshold,
        "verify_threshold": verify_threshold,
        "frames": int(frames),
        "size": [int(shape[1]), int(shape[0])],
        "pixels": pixels,
        **record_tracks(tracks, mode),
        "leaks": list(leaks),
    }
    jsonschema.validate(doc, RECORD_SCHEMA)
    return doc


def record_tracks(tracks, mode) -> dict:
    """The ``tracks`` part of the record: per track its frames, boxes, scores (null: not detected), fill."""
    return {
        "tracks": [
            {
                "id": tr.id,
                "frames": [int(f) for f in tr.frames],
                "boxes": [[round(float(v), 1) for v in b] for b in tr.boxes],
                "scores": [None if np.isnan(s) else round(float(s), 3) for s in tr.scores],
                "fill": mode,
            }
            for tr in tracks
        ]
    }
