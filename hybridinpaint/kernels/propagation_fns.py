"""Kernel bodies for flow propagation: one step of a source-coordinate chain,
and colour sampling over known pixels only.

Plain Python, compiled per target by :mod:`._accelerate`. Positions are
float32 so the CPU and CUDA builds do the same arithmetic.
"""

import math

import numpy as np

from ._accelerate import body
from .diffusion_fns import bilinear_corners


@body
def chain_px(i, start, ys, xs, t, u, kf, step_flows, check_flows, index, frame, pos, steps, tau_abs, tau_rel):
    """Extend the chain of hole pixel ``k = start + i`` (in frame ``t``) one step into frame ``u``.

    Hole pixels are listed sparsely (``ys``, ``xs``; ``index[t, y, x]`` is
    a pixel's place in the list, -1 for original pixels). The step follows
    ``step_flows[kf]`` (frame t -> u); it is trusted when ``check_flows[kf]``
    (u -> t) brings it back to within ``tau_abs + tau_rel * |step|``
    pixels. The chain then continues from the nearest pixel of frame ``u``:
    an original pixel is its own source, a hole pixel passes on its source
    with the sub-pixel offset added. Entries with ``frame >= 0`` already
    (known hole pixels, e.g. filled key frames) are left alone.
    """
    k = start + i
    if frame[k] >= 0:
        return
    y = ys[k]
    x = xs[k]
    h = index.shape[1]
    w = index.shape[2]
    sx = step_flows[kf, y, x, 0]
    sy = step_flows[kf, y, x, 1]
    qx = np.float32(x) + sx
    qy = np.float32(y) + sy
    zero = np.float32(0.0)
    if qx >= zero and qy >= zero and qx <= np.float32(w - 1) and qy <= np.float32(h - 1):
        y0, x0, y1, x1, fy, fx = bilinear_corners(qy, qx, h, w)
        one = np.float32(1.0)
        w00 = (one - fx) * (one - fy)
        w01 = fx * (one - fy)
        w10 = (one - fx) * fy
        w11 = fx * fy
        bx = (
            w00 * check_flows[kf, y0, x0, 0]
            + w01 * check_flows[kf, y0, x1, 0]
            + w10 * check_flows[kf, y1, x0, 0]
            + w11 * check_flows[kf, y1, x1, 0]
        )
        by = (
            w00 * check_flows[kf, y0, x0, 1]
            + w01 * check_flows[kf, y0, x1, 1]
            + w10 * check_flows[kf, y1, x0, 1]
            + w11 * check_flows[kf, y1, x1, 1]
        )
        ex = sx + bx
        ey = sy + by
        lim = tau_abs + tau_rel * np.float32(math.sqrt(sx * sx + sy * sy))
        if ex * ex + ey * ey <= lim * lim:
            half = np.float32(0.5)
            nx = min(int(qx + half), w - 1)
            ny = min(int(qy + half), h - 1)
            j = index[u, ny, nx]
            if j < 0:
                frame[k] = u
                pos[k, 0] = qx
                pos[k, 1] = qy
                steps[k] = 1
            elif frame[j] >= 0:
                frame[k] = frame[j]
                pos[k, 0] = pos[j, 0] + (qx - np.float32(nx))
                pos[k, 1] = pos[j, 1] + (qy - np.float32(ny))
                steps[k] = steps[j] + 1


@body
def sample_known_px(k, fr, px, py, images, known, out, ok):
    """Bilinear colour of ``images[fr[k]]`` at ``(px[k], py[k])`` over known pixels only.

    The weights of unknown corners are dropped and the rest renormalised;
    ``ok[k]`` is 0 where no corner is known (the colour is then 0).
    """
    h = images.shape[1]
    w = images.shape[2]
    f = fr[k]
    y0, x0, y1, x1, fy, fx = bilinear_corners(py[k], px[k], h, w)
    one = np.float32(1.0)
    w00 = (one - fy) * (one - fx) * np.float32(known[f, y0, x0])
    w01 = (one - fy) * fx * np.float32(known[f, y0, x1])
    w10 = fy * (one - fx) * np.float32(known[f, y1, x0])
    w11 = fy * fx * np.float32(known[f, y1, x1])
    total = w00 + w01 + w10 + w11
    good = total > np.float32(1e-3)
    ok[k] = 1 if good else 0
    inv = one / total if good else np.float32(0.0)
    for c in range(images.shape[3]):
        acc = (
            w00 * images[f, y0, x0, c]
            + w01 * images[f, y0, x1, c]
            + w10 * images[f, y1, x0, c]
            + w11 * images[f, y1, x1, c]
        )
        out[k, c] = acc * inv
