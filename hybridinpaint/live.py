"""Inpainting a live stream: each frame out a few frames after it came in, with bounded state.

:func:`inpaint_stream` keeps only the frames not yet given out (the current
one and up to ``lookahead`` later ones), the flows between them, and the
last frame it gave out. When a frame arrives it costs one flow estimate
each way to its predecessor (OpenCV DIS on frames whose holes are
pre-filled) and their completion inside the holes (:func:`flow.complete`).
A frame goes out once ``lookahead`` later frames have arrived (or the input
has ended); its hole pixels are filled, in this order of preference:

from the source nearest in time: the nearest later frame that shows them,
found by following the completed forward flows (a real pixel), or the
previous frame given out, along the backward flow, counting how many steps
its own pixel there is from a real one (so what was filled stays still in
time, and a real pixel one frame back beats one four frames ahead); for
the first frame, what neither gives is filled by PatchMatch
(``hallucinate="patch"``), once.

This is the offline pipeline cut down to what a few frames of latency
allow: no key frames, no far references, no seam removal; it measures
1-2 dB below :func:`hybridinpaint.inpaint` (``benchmarks/live.py``).
Pixels outside the mask come back bit-identical, as everywhere.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import cv2
import numpy as np

from hybridinpaint.completion import arrays as _arrays
from hybridinpaint.completion import flow as flowmod
from hybridinpaint.completion.hallucinate import fill
from hybridinpaint.completion.pipeline import METHOD_OF_FILL, PROPAGATED
from hybridinpaint.kernels import resolve_backend
from hybridinpaint.kernels.checks import positive_int
from hybridinpaint.settings import Settings, resolve

__all__ = ["inpaint_stream"]


def _masks(masks) -> Iterator[np.ndarray]:
    """One mask for every frame (an (H, W) array), or an iterable of masks."""
    if isinstance(masks, np.ndarray) and masks.ndim == 2:
        while True:
            yield masks
    yield from masks


def _sample(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``img`` (H, W, C) at float positions (N,): (N, C), border replicated."""
    n = x.size
    cols = 1024  # OpenCV's remap maps must stay under 32767 on each side
    rows = max(1, -(-n // cols))
    mx = np.zeros(rows * cols, np.float32)
    my = np.zeros(rows * cols, np.float32)
    mx[:n], my[:n] = x, y
    mx, my = mx.reshape(rows, cols), my.reshape(rows, cols)
    out = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(rows * cols, -1)[:n]


class _Frame:
    """A frame waiting to go out: its pixels in [0, 1], its hole, its grey pre-fill, its flows on."""

    def __init__(self, raw, hole, backend, settings: Settings):
        _, work, _ = _arrays.frames_float(raw[None])
        self.raw, self.work, self.hole = raw, work[0], hole
        # Solved at half size: it only feeds DIS, and a stream pays for it every frame.
        self.grey = flowmod.prefill(work, hole[None], backend, scale=2)[0]
        # The estimator's flow near a hole sees the pre-fill: completed too, as offline (live.FLOW_DILATION).
        self.grown = flowmod.within(hole[None], settings.live.FLOW_DILATION)[0] if hole.any() else hole
        self.fwd = None  # completed flow to the next frame, (H, W, 2)
        self.bwd = None  # completed flow from this frame back to the previous one


def inpaint_stream(
    frames: Iterable,
    masks,
    *,
    lookahead: int = 4,
    backend: str = "auto",
    settings=None,
    return_provenance: bool = False,
) -> Iterator:
    """Fill the masked pixels of a stream of frames, yielding each frame ``lookahead`` frames later.

    Parameters
    ----------
    frames : iterable of ndarray, each (H, W, C) or (H, W)
        uint8, uint16 or float in [0, 1], all of one shape and dtype; any
        iterable (a generator reading a camera or a pipe).
    masks : ndarray (H, W) or iterable of ndarray (H, W)
        True (or non-zero) where pixels are missing: one mask for every
        frame, or one per frame.
    lookahead : int, keyword-only
        How many later frames a frame waits for (0: out at once, from the
        past alone). The latency in frames.
    backend : {"auto", "cpu", "cuda"}, keyword-only
    settings : Settings, dict or path, optional, keyword-only
        The tunables (:class:`hybridinpaint.settings.Settings`); the defaults when None.
    return_provenance : bool, keyword-only
        Yield ``(frame, method)`` pairs, ``method`` (H, W) uint8 with the
        method codes of :class:`hybridinpaint.Provenance` (0 original, 1
        propagated from another frame, 2 PatchMatch copy, 4 spatial fill).

    Yields
    ------
    ndarray, or (ndarray, ndarray)
        Each frame, filled, in the input's shape and dtype, in order (and
        its method map).

    Examples
    --------
    >>> import numpy as np
    >>> from hybridinpaint import inpaint_stream
    >>> scene = np.random.default_rng(0).random((40, 90, 3)).astype(np.float32)
    >>> video = (scene[:, 3 * t : 3 * t + 48] for t in range(6))  # a pan, as a generator
    >>> hole = np.zeros((40, 48), bool); hole[15:25, 20:30] = True
    >>> out = list(inpaint_stream(video, hole, lookahead=2, backend="cpu"))
    >>> len(out), out[0].shape
    (6, (40, 48, 3))
    """
    settings = resolve(settings)
    lookahead = positive_int(lookahead, "lookahead", minimum=0)
    target = resolve_backend(backend)
    calc = flowmod.estimator("dis")
    pending: deque[_Frame] = deque()
    previous: _Frame | None = None  # the last frame given out (work = its filled pixels)
    shape = dtype = None
    mask_iter = _masks(masks)
    for k, raw in enumerate(frames):
        raw = np.asarray(raw)
        if shape is None:
            shape, dtype = raw.shape, raw.dtype
        elif raw.shape != shape or raw.dtype != dtype:
            raise ValueError(f"frames: frame {k} is {raw.shape} {raw.dtype}, the first was {shape} {dtype}")
        try:
            m = next(mask_iter)
        except StopIteration:
            raise ValueError(f"masks: ran out at frame {k}; give one mask, or one per frame") from None
        hole = _arrays.masks_bool(np.asarray(m)[None], (1, *shape[:2]))[0]
        new = _Frame(raw, hole, target, settings)
        before = pending[-1] if pending else previous
        if before is not None:
            _link(before, new, calc, target, settings)
        pending.append(new)
        if len(pending) > lookahead:
            previous = _fill(pending, previous, target, settings)
            yield (previous.out, previous.method) if return_provenance else previous.out
    while pending:
        previous = _fill(pending, previous, target, settings)
        yield (previous.out, previous.method) if return_provenance else previous.out


def _link(a: _Frame, b: _Frame, calc, backend, settings: Settings) -> None:
    """Flows a -> b and b -> a, completed inside the holes (each on its own frame's grid)."""
    fwd = calc(a.grey, b.grey).astype(np.float32)
    bwd = calc(b.grey, a.grey).astype(np.float32)
    a.fwd = flowmod.complete(fwd[None], a.grown[None], backend, settings=settings)[0] if a.hole.any() else fwd
    b.bwd = flowmod.complete(bwd[None], b.grown[None], backend, settings=settings)[0] if b.hole.any() else bwd


def _fill(pending: deque, previous: _Frame | None, backend: str, settings: Settings) -> _Frame:
    """Give out the oldest pending frame: each hole pixel from its nearest source in time.

    Candidates: the nearest later frame that shows the pixel (``k`` steps
    along the completed forward flows), and the previous frame given out,
    whose pixel there is itself some steps from a real pixel (its ``age``)
    plus one. The nearer wins (a real later pixel on a tie); PatchMatch
    where neither exists (the first frame).
    """
    f = pending.popleft()
    h, w = f.hole.shape
    work = f.work.copy()
    age = np.zeros((h, w), np.float32)
    method = np.zeros((h, w), np.uint8)
    ys, xs = np.nonzero(f.hole)
    n = ys.size
    best = np.full(n, np.inf, np.float32)
    colour = np.zeros((n, work.shape[2]), np.float32)
    how = np.full(n, PROPAGATED, np.uint8)
    # The previous frame given out, along the backward flow: its age there, plus one.
    if previous is not None and f.bwd is not None:
        back = _sample(f.bwd, xs.astype(np.float32), ys.astype(np.float32))
        px, py = xs + back[:, 0], ys + back[:, 1]
        ix = np.clip(np.rint(px), 0, w - 1).astype(np.int64)
        iy = np.clip(np.rint(py), 0, h - 1).astype(np.int64)
        colour[:] = _sample(previous.work, px, py)
        best[:] = previous.age[iy, ix] + 1
        # A pixel carried from the previous frame keeps the method that made it there.
        how[:] = np.maximum(previous.method[iy, ix], PROPAGATED)
    # Later frames, nearest first, along the completed forward flows.
    x, y = xs.astype(np.float32), ys.astype(np.float32)
    open_ = np.ones(n, bool)  # not yet seen in a later frame
    here = f
    for k, later in enumerate(pending, start=1):
        if not (open_ & (best > k)).any():
            break
        step = _sample(here.fwd, x, y)
        x, y = x + step[:, 0], y + step[:, 1]
        inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
        # Seen: all four pixels the bilinear sample reads are known there (no missing pixel mixed in).
        x0 = np.clip(np.floor(x), 0, w - 1).astype(np.int64)
        y0 = np.clip(np.floor(y), 0, h - 1).astype(np.int64)
        x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
        gap = later.hole[y0, x0] | later.hole[y0, x1] | later.hole[y1, x0] | later.hole[y1, x1]
        seen = open_ & inside & ~gap
        take = seen & (k <= best)
        if take.any():
            colour[take] = _sample(later.work, x[take], y[take])
            best[take] = k
            how[take] = PROPAGATED
        open_ &= ~seen
        here = later
    found = np.isfinite(best)
    work[ys[found], xs[found]] = colour[found]
    age[ys[found], xs[found]] = best[found]
    method[ys[found], xs[found]] = how[found]
    # Nothing to go by (the first frames): PatchMatch from the frame itself, as offline key
    # frames (TELEA here measured 0.4 dB lower over the stream; it runs once, at the start).
    if not found.all():
        left = np.zeros_like(f.hole)
        left[ys[~found], xs[~found]] = True
        work, _, ran = fill(work, left, "patch", settings=settings, backend=backend)
        age[left] = settings.live.SPATIAL_AGE
        method[left] = METHOD_OF_FILL[ran]
    f.work = np.clip(work, 0.0, 1.0)
    f.age = age
    f.method = method
    f.out = _arrays.composite(f.raw[None], f.work[None], f.hole[None], f.raw.ndim == 2)[0]
    f.fwd = None  # no longer needed: keep the state bounded
    return f
