"""Plain numpy/scipy/OpenCV references for the kernels (slow, obvious, small inputs)."""

import cv2
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spl
from scipy import ndimage


def warp_backward(image, flow):
    """Bilinear gather with border clamping, by scipy.ndimage.map_coordinates."""
    img = np.asarray(image, np.float64)
    if img.ndim == 2:
        img = img[:, :, None]
    h, w, c = img.shape
    # Sample positions in float32, as the kernel forms them from a float32 flow: a flow of
    # 1e-12 px at the last row stays on the frame (hypothesis found the float64 version off).
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    sx = xx + np.asarray(flow[..., 0], np.float32)
    sy = yy + np.asarray(flow[..., 1], np.float32)
    valid = (sx >= 0) & (sy >= 0) & (sx <= w - 1) & (sy <= h - 1)
    sxc = np.clip(sx, 0, w - 1)
    syc = np.clip(sy, 0, h - 1)
    out = np.stack([ndimage.map_coordinates(img[..., k], [syc, sxc], order=1, mode="nearest") for k in range(c)], -1)
    return out, valid


def warp_backward_cv2(image, flow):
    """The same gather with cv2.remap (float maps, replicated border)."""
    h, w = image.shape[:2]
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(
        np.asarray(image, np.float32),
        xx + flow[..., 0],
        yy + flow[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def warp_forward(image, flow):
    """Bilinear splat with np.add.at, normalised where weight > 0."""
    img = np.asarray(image, np.float64)
    if img.ndim == 2:
        img = img[:, :, None]
    h, w, c = img.shape
    acc = np.zeros((h, w, c))
    wacc = np.zeros((h, w))
    yy, xx = np.mgrid[0:h, 0:w]
    tx = xx + flow[..., 0].astype(np.float64)
    ty = yy + flow[..., 1].astype(np.float64)
    x0 = np.floor(tx).astype(int)
    y0 = np.floor(ty).astype(int)
    fx = tx - x0
    fy = ty - y0
    for dy, dx, wt in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        ty_, tx_ = y0 + dy, x0 + dx
        ok = (wt > 0) & (ty_ >= 0) & (tx_ >= 0) & (ty_ < h) & (tx_ < w)
        np.add.at(wacc, (ty_[ok], tx_[ok]), wt[ok])
        for k in range(c):
            np.add.at(acc[..., k], (ty_[ok], tx_[ok]), wt[ok] * img[..., k][ok])
    out = np.where(wacc[..., None] > 0, acc / np.where(wacc > 0, wacc, 1)[..., None], 0.0)
    return out, wacc


def laplace_operator(unknown, weights=None):
    """Sparse weighted Laplacian rows for the unknown pixels: (A, index, boundary map)."""
    h, w = unknown.shape
    wts = np.ones((h, w)) if weights is None else np.asarray(weights, np.float64)
    ys, xs = np.nonzero(unknown)
    idx = -np.ones((h, w), int)
    idx[ys, xs] = np.arange(ys.size)
    rows, cols, vals = [], [], []
    bnd = []  # (row, y, x, weight) of known neighbours
    for k, (y, x) in enumerate(zip(ys, xs)):
        diag = 0.0
        for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= ny < h and 0 <= nx < w:
                wq = 0.5 * (wts[y, x] + wts[ny, nx])
                diag += wq
                if unknown[ny, nx]:
                    rows.append(k)
                    cols.append(idx[ny, nx])
                    vals.append(-wq)
                else:
                    bnd.append((k, ny, nx, wq))
        rows.append(k)
        cols.append(k)
        vals.append(diag)
    a = sp.csr_matrix((vals, (rows, cols)), shape=(ys.size, ys.size))
    return a, (ys, xs), bnd


def diffuse(field, unknown, weights=None):
    """Solve the (weighted) Laplace equation exactly with scipy.sparse.linalg.spsolve.

    Every unknown region must touch a known pixel.
    """
    f = np.asarray(field, np.float64)
    if f.ndim == 2:
        f = f[:, :, None]
    a, (ys, xs), bnd = laplace_operator(unknown, weights)
    b = np.zeros((ys.size, f.shape[2]))
    for k, ny, nx, wq in bnd:
        b[k] += wq * f[ny, nx]
    sol = spl.spsolve(a.tocsc(), b)
    out = f.copy()
    out[ys, xs] = sol.reshape(ys.size, f.shape[2])
    return out


def laplacian_residual(u, unknown, weights=None):
    """``sum_q w_pq (u_p - u_q)`` at each unknown pixel (0 for an exact solution)."""
    u = np.asarray(u, np.float64)
    if u.ndim == 2:
        u = u[:, :, None]
    a, (ys, xs), bnd = laplace_operator(unknown, weights)
    r = a @ u[ys, xs]
    for k, ny, nx, wq in bnd:
        r[k] -= wq * u[ny, nx]
    return r


def patch_cost(target, weight, sources, y, x, s, sy, sx, r):
    """Weighted SSD / total weight of the target patch, as patchmatch defines it."""
    h, w = target.shape[:2]
    tot = 0.0
    wsum = 0.0
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            ty, tx = y + dy, x + dx
            if 0 <= ty < h and 0 <= tx < w:
                wt = float(weight[ty, tx])
                wsum += wt
                if wt > 0:
                    d = target[ty, tx].astype(np.float64) - sources[s, sy + dy, sx + dx]
                    tot += wt * float(np.sum(d * d))
    return tot / wsum if wsum > 0 else 0.0


def valid_centres(source_valid, r):
    s, h, w = source_valid.shape
    ok = np.zeros((s, h, w), bool)
    for k in range(s):
        for y in range(r, h - r):
            for x in range(r, w - r):
                ok[k, y, x] = source_valid[k, y - r : y + r + 1, x - r : x + r + 1].all()
    return ok


def best_costs(target, weight, sources, source_valid, region, r):
    """Brute force: the lowest cost over every valid source centre, per region pixel."""
    ok = valid_centres(source_valid, r)
    cands = np.argwhere(ok)
    best = np.full(target.shape[:2], np.nan)
    for y, x in zip(*np.nonzero(region)):
        best[y, x] = min(patch_cost(target, weight, sources, y, x, s, sy, sx, r) for s, sy, sx in cands)
    return best


def vote(nnf, cost, sources, hole, r, inv_sigma2):
    h, w = hole.shape
    c = sources.shape[3]
    out = np.zeros((h, w, c))
    for y, x in zip(*np.nonzero(hole)):
        acc = np.zeros(c)
        wsum = 0.0
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                qy, qx = y + dy, x + dx
                if 0 <= qy < h and 0 <= qx < w and nnf[qy, qx, 0] >= 0:
                    s, sy, sx = nnf[qy, qx]
                    wt = np.exp(-float(cost[qy, qx]) * inv_sigma2)
                    acc += wt * sources[s, sy - dy, sx - dx]
                    wsum += wt
        out[y, x] = acc / wsum
    return out


def propagate_sources(known, step_flows, check_flows, forward, tau_abs=2.0, tau_rel=0.1):
    """Frame-by-frame numpy sweep of source chains (float32 positions, like the kernel)."""
    t, h, w = known.shape
    frame = np.broadcast_to(np.arange(t, dtype=np.int32)[:, None, None], (t, h, w)).copy()
    frame[~known] = -1
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    pos = np.broadcast_to(np.stack([xx, yy], -1), (t, h, w, 2)).copy()
    steps = np.zeros((t, h, w), np.int32)
    for k in range(1, t) if forward else range(t - 2, -1, -1):
        u, kf = (k - 1, k - 1) if forward else (k + 1, k)
        ys, xs = np.nonzero(~known[k])
        step = step_flows[kf][ys, xs]
        qx = xs.astype(np.float32) + step[:, 0]
        qy = ys.astype(np.float32) + step[:, 1]
        inside = (qx >= 0) & (qy >= 0) & (qx <= w - 1) & (qy <= h - 1)
        ys, xs, qx, qy, step = ys[inside], xs[inside], qx[inside], qy[inside], step[inside]
        back = np.stack(
            [ndimage.map_coordinates(check_flows[kf][..., c], [qy, qx], order=1, mode="nearest") for c in range(2)], -1
        )
        err = np.hypot(step[:, 0] + back[:, 0], step[:, 1] + back[:, 1])
        ok = err <= tau_abs + tau_rel * np.hypot(step[:, 0], step[:, 1])
        nx = np.minimum(np.floor(qx + np.float32(0.5)).astype(int), w - 1)
        ny = np.minimum(np.floor(qy + np.float32(0.5)).astype(int), h - 1)
        ok &= frame[u, ny, nx] >= 0
        ys, xs, qx, qy, nx, ny = ys[ok], xs[ok], qx[ok], qy[ok], nx[ok], ny[ok]
        frame[k, ys, xs] = frame[u, ny, nx]
        pos[k, ys, xs, 0] = pos[u, ny, nx, 0] + (qx - nx)
        pos[k, ys, xs, 1] = pos[u, ny, nx, 1] + (qy - ny)
        steps[k, ys, xs] = steps[u, ny, nx] + 1
    return frame, pos, steps


def sample_known(images, known, frame, x, y):
    """Bilinear over the known corners only, renormalised; ok where their weight > 1e-3."""
    t, h, w, c = images.shape
    x = np.clip(np.asarray(x, np.float64), 0, w - 1)
    y = np.clip(np.asarray(y, np.float64), 0, h - 1)
    x0 = np.floor(x).astype(int)
    y0 = np.floor(y).astype(int)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    fx, fy = x - x0, y - y0
    acc = np.zeros((x.size, c))
    wsum = np.zeros(x.size)
    for yy, xx, wt in (
        (y0, x0, (1 - fy) * (1 - fx)),
        (y0, x1, (1 - fy) * fx),
        (y1, x0, fy * (1 - fx)),
        (y1, x1, fy * fx),
    ):
        wt = wt * known[frame, yy, xx]
        acc += wt[:, None] * images[frame, yy, xx]
        wsum += wt
    ok = wsum > 1e-3
    return np.where(ok[:, None], acc / np.where(ok, wsum, 1.0)[:, None], 0.0), ok


def combine_sources(ts, ys, xs, filled, fw, bw, images, known, gain, n_gain, guessed, decay, work, prov):
    """Colour and provenance of listed hole pixels not yet ``filled`` from two sources (float64; new arrays).

    ``fw``, ``bw``: (frame, xy, steps). ``prov``: (method, source_frame, source_xy, confidence).
    """
    work = work.astype(np.float64)
    method, sframe, sxy, conf = (a.copy() for a in prov)
    todo = ~filled.astype(bool)
    filled = filled.astype(bool)
    t, h, w = known.shape
    for k in np.flatnonzero(todo):
        parts = []
        for frame, xy, steps in (fw, bw):
            if frame[k] < 0:
                continue
            col, ok = sample_known(images, known, frame[k : k + 1], xy[k : k + 1, 0], xy[k : k + 1, 1])
            if ok[0]:
                col = col[0].copy()
                col[:n_gain] *= gain[ts[k]] / gain[frame[k]]
                parts.append((1.0 / max(steps[k], 1), col, frame[k], xy[k], steps[k]))
        if not parts:
            continue
        wsum = sum(p[0] for p in parts)
        work[ts[k], ys[k], xs[k]] = np.clip(sum(p[0] * p[1] for p in parts) / wsum, 0, 1)
        near = min(parts, key=lambda p: p[4])  # ties: the forward source (listed first)
        ny, nx = (int(np.clip(np.rint(near[3][i]), 0, n - 1)) for i, n in ((1, h), (0, w)))
        code = guessed[near[2], ny, nx]
        method[ts[k], ys[k], xs[k]] = code if code else 1
        sframe[ts[k], ys[k], xs[k]] = near[2]
        sxy[ts[k], ys[k], xs[k]] = near[3]
        conf[ts[k], ys[k], xs[k]] = decay[near[4]] * (0.3 if code else 1.0)
        filled[k] = True
    return work, (method, sframe, sxy, conf), filled


def seam_mismatch(k, hole, source_frame, source_xy, images, known, gain, n_gain, work, seam_max):
    """Mismatch sums and counts at frame ``k``'s known pixels next to its borrowed fill (float64)."""
    _, h, w, c = images.shape
    total = np.zeros((h, w, c))
    count = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            if hole[k, y, x]:
                continue
            for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
                py, px = y - dy, x - dx
                if not (0 <= py < h and 0 <= px < w) or not hole[k, py, px] or source_frame[k, py, px] == k:
                    continue
                sf = source_frame[k, py, px]
                sx, sy = source_xy[k, py, px]
                pred, ok = sample_known(images, known, np.array([sf]), np.array([sx + dx]), np.array([sy + dy]))
                pred = pred[0].copy()
                pred[:n_gain] *= gain[k] / gain[sf]
                diff = work[k, y, x] - pred
                if ok[0] and np.abs(diff).max() <= seam_max:
                    total[y, x] += diff
                count[y, x] += 1
    return total, count
