"""Flow propagation of source coordinates, and sampling over known pixels."""

from __future__ import annotations

import numpy as np

from . import propagation_fns  # noqa: F401 - registers the bodies
from ._accelerate import launch_cuda, resolve_backend, run_cpu
from .checks import bool_mask, describe, real_float32
from .placement import Placement, as_numba, on_device

__all__ = [
    "propagate_sources",
    "propagate_holes",
    "sample_known",
    "HoleList",
    "combine_sources_into",
    "seam_mismatch_into",
    "seam_correct_into",
    "key_frame_into",
    "sweep_start_into",
    "unfilled_per_frame",
    "gather_holes",
]


def _flows(x, name, shape, check_finite=True):
    if on_device(x) and as_numba(x).dtype == np.float32:
        arr = as_numba(x)  # placed flows: their values stay on the device, unchecked
    else:
        arr = real_float32(x, name, ndim=(4,), allow_nonfinite=not check_finite)
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape (T - 1, H, W, 2) = {shape}, got {describe(arr)}")
    return arr


def propagate_sources(known, step_flows, check_flows, *, forward, tau_abs=2.0, tau_rel=0.1, backend="auto"):
    """Chain every unknown pixel to a known one along flow, frame by frame.

    A sweep visits the frames in order (``forward=True``: 1 .. T-1, each
    looking one frame back; ``forward=False``: T-2 .. 0, each looking one
    frame ahead). An unknown pixel steps along the flow into the frame just
    visited; the step counts when the flow there leads back to within
    ``tau_abs + tau_rel * |step|`` pixels (forward-backward consistency),
    and the pixel then inherits the source of the nearest pixel it lands on,
    plus the sub-pixel offset. Chains carry *where* to sample, never colour,
    so a colour is sampled once and stays sharp.

    Parameters
    ----------
    known : ndarray of bool, shape (T, H, W)
        Pixels that are their own source.
    step_flows, check_flows : ndarray, shape (T - 1, H, W, 2)
        For ``forward=True``: ``step_flows[t - 1]`` maps frame ``t`` to
        ``t - 1`` (the backward flows) and ``check_flows[t - 1]`` maps back
        (the forward flows). For ``forward=False``: ``step_flows[t]`` maps
        ``t`` to ``t + 1`` (forward) and ``check_flows[t]`` back (backward).
        OpenCV layout ``(dx, dy)``.
    forward : bool, keyword-only
        Sweep direction.
    tau_abs, tau_rel : float, keyword-only
        Consistency tolerance in pixels, absolute and relative to the step.
    backend : {"auto", "cpu", "cuda"}, keyword-only

    Returns
    -------
    frame : ndarray of int32, shape (T, H, W)
        Source frame of each pixel, -1 where the chain broke.
    pos : ndarray of float32, shape (T, H, W, 2)
        ``(x, y)`` in the source frame.
    steps : ndarray of int32, shape (T, H, W)
        Frames between pixel and source.

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.kernels import propagate_sources
    >>> known = np.ones((3, 1, 4), bool)
    >>> known[1, 0, 1:3] = known[2, 0, 2] = False  # holes in frames 1 and 2
    >>> right = np.zeros((2, 1, 4, 2), np.float32); right[..., 0] = 1  # content moves right
    >>> frame, pos, steps = propagate_sources(known, -right, right, forward=True, backend="cpu")
    >>> int(frame[2, 0, 2]), pos[2, 0, 2].tolist(), int(steps[2, 0, 2])  # two frames back, two pixels left
    (0, [0.0, 0.0], 2)
    """
    if not isinstance(known, np.ndarray) or known.ndim != 3:
        raise ValueError(f"known must be a 3-D (T, H, W) boolean array, got {describe(known)}")
    known = bool_mask(known, "known", shape=known.shape)
    t, h, w = known.shape
    shape = (max(t - 1, 0), h, w, 2)
    step = _flows(step_flows, "step_flows", shape) if t > 1 else np.zeros(shape, np.float32)
    check = _flows(check_flows, "check_flows", shape) if t > 1 else np.zeros(shape, np.float32)
    for name, val in (("tau_abs", tau_abs), ("tau_rel", tau_rel)):
        if not isinstance(val, (int, float, np.floating)) or not np.isfinite(val) or val < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {val!r}")
    target = resolve_backend(backend)
    t, h, w = known.shape
    holes = HoleList(~known)
    start = np.full(holes.size, -1, np.int32), holes.own_positions(), np.zeros(holes.size, np.int32)
    src, xy, n = _sweep(holes, *start, step, check, bool(forward), float(tau_abs), float(tau_rel), target)
    frame = np.broadcast_to(np.arange(t, dtype=np.int32)[:, None, None], (t, h, w)).copy()
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    pos = np.broadcast_to(np.stack([xx, yy], -1), (t, h, w, 2)).copy()
    steps = np.zeros((t, h, w), np.int32)
    sel = (holes.ts, holes.ys, holes.xs)
    frame[sel], pos[sel], steps[sel] = src, xy, n
    return frame, pos, steps


