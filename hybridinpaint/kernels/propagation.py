"""Flow propagation of source coordinates, and sampling over known pixels."""

from __future__ import annotations

import numpy as np

from . import propagation_fns  # noqa: F401 - registers the bodies
from ._accelerate import launch_cuda, resolve_backend, run_cpu
from .checks import bool_mask, describe, real_float32

__all__ = ["propagate_sources", "propagate_holes", "sample_known", "HoleList"]


def _flows(x, name, shape, check_finite=True):
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

    def own_positions(self) -> np.ndarray:
        """``(x, y)`` of each listed pixel, ``(N, 2)`` float32."""
        return np.stack([self.xs, self.ys], -1).astype(np.float32)


def propagate_holes(
    holes, frame, pos, steps, step_flows, check_flows, *, forward, tau_abs=2.0, tau_rel=0.1, check_finite=True,
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

    Returns
    -------
    frame, pos, steps : ndarray
        Updated copies of the state.

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
        arr = np.asarray(val)
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
    return _sweep(holes, *state, step, check, bool(forward), float(tau_abs), float(tau_rel), target)


def _sweep(holes, frame, pos, steps, step, check, forward, tau_abs, tau_rel, target):
    """:func:`propagate_holes` on checked arguments."""
    t = holes.index.shape[0]
    frame, pos, steps = frame.copy(), pos.copy(), steps.copy()
    order = range(1, t) if forward else range(t - 2, -1, -1)
    runs = []
    for k in order:
        a, b = int(holes.starts[k]), int(holes.starts[k + 1])
        if b > a:
            u, kf = (k - 1, k - 1) if forward else (k + 1, k)
            runs.append((b - a, a, k, u, kf))
    if not runs:
        return frame, pos, steps
    tau = (np.float32(tau_abs), np.float32(tau_rel))
    if target == "cpu":
        for n, a, k, u, kf in runs:
            run_cpu(
                "chain_px", (n,), a, holes.ys, holes.xs, k, u, kf, step, check, holes.index, frame, pos, steps, *tau
            )
        return frame, pos, steps
    from numba import cuda

    d_in = [cuda.to_device(x) for x in (holes.ys, holes.xs)]
    d_fl = [cuda.to_device(x) for x in (step, check, holes.index)]
    d_out = [cuda.to_device(x) for x in (frame, pos, steps)]
    for n, a, k, u, kf in runs:
        launch_cuda("chain_px", (n,), a, *d_in, k, u, kf, *d_fl, *d_out, *tau)
    return tuple(d.copy_to_host() for d in d_out)


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
