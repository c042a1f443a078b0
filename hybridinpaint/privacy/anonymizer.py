"""Privacy: find faces, follow them through the video, hide each head, and check that none is left.

Stages, each usable alone:

1. :func:`detect` — the bundled face detector (:mod:`hybridinpaint.privacy.faces`)
   on every frame at a low *link* threshold, and every third frame also at
   twice its size for faces too small for the plain search.
2. :func:`link_tracks` (:mod:`hybridinpaint.privacy.tracks`) — detections
   joined into tracks by box overlap; a track is kept if one of its
   detections reaches the threshold (hysteresis). Before its first and
   after its last detection a track is carried by matching the face's
   pixels, both ways in time, while they match; gaps are interpolated, the
   ends held a few frames, the boxes smoothed and grown from the face to
   the whole head.
3. :func:`track_masks` — the ellipse inside each head box per frame (the
   whole box for ``mode="box"``, unless ``privacy.BOX_SHAPE = "ellipse"``).
4. The cover: a black head (``"box"``, the default: it leaked least), a
   strong blur, or :func:`hybridinpaint.inpaint` (``"remove"``: pixels from
   the background, with provenance). ``"box"`` and ``"blur"`` check each
   frame as they make it (:func:`cover_checked`): what the detector still
   finds at the verify threshold is boxed.
5. :func:`verify` — the detector again on the output at the verify
   threshold: every face it finds is a leak, listed per frame with its
   reason, and :class:`LeakWarning` is raised.

Every stage's output is in the record (:func:`build_record`), checked against
:data:`RECORD_SCHEMA`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import cv2
import numpy as np

from hybridinpaint.completion import arrays as _arrays
from hybridinpaint.completion.pipeline import PROPAGATED, inpaint
from hybridinpaint.privacy.faces import MODEL, FaceDetector
from hybridinpaint.privacy.faces import check_threshold as _check_threshold
from hybridinpaint.privacy.tracks import Track, box_iou, head_box, link_tracks
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
    "LeakWarning",
    "cover_checked",
    "mostly_black",
    "grey_reader",
    "to_grey",
    "leaked_frames",
    "NOTHING_TO_COPY",
    "head_box",
    "check_cover_options",
    "track_from_record",
]

MODES = ("remove", "blur", "box")
NOTHING_TO_COPY = 0.5  # a head more than this share of which no other frame showed is called made up


class LeakWarning(UserWarning):
    """The check still finds a face in the output of :func:`anonymize` (see ``AnonymizeResult.leaks``)."""


@dataclass
class AnonymizeResult:
    """What :func:`anonymize` returns with ``return_result=True``.

    ``leaks``: one dict per face the check still finds in the output
    (``frame``, ``box``, ``score``, ``track`` or None where no track was,
    ``why``); ``checked``: what the check of ``"blur"`` / ``"box"`` found
    and covered with a black box before the frame was written (same keys).
    """

    frames: np.ndarray
    masks: np.ndarray  # (T, H, W) bool: what was replaced
    tracks: list
    leaks: list
    detections: list = field(default_factory=list)  # per frame (N, 5), at the link threshold
    record: dict = field(default_factory=dict)
    checked: list = field(default_factory=list)

    @property
    def leaked_frames(self) -> list[int]:
        """The frames where a face is still found, in order."""
        return leaked_frames(self.leaks)


def leaked_frames(leaks) -> list[int]:
    """The frames of ``leaks`` (dicts with a ``frame``), each once, in order."""
    return sorted({int(leak["frame"]) for leak in leaks})


def detect(frames, *, threshold=None, detector=None, progress=False, settings=None) -> list[np.ndarray]:
    """Face boxes ``(N, 5)`` (``x1, y1, x2, y2, score``) per frame of ``frames`` ``(T, H, W[, C])``.

    ``frames`` may be any iterable of RGB images (uint8, uint16 or float in
    [0, 1]); ``threshold`` is the lowest score kept. Every
    ``privacy.UPSCALE_EVERY``-th frame is also searched at twice its size,
    and the faces shorter than ``privacy.SMALL`` pixels found there that
    the plain search missed are added.
    """
    from tqdm.auto import tqdm

    settings = resolve(settings)
    cfg = settings.privacy
    threshold = _check_threshold(cfg.THRESHOLD if threshold is None else threshold, "threshold")
    det = detector if detector is not None else FaceDetector(settings=settings)
    out = []
    for k, frame in enumerate(tqdm(frames, desc="finding faces", unit="frame", disable=not progress)):
        found = det(frame, threshold)
        if cfg.UPSCALE_EVERY and k % cfg.UPSCALE_EVERY == 0:
            found = _with_small_faces(found, det, frame, threshold, cfg.SMALL)
        out.append(found)
    return out


def _with_small_faces(found: np.ndarray, det, frame, threshold: float, small: float) -> np.ndarray:
    """``found`` and the faces shorter than ``small`` that ``det`` finds in ``frame`` at twice its size."""
    big = cv2.resize(_arrays.rgb8(frame), None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    more = det(big, threshold)
    more[:, :4] /= 2
    more = more[(more[:, 3] - more[:, 1]) < small]
    if len(more) and len(found):
        centres = np.stack([(more[:, 0] + more[:, 2]) / 2, (more[:, 1] + more[:, 3]) / 2], -1)
        known = (box_iou(more[:, :4], found[:, :4]) > 0.3).any(1) | np.array(
            [any(f[0] <= x <= f[2] and f[1] <= y <= f[3] for f in found) for x, y in centres], bool
        )
        more = more[~known]
    if not len(more):
        return found
    both = np.concatenate([found, more]).astype(np.float32)
    return both[np.argsort(-both[:, 4], kind="stable")]


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


def cover_checked(frame, tracks, t: int, mode: str, *, detector, threshold: float, settings=None):
    """Frame ``t`` covered by ``mode``, checked, and what the check still finds covered with black boxes.

    The check is the detector at ``threshold`` on the covered frame. A face
    it finds inside a track's box (the cover did not hide it) has that box
    made black; a face outside every track (one the tracks missed) has its
    head made black. What is left is for :func:`verify` to find on the
    output as it is written. Returns ``(covered, mask, checked)``: the
    frame, the ``(H, W)`` bool mask of what changed, and what the check
    found, one dict each (``frame``, ``box``, ``score``, ``track``,
    ``why``).
    """
    cfg = resolve(settings).privacy
    shape = frame.shape[:2]
    mask = frame_mask(tracks, t, shape, ellipse=mode != "box" or cfg.BOX_SHAPE == "ellipse")
    out = cover(frame, mask, tracks, t, mode) if mask.any() else frame
    checked = []
    black = mask if mode == "box" else np.zeros(shape, bool)
    hits = [d for d in detector(out, threshold) if not mostly_black(d, black)]
    if len(hits):
        extra = np.zeros(shape, np.uint8)
        for d in hits:
            tid, box = _track_under(tracks, t, d)
            if tid is None:
                box = head_box(d[:4], shape, cfg)[0]
                why = f"a face (score {float(d[4]):.2f}) no track covered: its head boxed"
            else:
                why = f"a face (score {float(d[4]):.2f}) still found under the {mode}: track {tid} boxed"
            _draw(extra, box, False)
            checked.append(_finding(t, d, tid, why))
        extra = extra.astype(bool)
        out = cover(out, extra, tracks, t, "box")
        mask = mask | extra
    return out, mask, checked


def mostly_black(det, black: np.ndarray) -> bool:
    """Whether half or more of the box of ``det`` lies in ``black`` (``(H, W)`` bool, pixels blacked out).

    A black head over a body is itself head-shaped, and the detector
    sometimes scores it as a face; a hit that is half or more black shows
    less than half a face (the benchmarks count a face as one when at least
    half of it is in the picture), so it is not a leak and is not boxed.
    """
    h, w = black.shape
    x1, y1 = max(0, int(det[0])), max(0, int(det[1]))
    x2, y2 = min(w, int(np.ceil(det[2]))), min(h, int(np.ceil(det[3])))
    return x2 > x1 and y2 > y1 and float(black[y1:y2, x1:x2].mean()) >= 0.5


def _with_black(frames, masks):
    """``(frame, blacked-out pixels)`` per frame: where ``masks`` holds and the frame is black (lossy video: near)."""
    masks = iter(masks)
    for k, frame in enumerate(frames):
        try:
            m = next(masks)
        except StopIteration:
            raise ValueError(f"masks: fewer masks than frames (none for frame {k})") from None
        rgb = _arrays.rgb8(frame)
        yield frame, np.asarray(m, bool) & (rgb.max(axis=-1) <= 8)


def _track_under(tracks, t: int, det) -> tuple[int | None, np.ndarray | None]:
    """The id and box of the first track whose box at ``t`` holds the centre of ``det``; (None, None) if none."""
    cx, cy = (det[0] + det[2]) / 2, (det[1] + det[3]) / 2
    for tr in tracks:
        b = tr.box_at(t)
        if b is not None and b[0] <= cx <= b[2] and b[1] <= cy <= b[3]:
            return tr.id, b
    return None, None


def _finding(t: int, det, track, why: str) -> dict:
    box = [round(float(v), 1) for v in det[:4]]
    return {"frame": int(t), "box": box, "score": round(float(det[4]), 3), "track": track, "why": why}


def verify(frames, tracks, *, threshold, detector=None, masks=None, settings=None) -> list[dict]:
    """Faces the detector still finds at ``threshold`` in ``frames`` (the output): every one is a leak.

    A hit centred inside a track's box is a face the fill did not hide; a
    hit elsewhere is a face the tracks missed (found on the input below the
    threshold, or not at all) or a false alarm, for a reviewer to look at.
    ``masks``: per frame, the ``(H, W)`` bool mask of what ``"box"`` or
    ``"blur"`` replaced; a hit half or more on pixels blacked out there is
    the cover's own shape (:func:`mostly_black`), not a leak. Returns one
    dict per leak: ``frame``, ``box`` (x1, y1, x2, y2), ``score``, ``track``
    (its id, or None) and ``why``.
    """
    threshold = _check_threshold(threshold, "threshold")
    pairs = _with_black(frames, masks) if masks is not None else ((f, None) for f in frames)
    det = detector if detector is not None else FaceDetector(settings=settings)
    leaks = []
    for t, (frame, black) in enumerate(pairs):
        for d in det(frame, threshold):
            if black is not None and mostly_black(d, black):
                continue
            tid, _ = _track_under(tracks, t, d)
            why = (
                f"a face is still found in track {tid}'s head after the fill"
                if tid is not None
                else "a face is found where no track was"
            )
            leaks.append(_finding(t, d, tid, why))
    return leaks


def anonymize(
    frames,
    *,
    faces=True,
    plates=False,
    mode="box",
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
    mode : {"box", "blur", "remove"}, keyword-only
        ``"box"`` (the default): each head box black (or the ellipse inside
        it, ``privacy.BOX_SHAPE``), the mode that leaked least;
        ``"blur"``: a Gaussian blur of a quarter of the box's size inside
        the ellipse; both check each frame and box what is still found.
        ``"remove"``: fill each head from the background with
        :func:`hybridinpaint.inpaint` (provenance recorded): for small faces
        with background to copy; the record says per track how much of the
        head no frame showed (``unseen``), with a warning over half.
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

    Warns
    -----
    LeakWarning
        When the check still finds a face in the output (the frames are
        named; every leak is in ``AnonymizeResult.leaks`` and the record).

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
    check_cover_options(mode, inpaint_options)
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
    tracks = link_tracks(found, (h, w), threshold=threshold, frame_at=grey_reader(work.__getitem__), settings=settings)
    provenance = unseen = None
    checked: list[dict] = []
    if mode == "remove":
        masks = track_masks(tracks, t, (h, w))
        if masks.any():
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
            unseen = unseen_fraction(tracks, res.provenance.method, (h, w))
        else:
            out = original.copy()
        # the check sees the output as the detection saw the input: the float view
        leaks = verify(_arrays.frames_float(out)[1], tracks, threshold=verify_threshold, detector=detector)
    else:
        filled, masks = work.copy(), np.zeros((t, h, w), bool)
        for k in range(t):
            filled[k], masks[k], found_k = cover_checked(
                work[k], tracks, k, mode, detector=detector, threshold=verify_threshold, settings=settings
            )
            checked += found_k
        out = _arrays.composite(original, filled, masks, grey)
        # the check on what is returned, as files are checked: it can differ from the float frames by rounding
        leaks = verify(_arrays.frames_float(out)[1], tracks, threshold=verify_threshold, detector=detector, masks=masks)
    doc = build_record(
        tracks,
        leaks,
        mode=mode,
        threshold=threshold,
        verify_threshold=verify_threshold,
        frames=t,
        shape=(h, w),
        pixels=provenance,
        checked=checked,
        unseen=unseen,
    )
    warn_leaks(leaks, stacklevel=2)
    made_up = sorted(k for k, v in (unseen or {}).items() if v > NOTHING_TO_COPY)
    if made_up:
        warnings.warn(
            f"anonymize(mode='remove'): most of the head of track(s) {made_up} was never seen in another frame, "
            "so it was made up from its surroundings (nothing to copy); mode='box' hides it for certain",
            UserWarning,
            stacklevel=2,
        )
    if not return_result:
        return out
    return AnonymizeResult(out, masks, tracks, leaks, found, doc, checked)


def grey_reader(frame_at):
    """``t -> (H, W) uint8`` grey of ``frame_at(t)`` (any image :func:`detect` takes), remembered."""
    import functools

    @functools.lru_cache(maxsize=64)
    def grey(t: int) -> np.ndarray:
        return to_grey(frame_at(t))

    return grey


def to_grey(image) -> np.ndarray:
    """``(H, W)`` uint8 grey of any image :func:`detect` takes (what carrying a track matches on)."""
    return cv2.cvtColor(_arrays.rgb8(image), cv2.COLOR_RGB2GRAY)


def unseen_fraction(tracks, method: np.ndarray, shape) -> dict[int, float]:
    """Per track id: the share of its removed pixels that no other frame showed (patch, network, spatial fill)."""
    out = {}
    for tr in tracks:
        total = unseen = 0
        for t in tr.frames:
            m = frame_mask([tr], t, shape)
            total += int(m.sum())
            unseen += int((method[t][m] > PROPAGATED).sum())
        out[tr.id] = round(unseen / total, 3) if total else 0.0
    return out


def warn_leaks(leaks, *, stacklevel=1) -> None:
    """A :class:`LeakWarning` naming the frames where the check still finds a face (nothing if none)."""
    if not leaks:
        return
    frames = leaked_frames(leaks)
    more = f" and {len(frames) - 10} more" if len(frames) > 10 else ""
    warnings.warn(
        f"anonymize: a face is still found in {len(frames)} frame(s): {frames[:10]}{more} "
        f"({leaks[0]['why']}; every leak is in the result's .leaks and the record)",
        LeakWarning,
        stacklevel=stacklevel + 1,
    )


def check_cover_options(mode: str, options: dict) -> None:
    """A ValueError for inpainting options given to ``"box"`` or ``"blur"``, which would silently ignore them."""
    given = sorted(k for k, v in options.items() if k == "mask_dilation" and v or k != "mask_dilation")
    if mode != "remove" and given:
        raise ValueError(
            f"{', '.join(given)}: options of mode='remove' (the inpainting), not of mode={mode!r}; the head "
            "covered is set by [privacy] GROW_W, GROW_H and RAISE"
        )


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


RECORD_VERSION = 2

_FINDING = {
    "type": "object",
    "required": ["frame", "box", "score", "track", "why"],
    "properties": {
        "frame": {"type": "integer", "minimum": 0},
        "box": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
        "score": {"type": "number"},
        "track": {"type": ["integer", "null"]},
        "why": {"type": "string"},
    },
}

RECORD_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": [
        "version",
        "detector",
        "mode",
        "threshold",
        "verify_threshold",
        "frames",
        "size",
        "tracks",
        "leaks",
        "leaked_frames",
    ],
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
                "required": ["id", "frames", "boxes", "scores", "carried", "fill", "detected", "leaks"],
                "properties": {
                    "id": {"type": "integer", "minimum": 0},
                    "frames": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                    "boxes": {
                        "type": "array",
                        "items": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
                    },
                    "scores": {"type": "array", "items": {"type": ["number", "null"]}},
                    "carried": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                    "fill": {"enum": list(MODES)},
                    "detected": {"type": "integer", "minimum": 0},
                    "leaks": {"type": "integer", "minimum": 0},
                    "unseen": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                },
            },
        },
        "leaks": {"type": "array", "items": _FINDING},
        "leaked_frames": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "checked": {"type": "array", "items": _FINDING},
    },
}


def build_record(
    tracks, leaks, *, mode, threshold, verify_threshold, frames, shape, pixels=None, checked=(), unseen=None
) -> dict:
    """The JSON record of a run: every track (frames, boxes, scores; null where not detected), the leaks.

    ``checked``: what the check of ``"blur"`` / ``"box"`` found and boxed;
    ``unseen``: per track id, the share of its removed pixels no frame
    showed (``"remove"``). Checked against :data:`RECORD_SCHEMA` before it
    is returned.
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
        **record_tracks(tracks, mode, leaks=leaks, unseen=unseen),
        "leaks": list(leaks),
        "leaked_frames": leaked_frames(leaks),
        "checked": list(checked),
    }
    jsonschema.validate(doc, RECORD_SCHEMA)
    return doc


