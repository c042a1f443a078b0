"""Kernel bodies for warping: bilinear gather and bilinear splat.

Plain Python, compiled per target by :mod:`._accelerate`. Coordinates are
float32 so the CPU and CUDA builds do the same arithmetic.
"""

import numpy as np

from ._accelerate import body


@body
def warp_backward_px(i, j, image, flow, out, valid):
    h = image.shape[0]
    w = image.shape[1]
    sx = np.float32(j) + flow[i, j, 0]
    sy = np.float32(i) + flow[i, j, 1]
    zero = np.float32(0.0)
    inside = sx >= zero and sy >= zero and sx <= np.float32(w - 1) and sy <= np.float32(h - 1)
    valid[i, j] = 1 if inside else 0
    # Outside the frame sample the nearest border pixel (valid says so).
    sx = min(max(sx, np.float32(0.0)), np.float32(w - 1))
    sy = min(max(sy, np.float32(0.0)), np.float32(h - 1))
    x0 = int(sx)  # sx >= 0 here, so truncation is floor
    y0 = int(sy)
    fx = sx - np.float32(x0)
    fy = sy - np.float32(y0)
    x1 = min(x0 + 1, w - 1)
    y1 = min(y0 + 1, h - 1)
    one = np.float32(1.0)
    w00 = (one - fx) * (one - fy)
    w01 = fx * (one - fy)
    w10 = (one - fx) * fy
    w11 = fx * fy
    if image.shape[2] == 3:
        # A fixed trip count lets the compiler unroll the common RGB case.
        for c in range(3):
            out[i, j, c] = (
                w00 * image[y0, x0, c] + w01 * image[y0, x1, c] + w10 * image[y1, x0, c] + w11 * image[y1, x1, c]
            )
    else:
        for c in range(image.shape[2]):
            out[i, j, c] = (
                w00 * image[y0, x0, c] + w01 * image[y0, x1, c] + w10 * image[y1, x0, c] + w11 * image[y1, x1, c]
            )


@body
def splat_corner(image, acc, wacc, i, j, yy, xx, wgt):
    if wgt > np.float32(0.0) and yy >= 0 and xx >= 0 and yy < acc.shape[0] and xx < acc.shape[1]:
        atomic_add(wacc, (yy, xx), wgt)  # noqa: F821 - a target primitive
        for c in range(image.shape[2]):
            atomic_add(acc, (yy, xx, c), wgt * image[i, j, c])  # noqa: F821


@body
def splat_px(i, j, image, flow, acc, wacc):
    tx = np.float32(j) + flow[i, j, 0]
    ty = np.float32(i) + flow[i, j, 1]
    # Far-off targets would overflow int conversion; they land nowhere anyway.
    one = np.float32(1.0)
    if not (tx > -one and ty > -one and tx < np.float32(acc.shape[1]) and ty < np.float32(acc.shape[0])):
        return
    x0 = int(tx + np.float32(1.0)) - 1  # floor, as tx + 1 > 0 ...
    y0 = int(ty + np.float32(1.0)) - 1
    if np.float32(x0) > tx:  # ... unless tx + 1 rounded up to an integer
        x0 -= 1
    if np.float32(y0) > ty:
        y0 -= 1
    fx = tx - np.float32(x0)
    fy = ty - np.float32(y0)
    gx = one - fx
    gy = one - fy
    if x0 >= 0 and y0 >= 0 and x0 + 1 < acc.shape[1] and y0 + 1 < acc.shape[0] and image.shape[2] == 3:
        # The common case, all four corners inside an RGB frame: no checks,
        # a fixed trip count the compiler unrolls. A zero weight adds zero.
        w00 = gy * gx
        w01 = gy * fx
        w10 = fy * gx
        w11 = fy * fx
        atomic_add(wacc, (y0, x0), w00)  # noqa: F821 - a target primitive
        atomic_add(wacc, (y0, x0 + 1), w01)  # noqa: F821
        atomic_add(wacc, (y0 + 1, x0), w10)  # noqa: F821
        atomic_add(wacc, (y0 + 1, x0 + 1), w11)  # noqa: F821
        for c in range(3):
            v = image[i, j, c]
            atomic_add(acc, (y0, x0, c), w00 * v)  # noqa: F821
            atomic_add(acc, (y0, x0 + 1, c), w01 * v)  # noqa: F821
            atomic_add(acc, (y0 + 1, x0, c), w10 * v)  # noqa: F821
            atomic_add(acc, (y0 + 1, x0 + 1, c), w11 * v)  # noqa: F821
        return
    splat_corner(image, acc, wacc, i, j, y0, x0, gy * gx)
    splat_corner(image, acc, wacc, i, j, y0, x0 + 1, gy * fx)
    splat_corner(image, acc, wacc, i, j, y0 + 1, x0, fy * gx)
    splat_corner(image, acc, wacc, i, j, y0 + 1, x0 + 1, fy * fx)


@body
def normalise_px(i, j, acc, wacc, out):
    wgt = wacc[i, j]
    for c in range(acc.shape[2]):
        out[i, j, c] = acc[i, j, c] / wgt if wgt > 0 else np.float32(0.0)