class HoleList:
    """The pixels of ``hole`` (``(T, H, W)`` bool) as a list, frame by frame.

    ``ts, ys, xs`` (int64) are their coordinates in C order; ``starts[t]``
    to ``starts[t + 1]`` are frame ``t``'s; ``index[t, y, x]`` (int32) is a
    pixel's place in the list, -1 off the hole. Per-pixel state of a video
    is then kept for the hole only, not the whole volume.
    """

    def __init__(self, hole: np.ndarray):
        t = hole.shape[0]
        self.ts, self.ys, self.xs = (a.astype(np.int64) for a in np.nonzero(hole))
        self.size = self.ts.size
        self.starts = np.searchsorted(self.ts, np.arange(t + 1)).astype(np.int64)
        self.index = np.full(hole.shape, -1, np.int32)
        self.index[self.ts, self.ys, self.xs] = np.arange(self.size, dtype=np.int32)
        self._placed = {}

    def placed(self, place: Placement) -> tuple:
        """``ts, ys, xs, index`` in ``place``'s memory (put there once, then reused)."""
        return self._placed_once(place)[:4]

    def placed_starts(self, place: Placement):
        """``starts`` in ``place``'s memory (put there once, then reused)."""
        return self._placed_once(place)[4]

    def _placed_once(self, place: Placement) -> tuple:
        if place.target not in self._placed:
            arrays = (self.ts, self.ys, self.xs, self.index, self.starts)
            self._placed[place.target] = tuple(place.put(a) for a in arrays)
        return self._placed[place.target]

    def own_positions(self) -> np.ndarray:
        """``(x, y)`` of each listed pixel, ``(N, 2)`` float32."""
        return np.stack([self.xs, self.ys], -1).astype(np.float32)


