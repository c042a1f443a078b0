"""Hypothesis strategies: small images, flows and masks, simple cases included.

Arrays are drawn with ``hypothesis.extra.numpy`` element by element, so a
failing example shrinks to a small, simple one (a single pixel, zeros).
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

sizes = st.tuples(st.integers(1, 12), st.integers(1, 12))
channels = st.sampled_from([1, 2, 3])
seeds = st.integers(0, 2**32 - 1)

_unit = st.floats(-1, 1, width=32, allow_nan=False, allow_infinity=False)


@st.composite
def images(draw, min_side=1, max_side=12):
    """``(H, W, C)`` float32: random values, a constant, or a ramp."""
    h = draw(st.integers(min_side, max_side))
    w = draw(st.integers(min_side, max_side))
    c = draw(channels)
    kind = draw(st.sampled_from(["random", "constant", "ramp"]))
    if kind == "constant":
        return np.full((h, w, c), draw(st.floats(-4, 4, width=32)), np.float32)
    if kind == "ramp":
        yy, xx = np.mgrid[0:h, 0:w]
        return np.repeat((0.3 * xx - 0.2 * yy)[..., None], c, axis=2).astype(np.float32)
    return draw(hnp.arrays(np.float32, (h, w, c), elements=_unit))


@st.composite
def integer_shifts(draw, max_shift=4):
    return draw(st.integers(-max_shift, max_shift)), draw(st.integers(-max_shift, max_shift))


@st.composite
def smooth_flows(draw, h, w, scale=3.0):
    """Random affine flows (rotation, zoom, shift): smooth, like camera motion."""
    a = draw(st.lists(st.floats(-0.25, 0.25, width=32), min_size=4, max_size=4))
    t = draw(st.lists(st.floats(-scale, scale), min_size=2, max_size=2))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx = a[0] * xx + a[1] * yy + t[0]
    dy = a[2] * xx + a[3] * yy + t[1]
    return np.stack([dx, dy], -1).astype(np.float32)


@st.composite
def masks(draw, h, w, min_true=0):
    """Boxes, strokes, arbitrary pixel sets, or nothing."""
    kind = draw(st.sampled_from(["box", "speckle", "stroke", "none"]))
    m = np.zeros((h, w), bool)
    if kind == "box":
        y0, x0 = draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1))
        m[y0 : y0 + draw(st.integers(1, h)), x0 : x0 + draw(st.integers(1, w))] = True
    elif kind == "speckle":
        m = draw(hnp.arrays(np.bool_, (h, w)))
    elif kind == "stroke":
        y = draw(st.integers(0, h - 1))
        steps = draw(hnp.arrays(np.int8, (w,), elements=st.integers(-1, 1)))
        for x in range(w):
            y = int(np.clip(y + steps[x], 0, h - 1))
            m[y, x] = True
    if m.sum() < min_true:
        m[h // 2, w // 2] = True
    return m
