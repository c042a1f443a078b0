"""Kernel bodies for diffusion: red-black Gauss-Seidel/SOR, residual,
restriction and prolongation of a multigrid V-cycle.

The problem on one level is ``sum_q w_pq (u_p - u_q) = f_p`` for each
unknown pixel ``p`` over its four neighbours ``q`` inside the frame, with
``w_pq`` the mean of the two pixels' diffusivities. Unknown pixels come as
index lists (``ys``, ``xs``); the smoother takes them split by colour
(``(y + x) % 2``). A pixel's four neighbours all have the other colour, so
updating one colour reads only the other: the order of updates within a
colour does not matter, and CPU and CUDA agree.
"""

import numpy as np

from ._accelerate import body


@body
def edge_sums(field, weights, y, x, c):
    """``(sum_q w_pq, sum_q w_pq u_q)`` over the in-frame 4-neighbours of ``(y, x)``."""
    h = field.shape[0]
    w = field.shape[1]
    wself = weights[y, x]
    half = np.float32(0.5)
    den = np.float32(0.0)
    num = np.float32(0.0)
    if y > 0:
        wq = half * (wself + weights[y - 1, x])
        den += wq
        num += wq * field[y - 1, x, c]
    if y < h - 1:
        wq = half * (wself + weights[y + 1, x])
        den += wq
        num += wq * field[y + 1, x, c]
    if x > 0:
        wq = half * (wself + weights[y, x - 1])
        den += wq
        num += wq * field[y, x - 1, c]
    if x < w - 1:
        wq = half * (wself + weights[y, x + 1])
        den += wq
        num += wq * field[y, x + 1, c]
    return den, num


@body
def sor_px(k, ys, xs, field, weights, rhs, omega, delta):
    y = ys[k]
    x = xs[k]
    biggest = np.float32(0.0)
    for c in range(field.shape[2]):
        den, num = edge_sums(field, weights, y, x, c)
        if den > 0:
            old = field[y, x, c]
            step = omega * ((num + rhs[y, x, c]) / den - old)
            field[y, x, c] = old + step
            biggest = max(biggest, abs(step))
    delta[k] = biggest


@body
def residual_px(k, ys, xs, field, weights, rhs, resid):
    y = ys[k]
    x = xs[k]
    for c in range(field.shape[2]):
        den, num = edge_sums(field, weights, y, x, c)
        resid[y, x, c] = rhs[y, x, c] - (den * field[y, x, c] - num)


@body
def restrict_px(k, ys, xs, resid, rhs, field):
    # Coarse right-hand side: the sum of the children's residuals (the
    # unscaled coarse operator is about four times the fine one). The coarse
    # correction starts at zero.
    y = ys[k]
    x = xs[k]
    h = resid.shape[0]
    w = resid.shape[1]
    for c in range(rhs.shape[2]):
        total = np.float32(0.0)
        for dy in range(2):
            for dx in range(2):
                fy = 2 * y + dy
                fx = 2 * x + dx
                if fy < h and fx < w:
                    total += resid[fy, fx, c]
        rhs[y, x, c] = total
        field[y, x, c] = np.float32(0.0)


@body
def bilinear(image, sy, sx, c):
    """``image[sy, sx, c]`` by bilinear interpolation, clamped to the frame."""
    h = image.shape[0]
    w = image.shape[1]
    sx = min(max(sx, np.float32(0.0)), np.float32(w - 1))
    sy = min(max(sy, np.float32(0.0)), np.float32(h - 1))
    x0 = int(sx)
    y0 = int(sy)
    x1 = min(x0 + 1, w - 1)
    y1 = min(y0 + 1, h - 1)
    fx = sx - np.float32(x0)
    fy = sy - np.float32(y0)
    top = (np.float32(1.0) - fx) * image[y0, x0, c] + fx * image[y0, x1, c]
    bot = (np.float32(1.0) - fx) * image[y1, x0, c] + fx * image[y1, x1, c]
    return (np.float32(1.0) - fy) * top + fy * bot


@body
def prolong_add_px(k, ys, xs, coarse, field):
    # Fine pixel centre y sits at coarse coordinate (y - 0.5) / 2.
    sy = (np.float32(ys[k]) - np.float32(0.5)) * np.float32(0.5)
    sx = (np.float32(xs[k]) - np.float32(0.5)) * np.float32(0.5)
    for c in range(field.shape[2]):
        field[ys[k], xs[k], c] += bilinear(coarse, sy, sx, c)