def propagate_holes(
    holes,
    frame,
    pos,
    steps,
    step_flows,
    check_flows,
    *,
    forward,
    tau_abs=2.0,
    tau_rel=0.1,
    check_finite=True,
    backend="auto",
):
    """One sweep of :func:`propagate_sources` over a :class:`HoleList`, from a given state.

    The sparse form the pipeline uses: per-pixel state is kept for the
    listed hole pixels only, and a sweep can start where an earlier one (or
    a filled key frame) left off.

    Parameters
    ----------
    holes : HoleList
        The hole pixels of a ``(T, H, W)`` video.
    frame : ndarray of int32, shape (N,)
        Starting source frame of each listed pixel; ``>= 0`` marks a pixel
        that has a source already (it is kept), -1 one to be found.
    pos : ndarray of float32, shape (N, 2)
        Starting ``(x, y)`` in the source frame.
    steps : ndarray of int32, shape (N,)
        Starting frame distance to the source.
    step_flows, check_flows : ndarray, shape (T - 1, H, W, 2)
        As in :func:`propagate_sources`.
    forward : bool, keyword-only
    tau_abs, tau_rel : float, keyword-only
    check_finite : bool, keyword-only
        Check that the flows hold no NaN or inf (a pass over both flow
        volumes); pass False for flows known to be finite.
    backend : {"auto", "cpu", "cuda"}, keyword-only
        With ``"cuda"``, the state and the flows may be device arrays
        (numba's, as :class:`~hybridinpaint.kernels.Placement` makes them, or
        any with ``__cuda_array_interface__``, taken without a copy); when the
        flows are, the results stay on the device too (as numba device arrays).

    Returns
    -------
    frame, pos, steps : ndarray
        Updated copies of the state (device arrays when the flows were on the device).

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.kernels import HoleList, propagate_holes
    >>> known = np.ones((2, 1, 3), bool); known[1, 0, 1] = False
    >>> holes = HoleList(~known)
    >>> still = np.zeros((1, 1, 3, 2), np.float32)
    >>> frame, pos, steps = propagate_holes(holes, np.full(1, -1, np.int32), holes.own_positions(),
    ...                                     np.zeros(1, np.int32), still, still, forward=True, backend="cpu")
    >>> int(frame[0]), pos[0].tolist(), int(steps[0])
    (0, [1.0, 0.0], 1)
    """
    if not isinstance(holes, HoleList):
        raise ValueError(f"holes must be a HoleList, got {type(holes).__name__}")
    t, h, w = holes.index.shape
    n = holes.size
    state = []
    for name, val, dtype, shape in (
        ("frame", frame, np.int32, (n,)),
        ("pos", pos, np.float32, (n, 2)),
        ("steps", steps, np.int32, (n,)),
    ):
        arr = as_numba(val) if on_device(val) else np.asarray(val)
        if arr.shape != shape or arr.dtype != dtype:
            raise ValueError(f"{name} must be {np.dtype(dtype)} of shape {shape}, got {describe(arr)}")
        state.append(arr)
    shape = (max(t - 1, 0), h, w, 2)
    step = _flows(step_flows, "step_flows", shape, check_finite) if t > 1 else np.zeros(shape, np.float32)
    check = _flows(check_flows, "check_flows", shape, check_finite) if t > 1 else np.zeros(shape, np.float32)
    for name, val in (("tau_abs", tau_abs), ("tau_rel", tau_rel)):
        if not isinstance(val, (int, float, np.floating)) or not np.isfinite(val) or val < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {val!r}")
    target = resolve_backend(backend)
    if target == "cpu" and any(on_device(a) for a in (*state, step, check)):
        raise ValueError("backend='cpu' takes numpy arrays; device arrays need backend='cuda'")
    return _sweep(holes, *state, step, check, bool(forward), float(tau_abs), float(tau_rel), target)


def _sweep(holes, frame, pos, steps, step, check, forward, tau_abs, tau_rel, target):
    """:func:`propagate_holes` on checked arguments."""
    t = holes.index.shape[0]
    order = range(1, t) if forward else range(t - 2, -1, -1)
    runs = []
    for k in order:
        a, b = int(holes.starts[k]), int(holes.starts[k + 1])
        if b > a:
            u, kf = (k - 1, k - 1) if forward else (k + 1, k)
            runs.append((b - a, a, k, u, kf))
    tau = (np.float32(tau_abs), np.float32(tau_rel))
    if target == "cpu":
        frame, pos, steps = np.array(frame), np.array(pos), np.array(steps)
        for n, a, k, u, kf in runs:
            run_cpu(
                "chain_px", (n,), a, holes.ys, holes.xs, k, u, kf, step, check, holes.index, frame, pos, steps, *tau
            )
        return frame, pos, steps
    place = Placement("cuda")
    _, ys, xs, index = holes.placed(place)
    fl = [place.put(x) for x in (step, check)]
    out = [place.copy(x) if on_device(x) else place.put(x) for x in (frame, pos, steps)]
    for n, a, k, u, kf in runs:
        launch_cuda("chain_px", (n,), a, ys, xs, k, u, kf, *fl, index, *out, *tau)
    return tuple(out) if on_device(step) else tuple(place.get(d) for d in out)