def record_tracks(tracks, mode, *, leaks=(), unseen=None) -> dict:
    """The ``tracks`` part of the record: per track its frames, boxes, scores (null: not detected), fill.

    With each: ``carried`` (frames followed by matching), ``detected``
    (frames the detector found it on), ``leaks`` (frames of ``leaks`` in
    its box), ``unseen`` (from ``unseen``, or null).
    """
    per_track: dict = {}
    for leak in leaks:
        if leak.get("track") is not None:
            per_track.setdefault(leak["track"], set()).add(leak["frame"])
    return {
        "tracks": [
            {
                "id": tr.id,
                "frames": [int(f) for f in tr.frames],
                "boxes": [[round(float(v), 3) for v in b] for b in tr.boxes],  # a rerun rasterises the same heads
                "scores": [None if np.isnan(s) else round(float(s), 3) for s in tr.scores],
                "carried": [int(f) for f in tr.frames[tr.carried]],
                "fill": mode,
                "detected": int(np.count_nonzero(~np.isnan(tr.scores))),
                "leaks": len(per_track.get(tr.id, ())),
                "unseen": None if unseen is None else unseen.get(tr.id),
            }
            for tr in tracks
        ]
    }


def track_from_record(doc: dict) -> Track:
    """A :class:`Track` from one entry of a record's ``tracks``."""
    frames = np.asarray(doc["frames"], int)
    return Track(
        doc["id"],
        frames,
        np.asarray(doc["boxes"], np.float32).reshape(-1, 4),
        np.asarray([np.nan if v is None else v for v in doc["scores"]], np.float32),
        np.isin(frames, doc.get("carried", [])),
    )
