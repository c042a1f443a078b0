"""Membrane (Laplace) completion of a field inside a hole."""

from __future__ import annotations

import math

import numpy as np

from . import diffusion_fns  # noqa: F401 - registers the bodies
from ._accelerate import launch_cuda, resolve_backend, run_cpu
from .checks import bool_mask, image_hwc, real_float32

__all__ = ["diffuse"]

# Below this many unknown pixels a level is solved directly by SOR.
_COARSEST_UNKNOWN = 64


def diffuse(field, unknown, *, weights=None, tol=1e-5, max_iter=None, backend="auto"):
    """Fill ``unknown`` pixels of ``field`` by solving Laplace's equation.

    The known pixels are Dirichlet boundary values; the image border is a
    no-flux (Neumann) boundary. With ``weights`` the equation is the
    edge-aware ``div(w grad u) = 0``. Solved by multigrid V-cycles
    (red-black Gauss-Seidel smoothing, coarse cells unknown where any child
    is, bilinear prolongation of the correction); the coarsest level by
    successive over-relaxation (SOR).

    Parameters
    ----------
    field : ndarray, shape (H, W, C) or (H, W)
        Values; those under ``unknown`` are ignored (they may be anything
        finite).
    unknown : ndarray of bool, shape (H, W)
        True where the value is to be computed.
    weights : ndarray, shape (H, W), optional, keyword-only
        Positive diffusivity per pixel; the weight of the edge between two
        neighbours is the mean of theirs. Small weights across an image edge
        stop the fill from bleeding over it. Default: all ones.
    tol : float, keyword-only
        Stop when the largest change made by the last Gauss-Seidel sweep of a
        V-cycle is below ``tol * scale``, ``scale`` being the range of the
        known values (1 if they are all equal).
    max_iter : int, optional, keyword-only
        Most multigrid V-cycles (default 50; a few usually suffice).
    backend : {"auto", "cpu", "cuda"}, keyword-only

    Returns
    -------
    ndarray, float32, shape of ``field``
        Known pixels are the input's float32 values, bit for bit. Every
        4-connected unknown region borders a known pixel (the frame edge is a
        no-flux boundary), except when nothing at all is known: then the
        result is 0 everywhere.

    References
    ----------
    .. [1] W. L. Briggs, V. E. Henson, S. F. McCormick, *A Multigrid
       Tutorial*, 2nd ed., SIAM, 2000 (nested iteration, red-black ordering).
    .. [2] D. M. Young, "Iterative methods for solving partial difference
       equations of elliptic type", PhD thesis, Harvard, 1950 (SOR).

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint.kernels import diffuse
    >>> f = np.zeros((1, 5), np.float32); f[0, 4] = 4.0
    >>> hole = np.array([[False, True, True, True, False]])
    >>> np.round(diffuse(f, hole, backend="cpu"), 3)
    array([[0., 1., 2., 3., 4.]], dtype=float32)
    """
    f, squeeze = image_hwc(field, "field")
    h, w, c = f.shape
    unk = bool_mask(unknown, "unknown", shape=(h, w))
    if weights is None:
        wts = np.ones((h, w), np.float32)
    else:
        wts = real_float32(weights, "weights", ndim=(2,))
        if wts.shape != (h, w):
            raise ValueError(f"weights must have shape {(h, w)}, got shape {wts.shape}")
        if not (wts > 0).all():
            raise ValueError("weights must be strictly positive everywhere")
    if not isinstance(tol, (int, float, np.floating)) or not (tol > 0) or not math.isfinite(tol):
        raise ValueError(f"tol must be a positive finite number, got {tol!r}")
    if max_iter is not None and (
        isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1
    ):
        raise ValueError(f"max_iter must be None or an integer >= 1, got {max_iter!r}")
    target = resolve_backend(backend)

    out = f.copy()
    if not unk.any():
        return out[:, :, 0] if squeeze else out
    # Every 4-connected unknown region borders a known pixel unless nothing
    # at all is known (the frame edge is no-flux, not a boundary value).
    # Only the unknown pixels and their neighbours enter the equations: solve
    # on the bounding box of the hole grown by one pixel.
    rows = np.flatnonzero(unk.any(axis=1))
    cols = np.flatnonzero(unk.any(axis=0))
    box = (slice(max(rows[0] - 1, 0), rows[-1] + 2), slice(max(cols[0] - 1, 0), cols[-1] + 2))
    sub_unk = np.ascontiguousarray(unk[box])
    boundary = _boundary(sub_unk)
    if not boundary.any():
        out[unk] = 0.0
    else:
        sub = np.ascontiguousarray(out[box])
        # By the maximum principle the solution stays within the range of the
        # known pixels that touch the hole, so that range sets the scale.
        bv = sub[boundary]
        scale = float(bv.max() - bv.min()) or 1.0
        ex = _CpuExec() if target == "cpu" else _CudaExec()
        cycles = 50 if max_iter is None else int(max_iter)
        sub[sub_unk] = bv.mean(axis=0)
        sub_w = np.ascontiguousarray(wts[box])
        sol = _solve(ex, sub.copy(), sub_unk, sub_w, float(tol) * scale, cycles, _NEED_FAST)
        if sol is None:
            sol = _solve(ex, sub, sub_unk, sub_w, float(tol) * scale, cycles, 4)
        out[box][sub_unk] = sol[sub_unk]
    return out[:, :, 0] if squeeze else out