def sample_known(images, known, frame, x, y, *, check_finite=True, backend="auto"):
    """Colours at ``(frame, x, y)``, bilinear over the *known* neighbours only.

    Parameters
    ----------
    images : ndarray, shape (T, H, W, C)
    known : ndarray of bool, shape (T, H, W)
    frame : ndarray of int, shape (N,)
        Frame of each sample, in ``[0, T)``.
    x, y : ndarray of float, shape (N,)
        Positions; clamped to the frame.
    check_finite : bool, keyword-only
        Check that ``images`` holds no NaN or inf (a pass over the whole
        video); pass False for images known to be finite.
    backend : {"auto", "cpu", "cuda"}, keyword-only

    Returns
    -------
    colours : ndarray of float32, shape (N, C)
    ok : ndarray of bool, shape (N,)
        False where no pixel of the 2x2 footprint is known (the position
        drifted into a hole); the colour there is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.kernels import sample_known
    >>> img = np.array([[[[0.0], [1.0], [9.0]]]], np.float32)  # one frame, one row
    >>> known = np.array([[[True, True, False]]])
    >>> sample_known(img, known, np.array([0, 0]), np.array([0.5, 1.5]), np.array([0.0, 0.0]), backend="cpu")
    (array([[0.5],
           [1. ]], dtype=float32), array([ True,  True]))
    """
    imgs = real_float32(images, "images", ndim=(4,), allow_nonfinite=not check_finite)
    t, h, w, c = imgs.shape
    kn = bool_mask(known, "known", shape=(t, h, w))
    fr = np.ascontiguousarray(frame, dtype=np.int64)
    if fr.ndim != 1:
        raise ValueError(f"frame must be 1-D, got {describe(fr)}")
    if fr.size and (fr.min() < 0 or fr.max() >= t):
        raise ValueError(f"frame must lie in [0, {t}), got values from {fr.min()} to {fr.max()}")
    px = real_float32(x, "x", ndim=(1,)) if fr.size else np.zeros(0, np.float32)
    py = real_float32(y, "y", ndim=(1,)) if fr.size else np.zeros(0, np.float32)
    if px.shape != fr.shape or py.shape != fr.shape:
        raise ValueError(f"x and y must have the shape of frame {fr.shape}, got {px.shape} and {py.shape}")
    return _sample(imgs, kn, fr, px, py, resolve_backend(backend))


def _sample(imgs, kn, fr, px, py, target):
    """:func:`sample_known` on checked arrays (float32 images, bool known, int64 frames, float32 x/y)."""
    n, c = fr.size, imgs.shape[3]
    out = np.zeros((n, c), np.float32)
    ok = np.zeros(n, np.uint8)
    if n == 0:
        return out, ok.view(bool)
    k8 = kn.view(np.uint8)
    if target == "cpu":
        run_cpu("sample_known_px", (n,), fr, px, py, imgs, k8, out, ok)
        return out, ok.view(bool)
    from numba import cuda

    d_out, d_ok = cuda.to_device(out), cuda.to_device(ok)
    launch_cuda("sample_known_px", (n,), *(cuda.to_device(a) for a in (fr, px, py, imgs, k8)), d_out, d_ok)
    return d_out.copy_to_host(), d_ok.copy_to_host().view(bool)


# --- the fill's stages on placed arrays -------------------------------------
# The pipeline keeps its arrays in one Placement for the whole run; these run
# a kernel over them and write into the arrays named as written, so a run on
# the device moves nothing between its stages.


