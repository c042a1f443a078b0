"""``hybridinpaint.inpaint``: flow-guided video completion with provenance."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np

from hybridinpaint.completion import arrays as _arrays
from hybridinpaint.completion import flow as flowmod
from hybridinpaint.completion import hallucinate as hallmod
from hybridinpaint.completion import propagate
from hybridinpaint.kernels import (
    HoleList,
    Placement,
    combine_sources_into,
    diffuse,
    gather_holes,
    key_frame_into,
    resolve_backend,
    seam_correct_into,
    seam_mismatch_into,
    sweep_start_into,
    unfilled_per_frame,
)
from hybridinpaint.kernels.checks import positive_int
from hybridinpaint.settings import Settings, resolve

__all__ = [
    "inpaint", "prepare", "complete", "complete_filled", "Prepared", "InpaintResult", "Provenance",
    "FilledProvenance", "METHOD_NAMES",
]  # fmt: skip

ORIGINAL, PROPAGATED, PATCH, HALLUCINATED, SPATIAL = 0, 1, 2, 3, 4
METHOD_NAMES = {
    ORIGINAL: "original",
    PROPAGATED: "propagated along flow",
    PATCH: "patch copy",
    HALLUCINATED: "hallucinated by the network",
    SPATIAL: "spatial fallback",
}
# The method code of each key-frame fill (hybridinpaint.completion.hallucinate.FILLS).
METHOD_OF_FILL = {"net": HALLUCINATED, "patch": PATCH, "fsr": SPATIAL, "telea": SPATIAL, "ns": SPATIAL}


@dataclass
class Provenance:
    """How each pixel was obtained (DESIGN.md, data contracts).

    Attributes
    ----------
    method : ndarray of uint8, shape (T, H, W)
        0 original, 1 propagated along flow, 2 patch copy, 3 hallucinated by
        the network, 4 spatial fallback.
    source_frame : ndarray of int32, shape (T, H, W)
        Frame the colour was sampled from (the pixel's own frame for
        originals and spatial fills).
    source_xy : ndarray of float32, shape (T, H, W, 2)
        ``(x, y)`` position sampled in ``source_frame``.
    confidence : ndarray of float32, shape (T, H, W)
        1 for originals; lower for longer chains and spatial guesses.
    """

    method: np.ndarray
    source_frame: np.ndarray
    source_xy: np.ndarray
    confidence: np.ndarray

    @classmethod
    def identity(cls, t: int, h: int, w: int) -> Provenance:
        """Every pixel original, from itself, with full confidence."""
        frame = np.broadcast_to(np.arange(t, dtype=np.int32)[:, None, None], (t, h, w)).copy()
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        xy = np.broadcast_to(np.stack([xx, yy], -1), (t, h, w, 2)).copy()
        return cls(np.zeros((t, h, w), np.uint8), frame, xy, np.ones((t, h, w), np.float32))


@dataclass
class FilledProvenance:
    """:class:`Provenance` of the filled pixels only, one entry each; every other pixel is its own source.

    What :func:`complete_filled` returns, for a caller that would only throw
    the rest away (17 bytes per pixel of the whole video, made on the host).

    Attributes
    ----------
    t, y, x : ndarray of int64, shape (N,)
        Where each filled pixel is, in C order (frame, then row, then column).
    method, source_frame, source_xy, confidence : ndarray, shapes (N,), (N,), (N, 2), (N,)
        As in :class:`Provenance`, at those pixels.
    """

    t: np.ndarray
    y: np.ndarray
    x: np.ndarray
    method: np.ndarray
    source_frame: np.ndarray
    source_xy: np.ndarray
    confidence: np.ndarray

    def dense(self, shape: tuple[int, int, int]) -> Provenance:
        """The whole :class:`Provenance` of a ``(T, H, W)`` video."""
        prov = Provenance.identity(*shape)
        for name in ("method", "source_frame", "source_xy", "confidence"):
            getattr(prov, name)[self.t, self.y, self.x] = getattr(self, name)
        return prov


@dataclass
class InpaintResult:
    """What :func:`inpaint` returns with ``return_result=True``."""

    frames: np.ndarray
    provenance: Provenance
    flows: dict = field(default_factory=dict)  # "forward", "backward": completed (T-1, H, W, 2)
    stats: dict = field(default_factory=dict)  # pixels per method, seconds per stage
    masks: np.ndarray | None = None  # the (dilated) hole actually filled


def inpaint(
    frames,
    masks,
    *,
    flow="dis",
    mask_dilation=0,
    flow_dilation=8,
    hallucinate="patch",
    seams=True,
    backend="auto",
    settings=None,
    progress=False,
    return_result=False,
):
    """Fill the masked pixels of a video from what other frames show.

    Optical flow is estimated between neighbouring frames (holes pre-filled
    so the estimator does not see them), completed inside the holes by
    Laplace diffusion, and followed frame to frame in both directions,
    carrying source coordinates with a forward-backward consistency check at
    each step. Each hole pixel takes its colour from its nearest consistent
    sources, sampled once from the original frames and brought to its own
    frame's exposure (flicker). What no frame shows is
    filled on a key frame by a classical spatial method and propagated like
    everything else, until nothing is left.

    Parameters
    ----------
    frames : ndarray, shape (T, H, W, C) or (T, H, W)
        uint8, uint16, or float32/float64 in [0, 1]. Channels are treated
        alike (RGB or BGR, it does not matter here).
    masks : array_like of bool, shape (T, H, W) or (H, W)
        True (or 1, or 255) where a pixel is missing. An ``(H, W)`` mask
        applies to every frame.
    flow : {"dis", "farneback", "dualtvl1", "rlof"}, keyword-only
        OpenCV optical-flow estimator.
    mask_dilation : int, keyword-only
        Grow the masks by this many pixels first (to cover halos).
    flow_dilation : int, keyword-only
        Flow within this distance of a hole is replaced by its completion,
        so motion of objects at the hole's edge does not leak into the fill.
    hallucinate : {"patch", "fsr", "telea", "ns", "net"}, keyword-only
        Fill of a key frame's pixels that no frame shows, then propagated
        like everything else: ``"patch"`` (FSR as a guide, then
        coarse-to-fine PatchMatch copying real texture from around the
        hole), xphoto's fast frequency-selective reconstruction (FSR),
        OpenCV TELEA or Navier-Stokes, or ``"net"`` (the patch fill with its
        guide corrected by the bundled network, run by OpenCV's dnn). ``"patch"``
        is the default because it measured best on average over every shared
        clip's stationary holes (``benchmarks/quality.py --kinds stationary
        --fill``: +1.69 dB hole PSNR over per-frame TELEA, against +1.23 for
        FSR and +1.20 for ``"net"``); it is not the best fill on every clip
        (see benchmarks/RESULTS.md).
    seams : bool, keyword-only
        Spread the colour mismatch along each fill's border into the fill
        (Laplace diffusion), so exposure changes between frames leave no edge.
    backend : {"auto", "cpu", "cuda"}, keyword-only
        Where the kernels run.
    settings : Settings, dict or path, optional, keyword-only
        The tunables of this run (:class:`hybridinpaint.settings.Settings`,
        a dict of its sections, or a TOML file's path); the defaults when
        None.
    progress : bool, keyword-only
        Print one line per stage to stderr.
    return_result : bool, keyword-only
        Return an :class:`InpaintResult` instead of the frames alone.

    Returns
    -------
    ndarray or InpaintResult
        Frames of the input's shape and dtype; pixels outside the (dilated)
        mask are bit-identical to the input.

    Examples
    --------
    >>> import numpy as np, hybridinpaint
    >>> rng = np.random.default_rng(0)
    >>> scene = rng.random((40, 80, 3)).astype(np.float32)
    >>> video = np.stack([scene[:, t : t + 48] for t in range(5)])  # the camera pans
    >>> hole = np.zeros((5, 40, 48), bool); hole[:, 15:25, 20:30] = True
    >>> res = hybridinpaint.inpaint(video, hole, backend="cpu", return_result=True)
    >>> res.frames.shape, res.frames.dtype
    ((5, 40, 48, 3), dtype('float32'))
    >>> bool((res.frames[~hole] == video[~hole]).all())
    True
    """
    prepared = prepare(
        frames, masks, flow=flow, mask_dilation=mask_dilation, flow_dilation=flow_dilation,
        hallucinate=hallucinate, seams=seams, backend=backend, settings=settings, progress=progress,
    )  # fmt: skip
    return complete(prepared, return_result=return_result)


@dataclass
class Prepared:
    """What :func:`prepare` made of one call of :func:`inpaint`, for one :func:`complete`.

    ``flows`` are ``(forward, backward)`` at full size, ``gain`` each
    frame's exposure; both None where the masks are empty. On the CPU the
    fill is built in ``inp.work`` itself, so it is completed once only.
    """

    inp: _Input
    flows: tuple | None
    gain: np.ndarray | None
    hallucinate: str
    seams: bool
    settings: Settings
    clock: _Clock
    spent: bool = False


def prepare(
    frames,
    masks,
    *,
    flow="dis",
    mask_dilation=0,
    flow_dilation=8,
    hallucinate="patch",
    seams=True,
    backend="auto",
    settings=None,
    progress=False,
) -> Prepared:
    """The first half of :func:`inpaint` (same arguments but ``return_result``): checks, flows, exposures.

    It runs mostly on the host (OpenCV's optical flow) whatever the backend,
    so a chunked run prepares the next chunk while :func:`complete` fills
    this one on the device (``runs.stream``, ``[stream] OVERLAP``).
    ``complete(prepare(...))`` is ``inpaint(...)``, to the bit.
    """
    settings = resolve(settings)
    clock = _Clock(progress)
    inp = _validate(frames, masks, flow, mask_dilation, flow_dilation, hallucinate, backend)
    clock("validate")
    if not inp.hole.any():
        return Prepared(inp, None, None, hallucinate, seams, settings, clock)
    motion = _flows(inp, flow, flow_dilation, settings, clock)
    gain = _exposures(motion.small, motion.small_hole, motion.small_forward, settings)
    clock("exposure")
    return Prepared(inp, (motion.forward, motion.backward), gain, hallucinate, seams, settings, clock)


def complete(prepared: Prepared, *, return_result=False):
    """The second half of :func:`inpaint`: the fill, where the backend's kernels run, and the composite."""
    p, fill = _complete_fill(prepared)
    if fill is None:
        return _finish(p.inp, None, None, p.clock, return_result)
    out, filled = _composite(p, fill, with_provenance=return_result)
    return _finish(p.inp, fill, p.flows, p.clock, return_result, out, filled)


def complete_filled(prepared: Prepared) -> tuple[np.ndarray, np.ndarray, FilledProvenance]:
    """:func:`complete`, with the provenance of the filled pixels only: ``(frames, masks, filled)``.

    ``frames`` are what :func:`complete` returns, ``masks`` the (dilated)
    hole that was filled (``InpaintResult.masks``), ``filled`` its pixels'
    provenance (:meth:`FilledProvenance.dense` makes the whole one).
    """
    p, fill = _complete_fill(prepared)
    if fill is None:
        none = np.zeros(0, np.int64)
        empty = FilledProvenance(none, none, none, np.zeros(0, np.uint8), np.zeros(0, np.int32),
                                 np.zeros((0, 2), np.float32), np.zeros(0, np.float32))  # fmt: skip
        return p.inp.original.copy(), p.inp.hole, empty
    out, filled = _composite(p, fill, with_provenance=True)
    return out, p.inp.hole, filled


def _composite(p: Prepared, fill: _Fill, *, with_provenance) -> tuple[np.ndarray, FilledProvenance | None]:
    """The input with the fill's colours in its hole, and (if asked) the filled pixels' provenance."""
    colours, filled = fill.result(with_provenance=with_provenance)
    out = _arrays.composite_values(p.inp.original, colours, p.inp.hole, p.inp.grey)
    p.clock("composite")
    return out, filled


def _complete_fill(prepared) -> tuple[Prepared, _Fill | None]:
    """Check ``prepared`` and mark it spent; the fill (None where there was nothing to fill)."""
    if not isinstance(prepared, Prepared):
        raise TypeError(f"prepared must be what prepare() returned, got {type(prepared).__name__}")
    p = prepared
    if p.spent:
        raise ValueError("prepared was completed already: prepare() again (the first fill was built in its arrays)")
    p.spent = True
    p.clock.restart()  # time spent waiting between the halves is no stage's
    if p.flows is None:
        return p, None
    return p, _fill(p.inp, p.flows, p.gain, p.hallucinate, p.seams, p.settings, p.clock)


def _fill(inp: _Input, flows, gain, hallucinate, seams, settings, clock) -> _Fill:
    """Propagation rounds and key frames until every hole pixel has a colour, then the seams.

    The video's arrays are put where the kernels run once, at the start, and
    stay there to the end (``_Fill.result`` gets back the hole's pixels);
    between rounds the host gets one count per frame and, per key frame,
    that frame and its hole's flags.
    """
    place = Placement(inp.target)
    fill = _Fill.start(inp, gain, place)
    placed_flows = place.put(flows[0]), place.put(flows[1])
    clock("placement")
    while True:
        fill.colour(*_propagate_round(fill, placed_flows, settings))
        clock("propagation")
        left = unfilled_per_frame(place, fill.holes, fill.filled)
        if not left.any():
            break
        # The frame with the most of what no frame shows.
        fill.key_frame(int(np.argmax(left)), hallucinate, settings)
        clock("key frames")
    if seams and inp.work.shape[0] > 1:
        _remove_seams(fill, inp.hole, settings)
        clock("seams")
    return fill


class _Clock:
    """Seconds per named stage; optionally announced on stderr."""

    def __init__(self, progress):
        self.progress, self.timings, self.last = progress, {}, time.perf_counter()

    def __call__(self, name):
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.last
        self.last = now
        if self.progress:
            print(f"hybridinpaint: {name} done ({self.timings[name]:.2f} s)", file=sys.stderr, flush=True)

    def restart(self):
        """Count from now: the time since the last stage belongs to none."""
        self.last = time.perf_counter()


@dataclass(frozen=True)
class _Input:
    """The validated call: ``original`` as given, ``work`` its float32 (T, H, W, C) copy, the grown holes.

    Frozen as a record only: on the CPU ``work`` is the array the fill is built in (``_Fill.work``
    is it); with CUDA the fill is built in a device copy of it.
    """

    original: np.ndarray
    work: np.ndarray
    grey: bool
    hole: np.ndarray
    target: str


def _validate(frames, masks, flow, mask_dilation, flow_dilation, hallucinate, backend) -> _Input:
    original, work, grey = _arrays.frames_float(frames)
    t, h, w, c = work.shape
    hole = _arrays.masks_bool(masks, (t, h, w))
    mask_dilation = positive_int(mask_dilation, "mask_dilation", minimum=0)
    positive_int(flow_dilation, "flow_dilation", minimum=0)
    if flow not in flowmod.METHODS:
        raise ValueError(f"flow must be one of {flowmod.METHODS!r}, got {flow!r}")
    if hallucinate not in hallmod.FILLS:
        raise ValueError(f"hallucinate must be one of {hallmod.FILLS!r}, got {hallucinate!r}")
    target = resolve_backend(backend)
    hole = flowmod.dilate(hole, mask_dilation)
    full = hole.reshape(t, -1).all(axis=1)
    if full.any():
        raise ValueError(
            f"masks cover every pixel of frame {int(np.flatnonzero(full)[0])}: nothing is left to fill it from"
        )
    return _Input(original, work, grey, hole, target)


@dataclass(frozen=True)
class _Motion:
    """A video's flows: ``forward`` and ``backward`` at full size, and the working size they were made at.

    ``small`` and ``small_hole`` are the frames and holes at the working
    size, ``small_forward`` the completed forward flows there.
    """

    forward: np.ndarray
    backward: np.ndarray
    small: np.ndarray
    small_hole: np.ndarray
    small_forward: np.ndarray


def _flows(inp: _Input, flow, flow_dilation, settings, clock) -> _Motion:
    """Forward and backward flow on pre-filled frames, completed inside the grown holes.

    Both at a working size of at most 640 px wide (a 1080p flow field is
    smooth enough to be estimated and completed at a third of its width).
    """
    t, h, w, _ = inp.work.shape
    if t < 2:
        none = np.zeros((0, h, w, 2), np.float32)
        return _Motion(none, none, inp.work, inp.hole, none)
    size = flowmod.working_size(h, w, settings=settings)
    target = "cpu" if settings.pipeline.FLOW_ON_HOST else inp.target
    small, small_hole = flowmod.downscale(inp.work, inp.hole, size)
    grey8 = flowmod.prefill(small, small_hole, target)
    clock("prefill")
    fwd, bwd = flowmod.estimate(grey8, flow)
    clock("flow")
    grown = flowmod.within(small_hole, flow_dilation * size[1] / w) if flow_dilation else small_hole
    fwd, bwd = flowmod.complete_pair(fwd, bwd, grown, target, settings=settings)
    motion = _Motion(flowmod.upscale(fwd, (h, w)), flowmod.upscale(bwd, (h, w)), small, small_hole, fwd)
    clock("flow completion")
    return motion


def _exposures(work, hole, fwd, settings) -> np.ndarray:
    """Each frame's exposure relative to the first (shape (T,)), chained along the forward flows.

    The ratio of frame t + 1 to frame t is the median, over pixels outside
    both holes whose flow lands inside the frame, of the brightness of t + 1
    where the pixel lands over its brightness in t (dark pixels, whose
    ratio is noise, left out). Flicker and automatic exposure change the
    whole frame alike; a moving object changes a minority of the pixels.
    The pipeline measures it at the flow's working size: on 5 shared clips
    scaled to 1080p with known random gains (0.85-1.15), the gains found
    there and at full size differed by at most 0.4%, less than either's
    error against the truth (0.4-14%), for a ninth of the pixels.
    """
    import cv2

    t, h, w, _ = work.shape
    gain = np.ones(t, np.float32)
    if t < 2 or not settings.pipeline.EXPOSURE:
        return gain
    colour = _colour_channels(work.shape[3])
    grey = work[..., colour].mean(axis=3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for k in range(t - 1):
        mx, my = xx + fwd[k, ..., 0], yy + fwd[k, ..., 1]
        there = cv2.remap(grey[k + 1], mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        landed = cv2.remap((~hole[k + 1]).astype(np.float32), mx, my, cv2.INTER_LINEAR) > 0.99
        # Both ends bright enough to measure: a link through a black frame is left at 1, not halved for good.
        inside = (mx >= 0) & (my >= 0) & (mx <= w - 1) & (my <= h - 1)
        ok = ~hole[k] & landed & inside & (grey[k] > 0.05) & (there > 0.05)
        ratio = float(np.median(there[ok] / grey[k][ok])) if ok.sum() > 0.05 * h * w else 1.0
        gain[k + 1] = gain[k] * np.float32(np.clip(ratio, 0.5, 2.0))
    return gain


def _colour_channels(c: int) -> slice:
    """The channels exposure acts on: not an alpha (the 2nd of two, the 4th of four)."""
    return slice(0, 1) if c == 2 else slice(0, 3) if c == 4 else slice(0, c)


@dataclass
class _HoleProvenance:
    """:class:`Provenance` of a fill's listed hole pixels (``HoleList``), one row each: (N,), (N,), (N, 2), (N,)."""

    method: np.ndarray
    source_frame: np.ndarray
    source_xy: np.ndarray
    confidence: np.ndarray

    @classmethod
    def empty(cls, place: Placement, n: int) -> _HoleProvenance:
        """Rows to be written: each once, by the propagation that fills its pixel or by its key frame."""
        shapes = ((n, np.uint8), (n, np.int32), ((n, 2), np.float32), (n, np.float32))
        return cls(*(place.empty(shape, dtype) for shape, dtype in shapes))


@dataclass
class _Fill:
    """The fill being built: the one value the fill loop changes (its two methods, then ``_remove_seams``).

    Its video-sized arrays live in ``place`` (host memory for the CPU
    kernels, device memory for CUDA) from the start to :meth:`result`.
    ``work`` is the output being built (float32, (T, H, W, C); on the CPU
    the input's ``work`` itself), and what sources are sampled from where
    ``known`` (uint8) is 1: the originals, and each key frame once it is
    one (its guess and what was propagated into it before). Sampling reads
    ``known`` pixels only (the weight of any other is 0), and no known pixel
    of ``work`` changes until the seams, which measure every key frame's
    mismatch before correcting it: so the sources need no copy of their
    own. ``guessed`` is the method code of key-frame guesses (else 0);
    ``prov`` the provenance of the listed hole pixels, by row (every other
    pixel is its own source, and is made so on the host only if asked);
    ``gain`` each frame's exposure; ``decay`` the confidence of a source
    ``steps`` frames away; ``filled`` (uint8) which listed hole pixels have a
    colour. On the host: the key frames filled so far.
    """

    place: Placement
    work: np.ndarray
    known: np.ndarray
    guessed: np.ndarray
    holes: HoleList
    own: np.ndarray
    no_steps: np.ndarray
    prov: _HoleProvenance
    gain: np.ndarray
    decay: np.ndarray
    filled: np.ndarray
    key_frames: list = field(default_factory=list)

    @classmethod
    def start(cls, inp: _Input, gain, place: Placement) -> _Fill:
        t = inp.work.shape[0]
        holes = HoleList(inp.hole)
        holes.placed(place)  # the list's coordinates and index, once for the whole run
        work, n = place.put(inp.work), holes.size
        return cls(
            place=place,
            work=work,
            known=place.put((~inp.hole).view(np.uint8)),
            guessed=place.zeros(inp.hole.shape, np.uint8),
            holes=holes,
            own=place.put(holes.own_positions()),
            no_steps=place.zeros(holes.size, np.int32),
            prov=_HoleProvenance.empty(place, n),
            gain=place.put(gain),
            decay=place.put(np.exp(-np.arange(t) / 30.0).astype(np.float32)),
            filled=place.zeros(holes.size, np.uint8),
        )

    def colour(self, fw, bw) -> None:
        """Colour the hole pixels not yet filled that a sweep reached; record their provenance."""
        place, prov = self.place, self.prov
        combine_sources_into(
            place, self.holes, fw, bw, self.work, self.known, self.gain, self.guessed, self.decay, self.work,
            prov.method, prov.source_frame, prov.source_xy, prov.confidence, self.filled,
            n_gain=_colour_channels(self.work.shape[3]).stop,
        )  # fmt: skip

    def key_frame(self, k, hallucinate, settings) -> None:
        """Fill what no frame shows in frame ``k``; it becomes a source for the others."""
        place, prov, holes = self.place, self.prov, self.holes
        t, h, w, _ = self.work.shape
        self.key_frames.append(k)
        rows = slice(int(holes.starts[k]), int(holes.starts[k + 1]))
        left = np.zeros((h, w), bool)
        todo = place.get_frame(self.filled, rows) == 0
        left[holes.ys[rows][todo], holes.xs[rows][todo]] = True
        # work[k] holds the originals and everything propagated so far.
        image = place.get_frame(self.work, k)
        if hallucinate == "patch" and self.key_frames[:-1]:
            guess, nnf, ran = _fill_reduced(image, left, hallucinate, place.target, settings)
        else:
            guess, nnf, ran = hallmod.fill(image, left, hallucinate, settings=settings, backend=place.target)
        # Provenance names the fill that ran, which is not always the one asked for (hallmod.fill).
        key_frame_into(
            place, holes, k, left, guess.astype(np.float32, copy=False), nnf, METHOD_OF_FILL[ran], self.work, self.work,
            self.known, self.guessed, *vars(prov).values(),
        )  # fmt: skip
        place.put_frame(self.filled, rows, np.ones(rows.stop - rows.start, np.uint8))

    def result(self, with_provenance=True) -> tuple[np.ndarray, FilledProvenance | None]:
        """The hole pixels' colours (float32 (N, C), in the hole list's order) and their provenance, on the host.

        Only the hole's pixels come back from the device.
        """
        holes = self.holes
        colours = gather_holes(self.place, holes, self.work)
        if not with_provenance:
            return colours, None
        rows = (self.place.get(a) for a in vars(self.prov).values())
        return colours, FilledProvenance(holes.ts, holes.ys, holes.xs, *rows)


def _propagate_round(fill: _Fill, flows, settings) -> tuple[tuple, tuple]:
    """Both sweeps along the flows: for each hole pixel, its source ``(frame, xy, steps)`` in each direction."""
    fwd, bwd = flows
    holes, place = fill.holes, fill.place
    # Hole pixels of key frames are sources already; the rest start without one.
    key = np.zeros(fill.work.shape[0], np.uint8)
    key[fill.key_frames] = 1
    start = place.empty(holes.size, np.int32)
    sweep_start_into(place, holes, place.put(key), start)
    if fill.work.shape[0] < 2:
        none = start, fill.own, fill.no_steps
        return none, none
    target = place.target
    fw = propagate.sweep(holes, start, fill.own, fill.no_steps, bwd, fwd, True, target, settings=settings)
    bw = propagate.sweep(holes, start, fill.own, fill.no_steps, fwd, bwd, False, target, settings=settings)
    return (fw.frame, fw.xy, fw.steps), (bw.frame, bw.xy, bw.steps)


def _fill_reduced(image, left, how, backend, settings):
    """``hallmod.fill`` (TELEA-guided) at 1/``LATER_KEY_SCALE`` of the working size; fill and field scaled back."""
    import cv2

    h, w = left.shape
    # Relative to the flow's working size (at most 640 px wide), as the slivers come from the flow.
    s = int(settings.pipeline.LATER_KEY_SCALE) * max(1, round(w / flowmod.working_size(h, w, settings=settings)[1]))
    if s <= 1 or min(h, w) < 32 * s:
        return hallmod.fill(image, left, how, settings=settings, backend=backend, guide="telea")
    size = (w // s, h // s)
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], image.shape[2])
    small_left = cv2.resize(left.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
    part, nnf, ran = hallmod.fill(small, small_left, how, settings=settings, backend=backend, guide="telea")
    guess = image.copy()
    guess[left] = cv2.resize(part, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, -1)[left]
    if nnf is not None:
        # Scaled before it is enlarged: a nearest-neighbour resize only copies entries (same values, 1/s^2 the work).
        nnf[..., 1:] = np.where(nnf[..., 1:] >= 0, np.minimum(nnf[..., 1:] * s, [h - 1, w - 1]), -1)
        nnf = cv2.resize(nnf, (w, h), interpolation=cv2.INTER_NEAREST)
    return hallmod.Fill(guess, nnf, ran)


def _finish(inp: _Input, fill: _Fill | None, flows, clock, return_result, out=None, filled=None):
    """``inpaint``'s return value: the frames ``out`` (a copy of the input where ``fill`` is None), or the result."""
    if fill is None:
        out = inp.original.copy()
    if not return_result:
        return out
    if filled is None:
        prov = Provenance.identity(*inp.hole.shape)
    else:
        prov = filled.dense(inp.hole.shape)
        clock("provenance")
    flows = {} if flows is None else {"forward": flows[0], "backward": flows[1]}
    res = InpaintResult(out, prov, flows, {"seconds": dict(clock.timings), "pixels": {}}, inp.hole)
    if fill is not None:
        res.stats["pixels"] = {
            METHOD_NAMES[m]: int((filled.method == m).sum()) for m in (PROPAGATED, PATCH, HALLUCINATED, SPATIAL)
        }
        res.stats["key_frames"] = fill.key_frames
    return res


def _remove_seams(fill: _Fill, hole, settings):
    """Add to each frame's fill the Laplace interpolation of its border mismatch.

    For a known pixel q next to a hole pixel p whose colour came from another
    frame, the source predicts q's colour at the same offset from p's source
    position; the difference from q's real colour is the mismatch there
    (``kernels.seam_mismatch_into``). Each frame's mismatch is made over the
    box of its hole grown by one pixel (the box ``diffuse`` solves on) and
    diffused on a host copy of that box. A key frame's fill is a source
    for the others' (``_Fill``): its correction waits until every frame's
    mismatch has been measured against the fill as it was.
    """
    place, prov, holes = fill.place, fill.prov, fill.holes
    t, h, w, c = fill.work.shape
    solver = "cpu" if settings.pipeline.SEAMS_ON_HOST else place.target
    sources, later = set(fill.key_frames), []
    for k in range(t):
        a, b = holes.starts[k], holes.starts[k + 1]
        if a == b:
            continue
        xs = holes.xs[a:b]
        y0, y1 = max(int(holes.ys[a]) - 1, 0), min(int(holes.ys[b - 1]) + 2, h)
        x0, x1 = max(int(xs.min()) - 1, 0), min(int(xs.max()) + 2, w)
        # The kernel writes every cell of the box: nothing to clear (or, on a device, to send).
        total, count = place.empty((y1 - y0, x1 - x0, c), np.float32), place.empty((y1 - y0, x1 - x0), np.float32)
        seam_mismatch_into(
            place, holes, k, (y0, x0), prov.source_frame, prov.source_xy, fill.work, fill.known, fill.gain,
            fill.work, total, count, n_gain=_colour_channels(c).stop, seam_max=settings.pipeline.SEAM_MAX,
        )  # fmt: skip
        n = place.get(count)
        if not n.any():
            continue
        field = place.get(total) / np.maximum(n, 1)[:, :, None]
        corr = diffuse(field, hole[k, y0:y1, x0:x1], tol=1e-3, backend=solver)
        if k in sources:
            later.append((k, (y0, x0), corr))
        else:
            seam_correct_into(place, holes, k, (y0, x0), prov.source_frame, place.put(corr), fill.work)
    for k, corner, corr in later:
        seam_correct_into(place, holes, k, corner, prov.source_frame, place.put(corr), fill.work)