def _boundary(unk: np.ndarray) -> np.ndarray:
    """Known pixels with an unknown 4-neighbour."""
    import cv2

    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    return cv2.dilate(unk.view(np.uint8), cross).view(bool) & ~unk


# A coarse cell is unknown when at least this many of its 2x2 children are.
# "Any child" grows the domain level by level and the corrections overshoot
# (measured: V-cycles diverge on a disk); "all children" shrinks it, so the
# coarse problem sees the boundary nearer than it is and the corrections
# undershoot (always safe, but slower); three of four measured best on disks,
# strokes and boxes. On ragged holes (a blob plus the foreground fringe that
# flow completion adds) three of four can still diverge slowly, so a solve
# that stops converging is redone with four of four.
_NEED_FAST = 3


def _coarser(unk: np.ndarray, wts: np.ndarray, vals: np.ndarray, need: int = _NEED_FAST):
    """The next level's unknowns (``need`` of 4 children unknown) and diffusivities."""
    h, w = unk.shape
    ph, pw = h + (h % 2), w + (w % 2)
    u = np.zeros((ph, pw), np.uint8)
    u[:h, :w] = unk
    cu = _sum2x2(u) >= need
    wp = np.pad(wts, ((0, ph - h), (0, pw - w)), mode="edge")
    cw = _sum2x2(wp) * np.float32(0.25)
    # Known coarse values: the mean of the known children (a known cell has >= 2).
    known = np.zeros((ph, pw), np.float32)
    known[:h, :w] = ~unk
    v = np.zeros((ph, pw, vals.shape[2]), np.float32)
    np.multiply(vals, known[:h, :w, None], out=v[:h, :w])
    cv = _sum2x2(v) / np.maximum(_sum2x2(known), 1)[:, :, None]
    cv[cu] = 0
    return cu, np.ascontiguousarray(cw, dtype=np.float32), np.ascontiguousarray(cv, dtype=np.float32)


def _sum2x2(a):
    return a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]


def _omega(n_unknown: int) -> float:
    # Optimal SOR factor for a square domain of side L, L from the hole's area.
    side = max(2.0, math.sqrt(n_unknown))
    return 2.0 / (1.0 + math.sin(math.pi / side))


class _Level:
    """Index lists and work arrays of one pyramid level, on the executing device."""

    def __init__(self, ex, field, unk, wts):
        ys, xs = np.nonzero(unk)
        ys = ys.astype(np.int64)
        xs = xs.astype(np.int64)
        red = ((ys + xs) % 2) == 0
        self.n = ys.size
        self.shape = unk.shape
        self.all = (ex.put(ys), ex.put(xs))
        self.red = (ex.put(np.ascontiguousarray(ys[red])), ex.put(np.ascontiguousarray(xs[red])))
        self.black = (ex.put(np.ascontiguousarray(ys[~red])), ex.put(np.ascontiguousarray(xs[~red])))
        self.n_red = int(red.sum())
        self.n_black = self.n - self.n_red
        self.field = ex.put(field)
        self.weights = ex.put(wts)
        self.rhs = ex.zeros(field.shape)
        self.unknown = ex.put(unk.view(np.uint8))
        self.d_red = ex.zeros((max(self.n_red, 1),))
        self.d_black = ex.zeros((max(self.n_black, 1),))


# Red-black Gauss-Seidel sweeps before and after each coarse-grid correction.
_PRE, _POST = 2, 2
# Slight over-relaxation makes red-black Gauss-Seidel a better multigrid
# smoother (Yavneh 1996); measured here: 6 V-cycles instead of 7.
_SMOOTH_OMEGA = 1.15


# A V-cycle whose last sweep changes more than this multiple of the smallest
# change so far is diverging.
_DIVERGED = 4.0


def _solve(ex, out, unk, wts, tol_abs, max_cycles, need):
    """Full multigrid start, then V-cycles (correction scheme), on ``out``.

    Returns None when the V-cycles diverge (possible only with ``need`` < 4).
    """
    levels = [_Level(ex, out, unk, wts)]
    values = [out]
    u, w, v = unk, wts, out
    while levels[-1].n > _COARSEST_UNKNOWN and min(u.shape) >= 4:
        u, w, v = _coarser(u, w, v, need)
        levels.append(_Level(ex, v, u, w))
        values.append(v)
    # Full multigrid: solve the coarsest version of the problem itself, then at
    # each finer level start from the prolonged coarser solution and run one
    # V-cycle. This leaves an error near the discretisation error, so the
    # V-cycles below need a few iterations fewer than from a flat start.
    last = len(levels) - 1
    if last > 0:
        _vcycle(ex, levels, last, tol_abs)
    for depth in range(last - 1, -1, -1):
        lv, below = levels[depth], levels[depth + 1]
        ex.run("prolong_px", lv.n, *lv.all, below.field, lv.field, np.float32(0.0))
        # From here on the coarser level holds corrections, zero where known.
        below.field, below.rhs = ex.zeros(values[depth + 1].shape), ex.zeros(values[depth + 1].shape)
        if depth > 0:
            _vcycle(ex, levels, depth, tol_abs)
    best = math.inf
    for _ in range(max_cycles):
        change = _vcycle(ex, levels, 0, tol_abs)
        if change < tol_abs:
            break
        if need < 4 and (change > _DIVERGED * best or not math.isfinite(change)):
            return None
        best = min(best, change)
    return ex.get(levels[0].field)


