"""Kernel bodies for PatchMatch (nearest-neighbour field search) and voting.

The search is Jacobi-style: every pixel of an iteration reads the field
left by the previous one and writes its own entry of a second buffer, so
the result does not depend on the order in which pixels run and CPU and
CUDA agree. Propagation looks at the four neighbours at distance 1 and at a
jump distance that shrinks over iterations (as in jump flooding), which
carries a good match across the hole in a few iterations instead of one
pixel per iteration. Random numbers come from a counter-based hash of
``(seed, iteration, pixel, draw)``, identical on both targets.
"""

import math

import numpy as np

from ._accelerate import body

_MASK32 = 0xFFFFFFFF


@body
def hash32(v):
    # Multipliers below 2**31 keep every product below 2**63: no int64
    # overflow on either target, nor in the CUDA simulator's Python ints.
    v = v & 0xFFFFFFFF
    v ^= v >> 16
    v = (v * 0x7FEB352D) & 0xFFFFFFFF
    v ^= v >> 15
    v = (v * 0x2C1B3C6D) & 0xFFFFFFFF
    v ^= v >> 16
    return v


@body
def rand_below(seed, it, p, draw, n):
    """A uniform integer in ``[0, n)`` from the counter ``(seed, it, p, draw)``."""
    h = hash32(seed + hash32(it + hash32(p + hash32(draw))))
    return h % n


@body
def patch_cost(target, weight, sources, y, x, s, sy, sx, r, limit):
    """Weighted SSD between target patch at (y, x) and source patch (s, sy, sx).

    Stops early (returning a value > ``limit``) once the sum passes ``limit``.
    """
    h = target.shape[0]
    w = target.shape[1]
    total = np.float32(0.0)
    for dy in range(-r, r + 1):
        ty = y + dy
        if ty < 0 or ty >= h:
            continue
        for dx in range(-r, r + 1):
            tx = x + dx
            if tx < 0 or tx >= w:
                continue
            wt = weight[ty, tx]
            if wt > 0:
                acc = np.float32(0.0)
                for c in range(target.shape[2]):
                    d = target[ty, tx, c] - sources[s, sy + dy, sx + dx, c]
                    acc += d * d
                total += wt * acc
        if total > limit:
            return total
    return total


@body
def patch_weight(weight, y, x, r):
    h = weight.shape[0]
    w = weight.shape[1]
    total = np.float32(0.0)
    for ty in range(max(y - r, 0), min(y + r + 1, h)):
        for tx in range(max(x - r, 0), min(x + r + 1, w)):
            total += weight[ty, tx]
    return total


@body
def pm_cost_px(k, ys, xs, target, weight, sources, nnf, r, cost):
    y = ys[k]
    x = xs[k]
    wsum = patch_weight(weight, y, x, r)
    if wsum > 0:
        raw = patch_cost(target, weight, sources, y, x, nnf[y, x, 0], nnf[y, x, 1], nnf[y, x, 2], r, np.float32(np.inf))
        cost[y, x] = raw / wsum
    else:
        cost[y, x] = np.float32(0.0)


@body
def centre_ok(ok, s, cy, cx):
    return cy >= 0 and cx >= 0 and cy < ok.shape[1] and cx < ok.shape[2] and ok[s, cy, cx] != 0


@body
def pm_iterate_px(k, ys, xs, it, seed, jump, target, weight, sources, ok, r, nnf_in, cost_in, nnf_out, cost_out):
    y = ys[k]
    x = xs[k]
    h = nnf_in.shape[0]
    w = nnf_in.shape[1]
    bs = nnf_in[y, x, 0]
    by = nnf_in[y, x, 1]
    bx = nnf_in[y, x, 2]
    wsum = patch_weight(weight, y, x, r)
    if wsum > 0:
        best = cost_in[y, x] * wsum  # compare unnormalised sums
        # Propagation: a neighbour's match, shifted back by the offset.
        for step in range(2):
            d = 1 if step == 0 else jump
            if step == 1 and jump <= 1:
                break
            for n in range(4):
                ny = y
                nx = x
                if n == 0:
                    ny = y - d
                elif n == 1:
                    ny = y + d
                elif n == 2:
                    nx = x - d
                else:
                    nx = x + d
                if ny < 0 or nx < 0 or ny >= h or nx >= w:
                    continue
                cs = nnf_in[ny, nx, 0]
                if cs < 0:
                    continue
                cy = nnf_in[ny, nx, 1] + (y - ny)
                cx = nnf_in[ny, nx, 2] + (x - nx)
                if cs == bs and cy == by and cx == bx:
                    continue
                if centre_ok(ok, cs, cy, cx):
                    c = patch_cost(target, weight, sources, y, x, cs, cy, cx, r, best)
                    if c < best:
                        best = c
                        bs = cs
                        by = cy
                        bx = cx
        # Random search around the best, in windows halving from the frame size.
        p = y * w + x
        rad = max(ok.shape[1], ok.shape[2])
        draw = 0
        while rad >= 1:
            cy = by + rand_below(seed, it, p, draw, 2 * rad + 1) - rad
            cx = bx + rand_below(seed, it, p, draw + 1, 2 * rad + 1) - rad
            draw += 2
            if centre_ok(ok, bs, cy, cx) and not (cy == by and cx == bx):
                c = patch_cost(target, weight, sources, y, x, bs, cy, cx, r, best)
                if c < best:
                    best = c
                    by = cy
                    bx = cx
            rad = rad // 2
        # One draw in another source frame, near the same place.
        if ok.shape[0] > 1:
            cs = rand_below(seed, it, p, draw, ok.shape[0])
            cy = by + rand_below(seed, it, p, draw + 1, 5) - 2
            cx = bx + rand_below(seed, it, p, draw + 2, 5) - 2
            if cs != bs and centre_ok(ok, cs, cy, cx):
                c = patch_cost(target, weight, sources, y, x, cs, cy, cx, r, best)
                if c < best:
                    best = c
                    bs = cs
                    by = cy
                    bx = cx
        cost_out[y, x] = best / wsum
    else:
        cost_out[y, x] = np.float32(0.0)
    nnf_out[y, x, 0] = bs
    nnf_out[y, x, 1] = by
    nnf_out[y, x, 2] = bx


@body
def vote_px(k, ys, xs, nnf, cost, sources, r, inv_sigma2, out):
    y = ys[k]
    x = xs[k]
    h = nnf.shape[0]
    w = nnf.shape[1]
    nc = out.shape[2]
    wsum = np.float32(0.0)
    for c in range(nc):
        out[y, x, c] = np.float32(0.0)
    # Pass 1: weighted by patch cost. Pass 2 (only if every weight
    # underflowed): plain mean.
    for attempt in range(2):
        for dy in range(-r, r + 1):
            qy = y + dy
            if qy < 0 or qy >= h:
                continue
            for dx in range(-r, r + 1):
                qx = x + dx
                if qx < 0 or qx >= w:
                    continue
                s = nnf[qy, qx, 0]
                if s < 0:
                    continue
                if attempt == 0:
                    wt = np.float32(math.exp(-cost[qy, qx] * inv_sigma2))
                else:
                    wt = np.float32(1.0)
                if wt > 0:
                    sy = nnf[qy, qx, 1] - dy
                    sx = nnf[qy, qx, 2] - dx
                    for c in range(nc):
                        out[y, x, c] += wt * sources[s, sy, sx, c]
                    wsum += wt
        if wsum > 0:
            break
    if wsum > 0:
        for c in range(nc):
            out[y, x, c] = out[y, x, c] / wsum