def _run(target, name, sizes, *args):
    if target == "cpu":
        run_cpu(name, sizes, *args)
    else:
        launch_cuda(name, sizes, *args)


def combine_sources_into(
    place,
    holes,
    forward,
    backward,
    images,
    known,
    gain,
    guessed,
    decay,
    work,
    method,
    source_frame,
    source_xy,
    confidence,
    filled,
    *,
    n_gain,
):
    """Colour the listed hole pixels not yet ``filled`` from their two sweeps' sources; record provenance.

    All arrays in ``place``'s memory. Per listed pixel ``k`` with
    ``filled[k] == 0``: each source ``(frame, pos, steps)`` of ``forward`` and
    ``backward`` (frame -1: none) is sampled from ``images`` over ``known``
    pixels, scaled by ``gain[t] / gain[source frame]`` on the first
    ``n_gain`` channels, and weighted by 1 / steps; the weighted mean,
    clipped to [0, 1], goes into ``work``. ``work`` may be ``images``
    provided no unfilled listed pixel is ``known`` (the caller's to keep;
    the pipeline's are not) and the values are finite: then the pixels
    written are never sampled, and a pixel that is not known weighs 0 in a
    footprint whatever value a thread reads there. The nearer source is recorded in row
    ``k`` of ``method`` (1, or ``guessed``'s code where the source pixel is
    a key frame's guess), ``source_frame``, ``source_xy`` and
    ``confidence`` (``decay[steps]``, times 0.3 for a guess): the hole
    list's provenance, kept for its pixels only. ``filled[k]`` is set to 1
    where some source counted.

    Parameters
    ----------
    place : Placement
    holes : HoleList
    forward, backward : tuple of int32 (N,), float32 (N, 2), int32 (N,)
    images : float32, shape (T, H, W, C)
    known, guessed : uint8, shape (T, H, W)
    gain, decay : float32, shape (T,)
    work : float32, shape (T, H, W, C), written
    method : uint8, shape (N,), written
    source_frame : int32, shape (N,), written
    source_xy : float32, shape (N, 2), written
    confidence : float32, shape (N,), written
    filled : uint8, shape (N,), read and written
    n_gain : int, keyword-only
    """
    if holes.size == 0:
        return
    ts, ys, xs, _ = holes.placed(place)
    _run(
        place.target,
        "combine_px",
        (holes.size,),
        ts,
        ys,
        xs,
        *forward,
        *backward,
        images,
        known,
        gain,
        int(n_gain),
        guessed,
        decay,
        work,
        method,
        source_frame,
        source_xy,
        confidence,
        filled,
    )


def seam_mismatch_into(
    place, holes, k, origin, source_frame, source_xy, images, known, gain, work, total, count, *, n_gain, seam_max
):
    """Frame ``k``'s colour mismatch along the border of its borrowed fill, into ``total`` and ``count``.

    All arrays in ``place``'s memory: the hole list's provenance
    ``source_frame`` int32 (N,) and ``source_xy`` float32 (N, 2) (see
    :func:`combine_sources_into`), ``images`` and ``work`` float32 (T, H, W,
    C), ``known`` uint8 (T, H, W), ``gain`` float32 (T,); written: ``total``
    float32 (h, w, C) and ``count`` float32 (h, w), a box of the frame with
    its corner at ``origin = (y, x)`` (the hole's box grown by one pixel
    holds every pixel that gets a mismatch). For a known pixel q next to a
    hole pixel p (of ``holes``) whose colour came from another frame, the
    source predicts q's colour at the same offset from p's source position;
    ``total[q]`` sums the real colour minus the prediction (0 where it
    differs by more than ``seam_max`` in a channel, or fell on no known
    pixel) and ``count[q]`` the neighbours that predicted it. Where
    ``images`` is ``work``, a frame that is ``known`` in the hole (a key
    frame) is a source for the others: correct it (:func:`seam_correct_into`)
    only after every frame's mismatch is measured.
    """
    h, w = count.shape
    index = holes.placed(place)[3]
    _run(place.target, "seam_mismatch_px", (h, w), int(origin[0]), int(origin[1]), int(k), index, source_frame,
         source_xy, images, known, gain, int(n_gain), work, np.float32(seam_max), total, count)  # fmt: skip


