"""Kernel bodies for diffusion: red-black Gauss-Seidel/SOR, residual
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
def edge_weights(weights, y, x):
    """Weights of the edges to the up, down, left, right neighbours (0 off the frame)."""
    h = weights.shape[0]
    w = weights.shape[1]
    half = np.float32(0.5)
    zero = np.float32(0.0)
    wself = weights[y, x]
    up = half * (wself + weights[y - 1, x]) if y > 0 else zero
    down = half * (wself + weights[y + 1, x]) if y < h - 1 else zero
    left = half * (wself + weights[y, x - 1]) if x > 0 else zero
    right = half * (wself + weights[y, x + 1]) if x < w - 1 else zero
    return up, down, left, right


@body
def neighbour_sum(field, y, x, c, up, down, left, right):
    """``sum_q w_pq u_q`` for channel ``c`` (zero-weight neighbours are not read)."""
    num = np.float32(0.0)
    if up > 0:
        num += up * field[y - 1, x, c]
    if down > 0:
        num += down * field[y + 1, x, c]
    if left > 0:
        num += left * field[y, x - 1, c]
    if right > 0:
        num += right * field[y, x + 1, c]
    return num


@body
def sor_px(k, ys, xs, field, weights, rhs, omega, delta):
    y = ys[k]
    x = xs[k]
    up, down, left, right = edge_weights(weights, y, x)
    den = up + down + left + right
    biggest = np.float32(0.0)
    if den > 0:
        for c in range(field.shape[2]):
            num = neighbour_sum(field, y, x, c, up, down, left, right)
            old = field[y, x, c]
            step = omega * ((num + rhs[y, x, c]) / den - old)
            field[y, x, c] = old + step
            biggest = max(biggest, abs(step))
    delta[k] = biggest


@body
def restrict_px(k, ys, xs, field, weights, rhs, unknown, rhs_c, field_c):
    """Coarse right-hand side at coarse cell k: the sum of its children's residuals.

    The residual ``f - sum_q w_pq (u_p - u_q)`` is computed here, for the
    unknown children only (known pixels have none); the sum matches the
    unscaled coarse operator, about four times the fine one. The coarse
    correction starts at zero.
    """
    y = ys[k]
    x = xs[k]
    h = field.shape[0]
    w = field.shape[1]
    for c in range(rhs_c.shape[2]):
        rhs_c[y, x, c] = np.float32(0.0)
        field_c[y, x, c] = np.float32(0.0)
    for dy in range(2):
        for dx in range(2):
            fy = 2 * y + dy
            fx = 2 * x + dx
            if fy < h and fx < w and unknown[fy, fx] != 0:
                up, down, left, right = edge_weights(weights, fy, fx)
                den = up + down + left + right
                for c in range(rhs_c.shape[2]):
                    num = neighbour_sum(field, fy, fx, c, up, down, left, right)
                    rhs_c[y, x, c] += rhs[fy, fx, c] - (den * field[fy, fx, c] - num)


@body
def bilinear_corners(sy, sx, h, w):
    """The 2x2 footprint of ``(sy, sx)`` clamped to an ``h`` x ``w`` frame: ``y0, x0, y1, x1, fy, fx``."""
    sx = min(max(sx, np.float32(0.0)), np.float32(w - 1))
    sy = min(max(sy, np.float32(0.0)), np.float32(h - 1))
    x0 = int(sx)  # sx >= 0 here: truncation is floor
    y0 = int(sy)
    x1 = min(x0 + 1, w - 1)
    y1 = min(y0 + 1, h - 1)
    return y0, x0, y1, x1, sy - np.float32(y0), sx - np.float32(x0)


@body
def bilinear(image, sy, sx, c):
    """``image[sy, sx, c]`` by bilinear interpolation, clamped to the frame."""
    y0, x0, y1, x1, fy, fx = bilinear_corners(sy, sx, image.shape[0], image.shape[1])
    top = (np.float32(1.0) - fx) * image[y0, x0, c] + fx * image[y0, x1, c]
    bot = (np.float32(1.0) - fx) * image[y1, x0, c] + fx * image[y1, x1, c]
    return (np.float32(1.0) - fy) * top + fy * bot


@body
def prolong_px(k, ys, xs, coarse, field, keep):
    """``field = keep * field + bilinear(coarse)`` at the listed pixels.

    ``keep`` 1 adds a coarse correction; 0 replaces the value (a coarse
    solution as a starting guess).
    """
    # Fine pixel centre y sits at coarse coordinate (y - 0.5) / 2.
    sy = (np.float32(ys[k]) - np.float32(0.5)) * np.float32(0.5)
    sx = (np.float32(xs[k]) - np.float32(0.5)) * np.float32(0.5)
    for c in range(field.shape[2]):
        field[ys[k], xs[k], c] = keep * field[ys[k], xs[k], c] + bilinear(coarse, sy, sx, c)
