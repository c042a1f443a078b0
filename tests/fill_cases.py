"""Small random states of the fill's stages (``kernels.*_into``), and running them on a backend."""

import numpy as np

from hybridinpaint.kernels import (
    HoleList,
    Placement,
    combine_sources_into,
    key_frame_into,
    seam_correct_into,
    seam_mismatch_into,
)


def combine_case(seed, t=3, h=4, w=5, c=3):
    """A hole list, two sweeps' sources (some missing, some on half pixels) and the arrays they read.

    With ``c = 4`` the gain acts on the first three channels only (an alpha is left alone).
    """
    rng = np.random.default_rng(seed)
    hole = rng.random((t, h, w)) < 0.4
    holes = HoleList(hole)
    n = holes.size

    def source():
        frame = np.where(rng.random(n) < 0.7, rng.integers(0, t, n), -1).astype(np.int32)
        xy = np.stack([rng.uniform(-0.6, w - 0.4, n), rng.uniform(-0.6, h - 0.4, n)], -1).astype(np.float32)
        xy[::3] = np.round(xy[::3] * 2) / 2  # ties of the rounding to the nearest pixel
        return frame, xy, rng.integers(0, 5, n).astype(np.int32)

    return {
        "holes": holes,
        "filled": (rng.random(n) >= 0.8).astype(np.uint8),  # a fifth filled in an earlier round
        "forward": source(),
        "backward": source(),
        "images": rng.random((t, h, w, c)).astype(np.float32),
        # Nothing of frame 0 may be sampled: every source there falls on no known pixel.
        "known": (~hole | (rng.random((t, h, w)) < 0.2)).astype(np.uint8)
        * (np.arange(t) > 0)[:, None, None].astype(np.uint8),
        "gain": rng.uniform(0.5, 2.0, t).astype(np.float32),
        "guessed": np.where(rng.random((t, h, w)) < 0.3, 2, 0).astype(np.uint8),
        "decay": np.exp(-np.arange(8) / 30.0).astype(np.float32),
        "work": rng.random((t, h, w, c)).astype(np.float32),
        "prov": (
            np.zeros((t, h, w), np.uint8),
            np.broadcast_to(np.arange(t, dtype=np.int32)[:, None, None], (t, h, w)).copy(),
            rng.random((t, h, w, 2)).astype(np.float32),
            np.ones((t, h, w), np.float32),
        ),
        "n_gain": min(c, 3),
    }


def rows(holes, arrays):
    """Per-pixel ``(T, H, W, ...)`` arrays at the listed hole pixels: the rows the fill keeps."""
    return [np.ascontiguousarray(a[holes.ts, holes.ys, holes.xs]) for a in arrays]


def scattered(holes, arrays, values):
    """Copies of ``arrays`` with the listed hole pixels' ``values`` (rows) put back in place."""
    out = [a.copy() for a in arrays]
    for a, v in zip(out, values):
        a[holes.ts, holes.ys, holes.xs] = v
    return out


def run_combine(case, backend, *, sample_work=False):
    """``combine_sources_into`` on ``backend``: (work, provenance arrays, filled after) as numpy arrays.

    The provenance comes back per pixel: the case's arrays with the rows the kernel wrote put in place.
    With ``sample_work`` the sources are sampled from ``work`` itself, as the pipeline does.
    """
    place = Placement(backend)
    holes = case["holes"]
    put = place.put
    out = [put(case["work"].copy())] + [put(a) for a in rows(holes, case["prov"])] + [put(case["filled"].copy())]
    images = out[0] if sample_work else put(case["images"])
    combine_sources_into(
        place, holes, tuple(put(a) for a in case["forward"]),
        tuple(put(a) for a in case["backward"]), images, put(case["known"]), put(case["gain"]),
        put(case["guessed"]), put(case["decay"]), *out, n_gain=case["n_gain"],
    )  # fmt: skip
    got = [place.get(a) for a in out]
    return got[0], tuple(scattered(holes, case["prov"], got[1:5])), got[5].view(bool)


def seam_case(seed, t=3, h=5, w=6, c=3):
    """Frames with a hole whose pixels took their colour from random frames and positions."""
    rng = np.random.default_rng(seed)
    hole = np.zeros((t, h, w), bool)
    hole[:, 1 : h - 1, 2 : w - 1] = rng.random((t, h - 2, w - 3)) < 0.8
    return {
        "hole": hole.astype(np.uint8),
        "source_frame": rng.integers(0, t, (t, h, w)).astype(np.int32),
        "source_xy": np.stack([rng.uniform(-1, w, (t, h, w)), rng.uniform(-1, h, (t, h, w))], -1).astype(np.float32),
        "images": rng.random((t, h, w, c)).astype(np.float32),
        # Nothing of frame 0 may be sampled: predictions from there fall on no known pixel.
        "known": ((rng.random((t, h, w)) < 0.7) & (np.arange(t) > 0)[:, None, None]).astype(np.uint8),
        "gain": rng.uniform(0.5, 2.0, t).astype(np.float32),
        "work": rng.random((t, h, w, c)).astype(np.float32),
        "n_gain": min(c, 3),
        "seam_max": 0.5,
    }


def run_seam(case, k, backend, box=None):
    """``seam_mismatch_into``, then ``seam_correct_into`` by :func:`seam_correction` for frame ``k``.

    Over ``box = (y0, y1, x0, x1)`` of the frame (default: all of it); ``total`` and ``count`` cover the box.
    """
    place = Placement(backend)
    _, h, w, c = case["images"].shape
    y0, y1, x0, x1 = box or (0, h, 0, w)
    holes = HoleList(case["hole"] > 0)
    source_frame, source_xy = (place.put(a) for a in rows(holes, (case["source_frame"], case["source_xy"])))
    arrays = [place.put(case[n]) for n in ("images", "known", "gain")]
    work = place.put(case["work"].copy())
    total, count = place.zeros((y1 - y0, x1 - x0, c), np.float32), place.zeros((y1 - y0, x1 - x0), np.float32)
    seam_mismatch_into(
        place, holes, k, (y0, x0), source_frame, source_xy, *arrays, work, total, count,
        n_gain=case["n_gain"], seam_max=case["seam_max"],
    )  # fmt: skip
    correction = seam_correction(case, k)[y0:y1, x0:x1]
    seam_correct_into(place, holes, k, (y0, x0), source_frame, place.put(correction), work)
    return place.get(total), place.get(count), place.get(work)


def seam_correction(case, k):
    """A correction field for frame ``k`` (what ``diffuse`` would make of the mismatch: nonzero in the hole too)."""
    _, h, w, c = case["images"].shape
    return np.random.default_rng(k).uniform(-0.3, 0.3, (h, w, c)).astype(np.float32)


def run_key_frame(case, k, left, guess, nnf, code, backend):
    """``key_frame_into`` on ``backend`` over the arrays of a :func:`combine_case`: the arrays it writes, as numpy.

    ``left`` must lie in frame ``k``'s hole; the provenance comes back per pixel (see :func:`run_combine`).
    """
    place = Placement(backend)
    holes = case["holes"]
    names = ("work", "images", "known", "guessed")
    placed = [place.put(case[n].copy()) for n in names]
    prov = [place.put(a) for a in rows(holes, case["prov"])]
    key_frame_into(place, holes, k, left, guess, nnf, code, *placed, *prov)
    written = {n: place.get(a) for n, a in zip(names, placed)}
    per_pixel = scattered(holes, case["prov"], [place.get(a) for a in prov])
    return written | dict(zip(("method", "source_frame", "source_xy", "confidence"), per_pixel))