def seam_correct_into(place, holes, k, origin, source_frame, correction, work):
    """``work[k] += correction`` (clipped to [0, 1]) where frame ``k``'s fill came from another frame.

    ``source_frame`` is the hole list's (int32 (N,), see
    :func:`combine_sources_into`); ``correction`` (float32 (h, w, C)) covers
    the box of the frame with its corner at ``origin``.
    """
    h, w = correction.shape[:2]
    index = holes.placed(place)[3]
    _run(place.target, "seam_apply_px", (h, w), int(origin[0]), int(origin[1]), int(k), index, source_frame,
         correction, work)  # fmt: skip


def key_frame_into(
    place, holes, k, left, guess, nnf, code, work, images, known, guessed, method, source_frame, source_xy, confidence
):
    """Make frame ``k`` a key frame: its guess where ``left``, then the whole frame a source to sample.

    ``left`` (bool or uint8, (H, W): pixels of frame ``k``'s hole in
    ``holes``), ``guess`` (float32, (H, W, C)) and ``nnf`` (int32, (H, W, 3)
    of (frame, y, x), or None) are host arrays, sent once; the rest are
    placed arrays, written: where ``left``, ``work[k]`` takes the guess,
    ``guessed[k]`` ``code``, and the hole list's provenance (rows of
    ``method``, ``source_frame``, ``source_xy``, ``confidence``; see
    :func:`combine_sources_into`) ``code``, ``k``, the ``(x, y)`` the
    guess's patch came from (with ``nnf``, else the pixel's own) and 0.3;
    then ``images[k] = work[k]`` and ``known[k] = 1``.
    """
    h, w = left.shape
    left8 = np.ascontiguousarray(np.asarray(left).view(np.uint8))
    if (holes.index[k][left8 != 0] < 0).any():
        raise ValueError(f"left must lie inside frame {k}'s hole (its pixels are the hole list's rows)")
    has = nnf is not None
    field = np.ascontiguousarray(nnf, np.int32) if has else np.zeros((1, 1, 3), np.int32)
    sent = [place.put(np.ascontiguousarray(a)) for a in (left8, guess, field)]
    index = holes.placed(place)[3]
    _run(place.target, "key_frame_px", (h, w), int(k), *sent, int(has), int(code), index, work, images, known,
         guessed, method, source_frame, source_xy, confidence)  # fmt: skip


def sweep_start_into(place, holes, key, start):
    """``start[k]`` = the frame of listed hole pixel ``k`` where that frame is a ``key`` frame (uint8 (T,)), else -1."""
    if holes.size:
        ts = holes.placed(place)[0]
        _run(place.target, "sweep_start_px", (holes.size,), ts, key, start)


def unfilled_per_frame(place, holes, filled):
    """How many listed hole pixels of each frame are not ``filled`` (int64 (T,), on the host)."""
    t = holes.index.shape[0]
    counts = place.empty(t, np.int64)
    if t:
        _run(place.target, "unfilled_px", (t,), holes.placed_starts(place), filled, counts)
    return place.get(counts)


def gather_holes(place, holes, work):
    """The listed hole pixels' colours in ``work``, on the host, in the list's order (float32 (N, C)).

    What a placed fill sends back, instead of whole frames.
    """
    n, c = holes.size, work.shape[3]
    colours = place.empty((n, c), np.float32)
    if n:
        ts, ys, xs, _ = holes.placed(place)
        _run(place.target, "gather_px", (n,), ts, ys, xs, work, colours)
    return place.get(colours)
