"""Archival film restoration: detect dust, dirt and line scratches, repair them, undo any repair.

Detection is motion-compensated: both temporal neighbours of a frame are
warped onto it along optical flow (the project's flow and warp kernels),
and a region is a blotch candidate when it differs from *both* in the *same
direction* (the spike detection index, SDI [1]_), smoothed a little so that
a faint but coherent spot stands out of the grain. A neighbour is trusted
where the flows between t-1 and t+1 pass their forward-backward check, or
where the two warped neighbours agree with each other far better than with
the frame (dirt is in one frame only; fast motion, occlusion and moving
texture make all three disagree). Each candidate is then described by
readable features (spike over noise, neighbours' agreement, rank-ordered
differences [2]_, texture around it and in the neighbouring frames, size,
shape) and kept when a logistic regression trained on synthetic damage
calls it dirt; every kept blotch records the features that decided it
(:mod:`hybridinpaint.film.blotches`). Line scratches are thin, nearly
vertical lines brighter or darker than both sides; they are found in each
frame's column profile of horizontal detail and kept when they persist over
frames [3]_ (:mod:`hybridinpaint.film.scratches`).

Nothing the picture explains is repaired: a spot found again, elsewhere, in
frames t-2..t+2 along a smooth path is a moving object
(:mod:`hybridinpaint.film.motion`), and a line the neighbouring frames bring
back as well as the picture beside it is the picture's own; both are left
alone and listed with their reasons.

Repair is :func:`hybridinpaint.inpaint` on the detected mask (or the
archivist's own), so a blotch seen in one frame only is filled from its
motion-compensated neighbours; every connected repair becomes a
:class:`Fix` record that :func:`revert` can undo bit for bit.

References
----------
.. [1] A. C. Kokaram, R. D. Morris, W. J. Fitzgerald, P. J. W. Rayner,
   "Detection of missing data in image sequences", IEEE Trans. Image
   Processing 4(11), 1995.
.. [2] M. J. Nadenau, S. K. Mitra, "Blotch and scratch detection in image
   sequences based on rank ordered differences", Time-Varying Image
   Processing and Moving Object Recognition 4, 1997.
.. [3] A. C. Kokaram, "Detection and removal of line scratches in motion
   picture films", CVPR 1996.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy import ndimage

from hybridinpaint.completion import arrays as _arrays
from hybridinpaint.completion import flow as flowmod
from hybridinpaint.completion import pipeline
from hybridinpaint.film import blotches, flicker, motion, scratches
from hybridinpaint.kernels import resolve_backend, warp_backward_frames
from hybridinpaint.kernels.checks import positive_int
from hybridinpaint.settings import Settings, resolve

__all__ = ["detect_defects", "blotch_candidates", "restore", "revert", "Defects", "Restoration", "Fix", "KINDS"]

KINDS = ("blotch", "scratch")


@dataclass
class Defect:
    """One connected defect in one frame."""

    frame: int
    bbox: tuple[int, int, int, int]  # y0, x0, y1, x1 (exclusive)
    area: int
    kind: str
    score: float
    why: str = ""  # for a blotch: the features that decided it (see blotches.BlotchModel.explain)
    probability: float | None = None  # a blotch's probability of being dirt (the classifier's)


@dataclass
class Defects:
    """What :func:`detect_defects` found: ``mask`` (T, H, W) bool and one record per connected defect."""

    mask: np.ndarray
    records: list[Defect] = field(default_factory=list)
    kinds: np.ndarray | None = None  # (T, H, W) uint8: 0 none, 1 blotch, 2 scratch
    spared: list[Defect] = field(default_factory=list)  # left alone: moving objects, the picture's own lines
    spared_mask: np.ndarray | None = None  # (T, H, W) bool: their pixels (not in ``mask``)


@dataclass
class Fix:
    """One repair: a connected region of one frame, with where its new pixels came from."""

    id: int
    frame: int
    bbox: tuple[int, int, int, int]
    area: int
    kind: str
    score: float
    method: str
    sources: list[int]
    confidence: float
    ys: np.ndarray = field(repr=False)
    xs: np.ndarray = field(repr=False)
    why: str = ""
    probability: float | None = None  # a blotch's probability of being dirt

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("id", "frame", "area", "kind", "method", "sources")}
        d["bbox"] = [int(v) for v in self.bbox]
        d["score"] = round(float(self.score), 5)
        d["confidence"] = round(float(self.confidence), 4)
        if self.probability is not None:
            d["probability"] = round(float(self.probability), 4)
        if self.why:
            d["why"] = self.why
        return d


@dataclass
class Restoration:
    """What :func:`restore` returns."""

    frames: np.ndarray
    mask: np.ndarray
    provenance: object
    fixes: list[Fix]
    spared: list[Fix] = field(default_factory=list)  # left alone (method "left alone"), pixels unchanged


def _grey(work: np.ndarray) -> np.ndarray:
    if work.shape[3] >= 3:
        return work[..., 0] * 0.299 + work[..., 1] * 0.587 + work[..., 2] * 0.114
    return work[..., 0]


def _compensated(grey: np.ndarray, backend: str, bar, settings: Settings):
    """Both neighbours of every frame warped onto it, and where the warps are trusted.

    Returns ``prev, nxt`` (T, H, W) float32, ``ok`` (T, H, W) bool,
    ``inside`` (T, H, W) bool: where both neighbours' flows stay in the
    frame, and the flows of :func:`_clean_flows` (restore reuses them). A
    blotch in frame t distorts the flows between t and its neighbours, so
    trust is judged on the flows between t-1 and t+1, which do not see
    frame t: where they fail their forward-backward check (occlusion, motion
    too fast to follow) nothing is flagged.
    """

    t, h, w = grey.shape
    g8, fwd, bwd = _clean_flows(grey, settings)
    bar.update(t)
    skip_f, skip_b = _skip_flows(g8)
    bar.update(t)
    skip_f, skip_b = flowmod.upscale(skip_f, (h, w)), flowmod.upscale(skip_b, (h, w))
    prev = np.zeros_like(grey)
    nxt = np.zeros_like(grey)
    next_inside = np.zeros(grey.shape, bool)  # where frame k's flow to k+1 stays in the frame
    prev_inside = np.zeros(grey.shape, bool)  # where frame k's flow to k-1 stays in the frame
    ok = np.zeros(grey.shape, bool)
    # Whole stacks at once (one transfer each way on CUDA). Frame k+1 sees frame k through
    # bwd[k]; frame k sees k+1 through fwd[k].
    if t > 1:
        prev[1:], prev_inside[1:] = warp_backward_frames(grey[:-1], bwd, backend=backend)
        nxt[:-1], next_inside[:-1] = warp_backward_frames(grey[1:], fwd, backend=backend)
    inside = prev_inside & next_inside
    if t > 2:
        # Frame k's trust (k = 1 .. t-2) is the skip flows' check between k-1 and k+1, seen from k.
        trusted = ~flowmod.inconsistent(skip_f, skip_b, backend, settings.film.FB_ABS, 0.1)
        there, valid = warp_backward_frames(trusted.astype(np.float32), bwd[: t - 2], backend=backend)
        ok[1:-1] = (there > 0.5) & valid & inside[1:-1]
    return prev, nxt, ok, inside, (fwd, bwd)


def _clean_flows(grey: np.ndarray, settings: Settings):
    """Flows between consecutive frames of ``grey`` (T, H, W), cleaned of blotches.

    Estimated (DIS) at the working size, median-filtered there (see
    :func:`_median_flow`) and brought back to full size. Returns the
    working-size 8-bit frames and the forward and backward flows.
    """
    t, h, w = grey.shape
    size = flowmod.working_size(h, w, settings=settings)
    g8 = np.clip(grey * 255 + 0.5, 0, 255).astype(np.uint8)
    if size != (h, w):
        g8 = np.stack([cv2.resize(g, size[::-1], interpolation=cv2.INTER_AREA) for g in g8])
    fwd, bwd = flowmod.estimate(g8, "dis")
    window = settings.film.FLOW_MEDIAN
    return g8, flowmod.upscale(_median_flow(fwd, window), (h, w)), flowmod.upscale(_median_flow(bwd, window), (h, w))


def _median_flow(flows: np.ndarray, window: int) -> np.ndarray:
    """Flows ``(N, H, W, 2)`` through a median over ``window`` (film.FLOW_MEDIAN) pixels, on every other pixel.

    A blotch pulls the flow around it (the estimator tries to follow it); a
    median over a window wider than blotches takes that out. Flow is smooth,
    so the median is taken on every other pixel with half the window and
    interpolated back: 18 times less work than at full size, which made 88%
    of the detection's time (1.4 s of 1.6 s per 480x368 frame).
    """
    n, h, w, _ = flows.shape
    if h < 4 or w < 4:
        return ndimage.median_filter(flows, size=(1, window, window, 1))
    half = window // 2 | 1
    small = ndimage.median_filter(flows[:, ::2, ::2], size=(1, half, half, 1))
    # Sample k of the subsampled grid sits at full-size pixel 2k: align, then interpolate.
    out = np.empty_like(flows)
    m = np.float32([[2, 0, 0], [0, 2, 0]])
    for i in range(n):
        out[i] = cv2.warpAffine(small[i], m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def _skip_flows(g8):
    """Flows between frames two apart: ``f[k]`` maps k -> k+2, ``b[k]`` maps k+2 -> k."""
    n = max(g8.shape[0] - 2, 0)
    both = flowmod.estimate_pairs(g8, [(k, k + 2) for k in range(n)] + [(k + 2, k) for k in range(n)], "dis")
    return both[:n], both[n:]


def _at_least(mask, min_area):
    """The connected regions of ``mask`` of at least ``min_area`` pixels."""
    lab, n = ndimage.label(mask, structure=np.ones((3, 3)))
    keep = np.bincount(lab.ravel(), minlength=n + 1) >= min_area
    keep[0] = False
    return keep[lab]


def blotch_candidates(grey, backend, bar=None, *, settings=None):
    """Every frame's blotch candidates: a list of ``(frame, labels, n, features, evidence)``.

    ``grey`` is (T, H, W) float32 in [0, 1]; ``features`` is (n, F) over
    :data:`hybridinpaint.film.blotches.FEATURES` for the regions ``1..n`` of
    ``labels``; ``evidence`` is the frame's
    :class:`hybridinpaint.film.blotches.Evidence`. The first and last frames have no blotch test. This is
    what the shipped classifier was trained on
    (``scripts/train_blotch_model.py``) and what :func:`detect_defects`
    classifies.
    """
    return _candidates(grey, backend, bar, resolve(settings))[0]


def _candidates(grey, backend, bar, settings: Settings):
    """:func:`blotch_candidates`, the flows they were found along and the warped neighbours (None for < 3 frames).

    Returns ``found, flows, (prev, nxt)``: frames t-1 and t+1 warped onto every frame t.
    """
    from tqdm.auto import tqdm

    t = grey.shape[0]
    if t < 3:
        return [], None, None
    bar = bar if bar is not None else tqdm(disable=True)
    prev, nxt, ok, inside, flows = _compensated(grey, backend, bar, settings)
    bar.update(2)
    ev = {
        k: blotches.frame_evidence(grey[k], prev[k], nxt[k], ok[k], inside[k], settings=settings)
        for k in range(1, t - 1)
    }
    out = []
    for k in range(1, t - 1):
        bar.update(1)
        labels, n, z = blotches.candidates(ev[k], settings=settings)
        near = [ev[j] for j in (k - 1, k + 1) if j in ev]
        out.append((k, labels, n, blotches.features(ev[k], labels, n, z, near, settings=settings), ev[k]))
    return out, flows, (prev, nxt)


def _blotches(grey, backend, sensitivity, min_area, bar, model, settings: Settings):
    """Blotch mask, per-pixel probability, why each kept region was kept, what was left alone, and the evidence.

    The reasons are ``{frame: (labels, {label: why})}``: kept candidates stay
    separate connected regions, so a region of the mask is one label. A
    region the classifier calls dirt but that is found again along a path
    in the frames around it (:mod:`hybridinpaint.film.motion`) goes into the
    ``spared`` mask instead, with its reason. Returns ``mask, prob, reasons,
    spared, flows, neighbours`` (the last two None for fewer than 3 frames).
    """
    mask = np.zeros(grey.shape, bool)
    spared = np.zeros(grey.shape, bool)
    prob = np.zeros(grey.shape, np.float32)
    reasons = {}
    found, flows, neighbours = _candidates(grey, backend, bar, settings)
    cfg = settings.blotches
    for k, labels, n, x, _ in found:
        if n == 0:
            continue
        p = model.probability(x)
        keep = np.concatenate(
            [[False], model.accept(p, sensitivity, cfg.DIRT_PROBABILITY) & blotches.plausible(x, settings=settings)]
        )
        kept_mask = _at_least(keep[labels], min_area)
        prob[k] = np.concatenate([[0.0], p])[labels]
        text = {}
        for i in np.unique(labels[kept_mask]):
            region = labels == i
            why = f"p={p[i - 1]:.2f}: " + model.explain(x[i - 1])
            path = motion.best_path(grey, k, region, neighbours[0][k], neighbours[1][k])
            if path is not None and path.ratio < cfg.PATH_RATIO:
                spared[k] |= region
                text[int(i)] = "left alone: moving object, " + path.describe() + f"; classifier {why}"
            else:
                mask[k] |= region
                text[int(i)] = why
        reasons[k] = (labels, text)
    return mask, prob, reasons, spared, flows, neighbours


def _line_why(lines, k, sl, spared):
    """A scratch record's reason: the line's contrast, and how its neighbours along the flow reproduce it."""
    x0, x1 = sl[1].start, sl[1].stop
    r = [v for (j, x), v in lines.residual.items() if abs(j - k) <= 2 and x0 - 1 <= x <= x1 and np.isfinite(v)]
    contrast = float(lines.score[k, sl[0], x0:x1].max()) * 255 if not spared else None
    told = (
        f"the neighbouring frames along the flow reproduce it {float(np.median(r)):.1f}x worse than the picture "
        "beside it (median of 5 frames)"
        if r
        else "no neighbouring frames to test it against"
    )
    if spared:
        return f"left alone: still picture line: {told}, as the picture's own lines are"
    return f"a thin vertical line standing out of both sides by {contrast:.0f}/255, in 3 or more frames; {told}"


def detect_defects(
    frames,
    *,
    sensitivity=1.0,
    kinds=KINDS,
    min_area=5,
    backend="auto",
    progress=False,
    blotch_model=None,
    settings=None,
) -> Defects:
    """Find dust, dirt and line scratches in a film scan.

    Parameters
    ----------
    frames : ndarray, shape (T, H, W) or (T, H, W, C)
        uint8, uint16 or float in [0, 1]; grey or colour (RGB or BGR).
    sensitivity : float, keyword-only
        Above 1 finds fainter defects (and more false ones): it multiplies
        the odds the blotch classifier needs and divides the scratch
        threshold. Thresholds follow each frame's measured noise.
    kinds : tuple of {"blotch", "scratch"}, keyword-only
    min_area : int, keyword-only
        Blotches of fewer pixels are not reported (grain and moving texture
        make isolated spikes of a few pixels; raise it for high-resolution
        scans).
    backend : {"auto", "cpu", "cuda"}, keyword-only
    settings : Settings, dict or path, optional, keyword-only
        The tunables (:class:`hybridinpaint.settings.Settings`); the defaults when None.
    progress : bool, keyword-only
        A progress bar on stderr (flows, then frame by frame).
    blotch_model : hybridinpaint.film.blotches.BlotchModel, optional, keyword-only
        The classifier that decides which candidates are dirt; by default
        the shipped one (:func:`hybridinpaint.film.blotches.load_model`). A
        model of your own comes from ``scripts/train_blotch_model.py``.

    Returns
    -------
    Defects
        ``.mask`` (T, H, W) bool, ``.kinds`` (T, H, W) uint8 (1 blotch, 2
        scratch) and ``.records``, one :class:`Defect` per connected defect
        (``score``: a blotch's probability of being dirt, a scratch's
        contrast; ``why``: for a blotch, the features that decided it;
        for a scratch, its contrast and how its neighbours reproduce it),
        and what was left alone as the picture's own: ``.spared`` (records
        whose ``why`` starts "left alone: moving object", a spot found
        again along a path in frames t-2..t+2, :mod:`~hybridinpaint.film.motion`,
        or "left alone: still picture line", a line the neighbouring frames
        bring back, :mod:`~hybridinpaint.film.scratches`) and
        ``.spared_mask``; :func:`restore` repairs them only with
        ``spare_moving=False``.

    Raises
    ------
    ValueError
        For malformed frames or arguments; blotch detection needs temporal
        neighbours, so a clip of fewer than 3 frames is refused when
        ``"blotch"`` is asked for.
    """
    return _detect(frames, sensitivity, kinds, min_area, backend, progress, blotch_model, resolve(settings))[0]


def _detect(frames, sensitivity, kinds, min_area, backend, progress, blotch_model, settings: Settings):
    """:func:`detect_defects`, and the flows the blotches were found along (None without a blotch test)."""

    _, work, _ = _arrays.frames_float(frames)
    if not isinstance(sensitivity, (int, float, np.floating)) or not np.isfinite(sensitivity) or sensitivity <= 0:
        raise ValueError(f"sensitivity must be a positive number, got {sensitivity!r}")
    min_area = positive_int(min_area, "min_area")
    if blotch_model is not None and not isinstance(blotch_model, blotches.BlotchModel):
        raise TypeError(
            f"blotch_model must be a hybridinpaint.film.blotches.BlotchModel, got {type(blotch_model).__name__}"
        )
    kinds = tuple(kinds)
    if not kinds or any(k not in KINDS for k in kinds):
        raise ValueError(f"kinds must be a non-empty subset of {KINDS!r}, got {kinds!r}")
    t = work.shape[0]
    if "blotch" in kinds and t < 3:
        raise ValueError(
            f"frames holds {t} frame(s); blotch detection compares each frame with both temporal neighbours "
            "and needs at least 3 (pass kinds=('scratch',) for a still)"
        )
    from tqdm.auto import tqdm

    target = resolve_backend(backend)
    grey = _grey(work)
    labels = np.zeros(grey.shape, np.uint8)
    left = np.zeros(grey.shape, np.uint8)  # left alone: 1 a moving object, 2 a still picture line
    scores = np.zeros(grey.shape, np.float32)
    # Both need frames t-1 and t+1 warped onto t: two flows per frame, then a step per frame each.
    steps = 2 * t * (t >= 3) + t * (("blotch" in kinds) + ("scratch" in kinds))
    reasons, flows, neighbours, lines = {}, None, None, None
    with tqdm(total=steps, desc="detecting defects", unit="step", disable=not progress) as bar:
        if "blotch" in kinds:
            model = blotch_model or blotches.load_model()
            found = _blotches(grey, target, sensitivity, min_area, bar, model, settings)
            m, s, reasons, spared, flows, neighbours = found
            labels[m] = 1
            left[spared] = 1
            scores = np.where(m, s, scores)
            probability = s
        if "scratch" in kinds:
            if flows is None and t >= 3:
                flows = _clean_flows(grey, settings)[1:]
                bar.update(2 * t)
            lines = scratches.detect(grey, sensitivity, flows, still_line=settings.film.STILL_LINE)
            bar.update(t)
            labels[lines.mask & (labels == 0)] = 2
            left[lines.still & (labels == 0) & (left == 0)] = 2
            scores = np.where(labels == 2, lines.score, scores)
    mask = labels > 0
    records, spared_records = [], []
    for k in range(t):
        for code, kind, out in (
            (1, "blotch", records),
            (2, "scratch", records),
            (1, "blotch", spared_records),
            (2, "scratch", spared_records),
        ):
            which = labels if out is records else left
            lab, n = ndimage.label(which[k] == code, structure=np.ones((3, 3)))
            for i, sl in enumerate(ndimage.find_objects(lab), start=1):
                if sl is None:
                    continue
                sel = lab[sl] == i
                y, x = np.argwhere(sel)[0]
                y, x = y + sl[0].start, x + sl[1].start
                why, prob = "", None
                if kind == "blotch" and k in reasons:
                    cand, text = reasons[k]
                    why = text.get(int(cand[y, x]), "")
                    prob = float(probability[k][sl][sel].mean())
                elif kind == "scratch":
                    why = _line_why(lines, k, sl, spared=out is spared_records)
                out.append(
                    Defect(
                        frame=k,
                        bbox=(sl[0].start, sl[1].start, sl[0].stop, sl[1].stop),
                        area=int(sel.sum()),
                        kind=kind,
                        score=float(scores[k][sl][sel].mean()) if out is records else 0.0,
                        why=why,
                        probability=prob,
                    )
                )
    return Defects(mask, records, labels, spared_records, left > 0), flows


def restore(
    frames,
    *,
    defects=None,
    sensitivity=1.0,
    kinds=KINDS,
    min_area=5,
    deflicker=False,
    regrain=True,
    spare_moving=True,
    backend="auto",
    settings=None,
    progress=False,
    **inpaint_options,
) -> Restoration:
    """Detect (unless ``defects`` is given) and repair defects, optionally remove flicker; record every fix.

    Parameters
    ----------
    frames : ndarray, shape (T, H, W) or (T, H, W, C)
    defects : Defects or ndarray of bool (T, H, W), optional, keyword-only
        Use these instead of detecting (an archivist's own matte).
    sensitivity, kinds, min_area : keyword-only
        Passed to :func:`detect_defects`.
    deflicker : bool, keyword-only
        First remove flicker (:mod:`hybridinpaint.film.flicker`: a smooth
        brightness gain per frame against its temporal neighbours); each
        corrected frame gets a fix of kind ``"flicker"`` covering the pixels
        it changed outside the defects, revertible like any other.
        Detection and repair then work on the corrected frames.
    regrain : bool, keyword-only
        Give each repair the grain of the film around it. A repair copies
        pixels from other frames with bilinear weights and blends two
        sources, which averages grain away; a smooth patch in a grainy film
        is what archivists reject ("frozen grain"). Noise is added to each
        repaired region so that its grain matches the frame's, both
        estimated from the finest diagonal detail (where edges barely
        count); nothing is added where the film has no grain.
    spare_moving : bool, keyword-only
        Leave alone what the detection refused as the picture's own: spots
        found again along a path in the frames around (a ball, a hand) and
        lines the neighbouring frames reproduce (a pole, a door frame).
        They are listed in ``.spared``; False repairs them too.
    backend : keyword-only
    settings : Settings, dict or path, optional, keyword-only
        The tunables (:class:`hybridinpaint.settings.Settings`); the defaults when None.
    progress : bool, keyword-only
        A progress bar for the detection.
    **inpaint_options
        Passed to :func:`hybridinpaint.inpaint` (e.g. ``hallucinate``).

    Returns
    -------
    Restoration
        ``.frames`` (input dtype and shape; pixels outside ``.mask`` and
        the flicker fixes bit-identical), ``.mask`` (the defects),
        ``.provenance``, ``.fixes``, ``.spared`` (what was left alone;
        empty when ``spare_moving`` is False or ``defects`` were given as a
        mask).
    """

    settings = resolve(settings)
    original, work, _ = _arrays.frames_float(frames)
    t, h, w = work.shape[:3]
    base, flick = original, None
    if deflicker:
        flick = flicker.estimate(original, settings=settings)
        base = flicker.apply(original, flick)
    flows = None  # the detection's, when it runs here: the repair needs the same ones
    if defects is None:
        defects, flows = _detect(base, sensitivity, kinds, min_area, backend, progress, None, settings)
    spared_records = []
    if isinstance(defects, Defects):
        mask, kind_map = defects.mask, defects.kinds
        if defects.spared_mask is not None and defects.spared_mask.any():
            if spare_moving:
                spared_records = defects.spared
            else:  # the archivist's call: repair them like the rest
                mask = mask | defects.spared_mask
                kind_map = kind_map.copy()
                for d in defects.spared:
                    y0, x0, y1, x1 = d.bbox
                    code = 2 if d.kind == "scratch" else 1
                    region = defects.spared_mask[d.frame, y0:y1, x0:x1] & (kind_map[d.frame, y0:y1, x0:x1] == 0)
                    kind_map[d.frame, y0:y1, x0:x1][region] = code
                defects = Defects(mask, defects.records + defects.spared, kind_map)
    else:
        mask, kind_map = _arrays.masks_bool(defects, (t, h, w)), None
    if kind_map is None:
        kind_map = mask.astype(np.uint8)  # an outside matte: call every region a blotch
    spared = _spared_fixes(spared_records, defects.spared_mask if spared_records else None)
    if not mask.any() and flick is None:
        return Restoration(original.copy(), mask.copy(), pipeline.Provenance.identity(t, h, w), [], spared)
    averaged = {}
    if mask.any():
        res = pipeline.inpaint(base, mask, backend=backend, settings=settings, return_result=True, **inpaint_options)
        out, prov = res.frames, res.provenance
        if t >= 3:
            out, averaged = _prefer_neighbour_mean(
                out, base, mask, kind_map, prov, resolve_backend(backend), settings, flows
            )
        if regrain:
            out = _regrain(out, base, mask, seed=0)
    else:
        out, prov = base.copy(), pipeline.Provenance.identity(t, h, w)
    fixes = []
    for k in range(t):
        lab, _ = ndimage.label(mask[k], structure=np.ones((3, 3)))
        for i, sl in enumerate(ndimage.find_objects(lab), start=1):
            if sl is None:
                continue
            ys, xs = np.nonzero(lab[sl] == i)
            ys, xs = ys + sl[0].start, xs + sl[1].start
            methods = prov.method[k, ys, xs]
            code = int(np.bincount(methods).argmax())
            kinds_here = kind_map[k, ys, xs]
            kind = "scratch" if (kinds_here == 2).sum() > (kinds_here == 1).sum() else "blotch"
            mean_of = averaged.get((k, int(ys[0]), int(xs[0])))
            fixes.append(
                Fix(
                    id=len(fixes) + 1,
                    frame=k,
                    bbox=(sl[0].start, sl[1].start, sl[0].stop, sl[1].stop),
                    area=int(ys.size),
                    kind=kind,
                    score=0.0,
                    method=_MEAN_METHOD if mean_of else pipeline.METHOD_NAMES[code],
                    sources=mean_of
                    or sorted({int(v) for v in np.unique(prov.source_frame[k, ys, xs])} - {k})
                    or ([k] if code != pipeline.PROPAGATED else []),
                    confidence=float(prov.confidence[k, ys, xs].mean()),
                    ys=ys,
                    xs=xs,
                )
            )
    if isinstance(defects, Defects):
        by_frame = {}
        for d in defects.records:
            by_frame.setdefault(d.frame, []).append(d)
        for f in fixes:
            hits = [
                d
                for d in by_frame.get(f.frame, [])
                if d.bbox[0] < f.bbox[2] and f.bbox[0] < d.bbox[2] and d.bbox[1] < f.bbox[3] and f.bbox[1] < d.bbox[3]
            ]
            if hits:
                best = max(hits, key=lambda d: d.score)
                f.score, f.why, f.probability = best.score, best.why, best.probability
    if flick is not None:
        fixes += _flicker_fixes(original, base, mask, flick, len(fixes), settings.flicker.WINDOW)
    return Restoration(out, mask, prov, fixes, spared)


def _spared_fixes(records, spared_mask):
    """One :class:`Fix` (method "left alone", nothing changed) per region the detection refused as the picture's."""
    out = []
    for d in records:
        y0, x0, y1, x1 = d.bbox
        lab, _ = ndimage.label(spared_mask[d.frame, y0:y1, x0:x1], structure=np.ones((3, 3)))
        # The record's own region is the one that spans its whole box (another may poke into the box).
        own = [i for i, sl in enumerate(ndimage.find_objects(lab), 1) if sl == (slice(0, y1 - y0), slice(0, x1 - x0))]
        ys, xs = np.nonzero(lab == own[0])
        out.append(
            Fix(
                id=len(out) + 1,
                frame=d.frame,
                bbox=d.bbox,
                area=d.area,
                kind=d.kind,
                score=d.score,
                method="left alone",
                sources=[],
                confidence=0.0,
                ys=ys + y0,
                xs=xs + x0,
                why=d.why,
                probability=d.probability,
            )
        )
    return out


_MEAN_METHOD = "mean of both neighbours along flow"


def _neighbour_mean(work, mask, backend, settings: Settings, flows=None):
    """Every frame as the mean of its two neighbours warped onto it, skipping their masked pixels.

    ``work`` (T, H, W, C) float; returns (T, H, W, C) float and (T, H, W)
    bool where at least one neighbour was usable. The flows are those
    between the frames themselves, cleaned of blotches
    (:func:`_clean_flows`; ``flows`` when the detection already made them).
    """

    t, h, w, _ = work.shape
    fwd, bwd = flows if flows is not None else _clean_flows(_grey(work), settings)[1:]
    total = np.zeros(work.shape, np.float32)
    weight = np.zeros((t, h, w), np.float32)
    free = (~mask).astype(np.float32)
    masked = np.flatnonzero(mask.reshape(t, -1).any(axis=1))
    # The earlier neighbour first, then the later: each pixel's sum in the same order as frame by frame.
    for side in (-1, 1):
        ks = masked[(masked + side >= 0) & (masked + side < t)]
        if ks.size == 0:
            continue
        flows_k = bwd[ks - 1] if side < 0 else fwd[ks]
        ok, inside = warp_backward_frames(free[ks + side], flows_k, backend=backend)
        usable = (ok > 0.99) & inside
        v, _ = warp_backward_frames(work[ks + side], flows_k, backend=backend)
        total[ks] += np.where(usable[..., None], v, 0)
        weight[ks] += usable
    return total / np.maximum(weight, 1)[..., None], weight > 0


def _prefer_neighbour_mean(out, base, mask, kind_map, prov, backend, settings: Settings, flows=None):
    """Per blotch, the mean of both neighbours instead of the pipeline's fill where it continues the picture better.

    The pipeline copies each pixel from one source along a flow completed
    inside the hole from its border, which cannot know that the edge of a
    fast ball and the leg behind it move differently; for dirt seen in one
    frame only, the two neighbours along the flow between the frames
    themselves are often better, and sometimes worse (a fast pan). Which one
    continues the picture is judged at the blotch's edge: the mean colour of
    each fill's outer layer against the mean of the known pixels around it
    (on the shared clips' true blotches: 30.4 dB against 28.0 for the
    pipeline alone and 28.4 for the mean alone). Returns the frames and
    ``{(frame, y, x of the region's first pixel): [source frames]}`` for the
    regions that took the mean.
    """

    src, work, grey = _arrays.frames_float(out)
    _, ref, _ = _arrays.frames_float(base)
    mean, defined = _neighbour_mean(ref, mask, backend, settings, flows)
    t = mask.shape[0]
    chosen = {}
    for k in range(t):
        lab, n = ndimage.label(mask[k] & (kind_map[k] != 2), structure=np.ones((3, 3)))
        for i, sl in enumerate(ndimage.find_objects(lab), start=1):
            if sl is None:
                continue
            pad = tuple(slice(max(0, s.start - 2), s.stop + 2) for s in sl)
            reg = lab[pad] == i
            if not defined[k][pad][reg].all():
                continue
            edge = reg & ~ndimage.binary_erosion(reg)
            ring = ndimage.binary_dilation(reg) & ~mask[k][pad]
            if not ring.any():
                continue
            around = ref[k][pad][ring].mean(axis=0)
            if np.abs(mean[k][pad][edge].mean(0) - around).mean() <= np.abs(work[k][pad][edge].mean(0) - around).mean():
                block = work[k][pad]
                block[reg] = mean[k][pad][reg]
                ys, xs = np.nonzero(reg)
                ys, xs = ys + pad[0].start, xs + pad[1].start
                prov.method[k, ys, xs] = pipeline.PROPAGATED
                prov.source_frame[k, ys, xs] = k - 1 if k > 0 else k + 1
                prov.confidence[k, ys, xs] = 1.0
                order = np.lexsort((xs, ys))
                chosen[(k, int(ys[order[0]]), int(xs[order[0]]))] = [j for j in (k - 1, k + 1) if 0 <= j < t]
    return _arrays.composite(src, work, mask, grey), chosen


def _diagonal_sigma(img: np.ndarray, sel: np.ndarray) -> float:
    """Noise sigma from the finest detail over ``sel`` (Donoho's MAD estimator: edges barely count).

    The diagonal detail of 2x2 blocks inside ``sel``; for a region too thin
    for those (a line scratch), the difference of vertical neighbours.
    """
    d = 0.5 * (img[:-1, :-1] - img[:-1, 1:] - img[1:, :-1] + img[1:, 1:])
    v = d[sel[:-1, :-1] & sel[1:, 1:] & sel[:-1, 1:] & sel[1:, :-1]]
    if v.size < 8:
        v = ((img[:-1] - img[1:]) / np.sqrt(2))[sel[:-1] & sel[1:]]
    return float(np.median(np.abs(v)) / 0.6745) if v.size >= 8 else 0.0


def _regrain(out, reference, mask, seed):
    """``out`` with noise added in each region of ``mask``: the grain its repair averaged away.

    The film's grain is estimated per frame and channel from the finest
    diagonal detail of the reference frame outside the mask, what is left of
    it in a repaired region the same way, and the difference is added as
    noise.
    """
    src, work, grey = _arrays.frames_float(out)
    _, ref, _ = _arrays.frames_float(reference)
    t, h, w, c = work.shape
    rng = np.random.default_rng(seed)
    for k in range(t):
        if not mask[k].any():
            continue
        want = [_diagonal_sigma(ref[k][..., ch], ~mask[k]) for ch in range(c)]
        lab, n = ndimage.label(mask[k], structure=np.ones((3, 3)))
        for i, sl in enumerate(ndimage.find_objects(lab), start=1):
            region = lab[sl] == i
            ys, xs = np.nonzero(region)
            block = work[k][sl]
            for ch in range(c):
                have = _diagonal_sigma(block[..., ch], region)
                add = np.sqrt(max(want[ch] ** 2 - have**2, 0.0))
                if add > 0.5 / 255:
                    block[ys, xs, ch] += rng.normal(0.0, add, ys.size).astype(np.float32)
    return _arrays.composite(src, work, mask, grey)


def _flicker_fixes(original, corrected, mask, flick, first_id, window):
    """One fix per frame that the flicker correction changed: its changed pixels outside the defects."""

    t = original.shape[0]
    strength = flick.strength()
    fixes = []
    for k in range(t):
        diff = corrected[k] != original[k]
        changed = (diff.any(axis=-1) if diff.ndim == 3 else diff) & ~mask[k]
        if not changed.any():
            continue
        ys, xs = np.nonzero(changed)
        g = flick.gain[k]
        lo, hi = max(0, k - window), min(t, k + window + 1)
        fixes.append(
            Fix(
                id=first_id + len(fixes) + 1,
                frame=k,
                bbox=(int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1),
                area=int(ys.size),
                kind="flicker",
                score=float(strength[k]),
                method=f"deflicker: brightness gain {float(g.min()):.3f}-{float(g.max()):.3f}",
                sources=[j for j in range(lo, hi) if j != k],
                confidence=1.0,
                ys=ys.astype(np.int32),
                xs=xs.astype(np.int32),
            )
        )
    return fixes


def revert(restored, original, fixes, ids):
    """Put back the original pixels of the fixes whose ``id`` is in ``ids``; bit-exact.

    Returns a new array; neither input is modified. Reverting every fix
    gives back ``original``.
    """
    restored = np.asarray(restored)
    original = np.asarray(original)
    if restored.shape != original.shape or restored.dtype != original.dtype:
        raise ValueError(
            f"restored and original must match in shape and dtype, got {restored.shape} {restored.dtype} "
            f"and {original.shape} {original.dtype}"
        )
    wanted = {int(i) for i in ids}
    known = {f.id for f in fixes}
    missing = sorted(wanted - known)
    if missing:
        raise ValueError(f"ids {missing} are not among the fixes (ids 1..{max(known) if known else 0})")
    out = restored.copy()
    for f in fixes:
        if f.id in wanted:
            out[f.frame, f.ys, f.xs] = original[f.frame, f.ys, f.xs]
    return out