def _vcycle(ex, levels, depth, tol_abs):
    """One V-cycle from ``depth`` down; returns the last sweep's largest change."""
    lv = levels[depth]
    if depth == len(levels) - 1:
        return ex.relax(lv, 20 * int(math.sqrt(lv.n)) + 100, _omega(lv.n), tol_abs)
    ex.relax(lv, _PRE, _SMOOTH_OMEGA, 0.0, measure=False)
    nxt = levels[depth + 1]
    ex.run("restrict_px", nxt.n, *nxt.all, lv.field, lv.weights, lv.rhs, lv.unknown, nxt.rhs, nxt.field)
    _vcycle(ex, levels, depth + 1, tol_abs)
    ex.run("prolong_px", lv.n, *lv.all, nxt.field, lv.field, np.float32(1.0))
    # Only the finest level's change is looked at (by _solve).
    return ex.relax(lv, _POST, _SMOOTH_OMEGA, 0.0, measure=depth == 0)


class _CpuExec:
    put = staticmethod(lambda a: np.ascontiguousarray(a))
    zeros = staticmethod(lambda shape: np.zeros(shape, np.float32))
    get = staticmethod(lambda a: a)

    def run(self, name, n, *args):
        if n:
            run_cpu(name, (n,), *args)

    def relax(self, lv, sweeps, omega, tol, measure=True):
        """Up to ``sweeps`` red-black sweeps; the last sweep's largest change (measured here always)."""
        if sweeps <= 0 or lv.n == 0:
            return math.inf if sweeps <= 0 else 0.0
        # Always parallel: numba compiles the serial loop of this body about
        # four times slower per pixel (measured), so even small levels gain.
        return float(
            run_cpu(
                "sor_px",
                (),
                *lv.red,
                *lv.black,
                lv.field,
                lv.weights,
                lv.rhs,
                np.float32(omega),
                lv.d_red[: lv.n_red],
                lv.d_black[: lv.n_black],
                np.float32(tol),
                sweeps,
            )
        )


class _CudaExec:
    def __init__(self):
        from numba import cuda

        self.cuda = cuda

    def put(self, a):
        return self.cuda.to_device(np.ascontiguousarray(a))

    def zeros(self, shape):
        return self.cuda.to_device(np.zeros(shape, np.float32))

    def get(self, a):
        return a.copy_to_host()

    def run(self, name, n, *args):
        if n:
            launch_cuda(name, (n,), *args)

    def relax(self, lv, sweeps, omega, tol, measure=True):
        """As :meth:`_CpuExec.relax`; the change is read back (a wait for the device) only if ``measure``."""
        if sweeps <= 0 or lv.n == 0:
            return math.inf if sweeps <= 0 else 0.0
        if tol > 0:
            return self._relax_on_host(lv, sweeps, omega, tol)
        om = np.float32(omega)
        for _ in range(sweeps):
            self.run("sor_px", lv.n_red, *lv.red, lv.field, lv.weights, lv.rhs, om, lv.d_red)
            self.run("sor_px", lv.n_black, *lv.black, lv.field, lv.weights, lv.rhs, om, lv.d_black)
        if not measure:
            return math.inf
        return max(
            float(lv.d_red.copy_to_host()[: lv.n_red].max()) if lv.n_red else 0.0,
            float(lv.d_black.copy_to_host()[: lv.n_black].max()) if lv.n_black else 0.0,
        )

    def _relax_on_host(self, lv, sweeps, omega, tol):
        """The coarsest level's solve, by the CPU kernel on a copy of it.

        Usually a few dozen unknowns (more where coarsening stops at a level
        under 4 pixels on a side, a thin hole) and up to hundreds of sweeps,
        each stopping on the change of the one before: on the device that is
        two launches and a wait per sweep over a few threads, on the host
        microseconds; and the result is the CPU backend's, bit for bit.
        """
        host = _Host(lv, self.get)
        change = _CpuExec().relax(host, sweeps, omega, tol)
        lv.field.copy_to_device(host.field)
        return change


class _Host:
    """A host copy of a device level (what ``_CpuExec.relax`` reads)."""

    def __init__(self, lv, get):
        self.n, self.n_red, self.n_black = lv.n, lv.n_red, lv.n_black
        self.red = tuple(get(a) for a in lv.red)
        self.black = tuple(get(a) for a in lv.black)
        self.field, self.weights, self.rhs = get(lv.field), get(lv.weights), get(lv.rhs)
        self.d_red, self.d_black = np.zeros_like(get(lv.d_red)), np.zeros_like(get(lv.d_black))
