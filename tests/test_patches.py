import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import reference as ref
import strategies as hst
from hybridinpaint.kernels import patchmatch, vote


@st.composite
def pm_problems(draw):
    """A target with a hole, 1-3 sources with invalid speckle, a small patch."""
    h = draw(st.integers(5, 12))
    w = draw(st.integers(5, 12))
    c = draw(hst.channels)
    s = draw(st.integers(1, 3))
    hs, ws = draw(st.integers(5, 10)), draw(st.integers(5, 10))
    unit = st.floats(0, 1, width=32)
    target = draw(hnp.arrays(np.float32, (h, w, c), elements=unit))
    hole = draw(hst.masks(h, w, min_true=1))
    sources = draw(hnp.arrays(np.float32, (s, hs, ws, c), elements=unit))
    valid = ~draw(hnp.arrays(np.bool_, (s, hs, ws)))  # shrinks towards all valid
    patch = draw(st.sampled_from([1, 3]))
    valid[0, :patch, :patch] = True  # at least one valid patch
    return target, hole, sources, valid, patch


def _region(hole, r):
    from scipy import ndimage

    return ndimage.binary_dilation(hole, np.ones((2 * r + 1, 2 * r + 1), bool)) if r else hole


@given(pm_problems(), st.integers(0, 4), hst.seeds)
def test_patchmatch_properties(problem, iterations, seed):
    target, hole, sources, valid, patch = problem
    for a in (target, hole, sources, valid):
        a.setflags(write=False)
    r = patch // 2
    nnf, cost = patchmatch(target, hole, sources, valid, patch=patch, iterations=iterations, seed=seed, backend="cpu")
    region = _region(hole, r)
    assert (nnf[~region] == -1).all() and (cost[~region] == 0).all()
    ok = ref.valid_centres(valid, r)
    weight = (~hole).astype(np.float32)
    for y, x in zip(*np.nonzero(region)):
        s, sy, sx = nnf[y, x]
        assert ok[s, sy, sx], "source patch touches an invalid pixel or leaves the frame"
        assert cost[y, x] == pytest.approx(
            ref.patch_cost(target, weight, sources, y, x, s, sy, sx, r), rel=1e-4, abs=1e-5
        )
    # Cost never rises with more iterations (same seed: the same first iterations).
    nnf2, cost2 = patchmatch(
        target, hole, sources, valid, patch=patch, iterations=iterations + 1, seed=seed, backend="cpu"
    )
    assert (cost2 <= cost + 1e-6).all()
    # Never below the true minimum.
    best = ref.best_costs(target, weight, sources, valid, region, r)
    assert (cost[region] >= best[region] - 1e-5).all()
    # Reproducible from the seed.
    again = patchmatch(target, hole, sources, valid, patch=patch, iterations=iterations, seed=seed, backend="cpu")
    np.testing.assert_array_equal(again[0], nnf)
    np.testing.assert_array_equal(again[1], cost)


@pytest.mark.parametrize("shift", [(0, 0), (3, -2), (-5, 4)])
def test_finds_the_exact_source_of_a_shifted_copy(shift):
    rng = np.random.default_rng(7)
    dy, dx = shift
    src = rng.random((1, 48, 56, 3)).astype(np.float32)
    h, w = 36, 40
    y0, x0 = 6 + dy, 8 + dx
    target = src[0, y0 : y0 + h, x0 : x0 + w].copy()
    hole = np.zeros((h, w), bool)
    hole[12:24, 15:27] = True
    target[hole] = 0.0
    nnf, cost = patchmatch(
        target, hole, src, np.ones(src.shape[:3], bool), patch=5, iterations=12, seed=3, backend="cpu"
    )
    region = _region(hole, 2)
    # Pixels whose patch has known pixels must find the true offset (cost 0).
    has_known = _region(~hole, 2) & region
    yy, xx = np.nonzero(has_known)
    np.testing.assert_array_equal(nnf[yy, xx, 1], yy + y0)
    np.testing.assert_array_equal(nnf[yy, xx, 2], xx + x0)
    assert (cost[has_known] < 1e-10).all()
    # With the whole target known (a full weight map) every pixel finds it.
    full = src[0, y0 : y0 + h, x0 : x0 + w]
    nnf_f, cost_f = patchmatch(
        full,
        hole,
        src,
        np.ones(src.shape[:3], bool),
        patch=5,
        iterations=12,
        target_weight=np.ones((h, w), np.float32),
        backend="cpu",
    )
    ry, rx = np.nonzero(region)
    np.testing.assert_array_equal(nnf_f[ry, rx, 1], ry + y0)
    np.testing.assert_array_equal(nnf_f[ry, rx, 2], rx + x0)


def test_finds_the_right_frame():
    rng = np.random.default_rng(2)
    frames = rng.random((4, 30, 30, 1)).astype(np.float32)
    target = frames[2, 5:25, 5:25].copy()
    hole = np.zeros((20, 20), bool)
    hole[8:12, 8:12] = True
    nnf, cost = patchmatch(target, hole, frames, np.ones((4, 30, 30), bool), patch=5, iterations=20, backend="cpu")
    ring = _region(hole, 2) & _region(~hole, 2)
    assert (nnf[ring, 0] == 2).all()
    assert (cost[ring] < 1e-10).all()


def test_init_is_used_and_bad_entries_replaced():
    rng = np.random.default_rng(5)
    src = rng.random((1, 20, 20, 1)).astype(np.float32)
    target = src[0, 2:18, 2:18].copy()
    hole = np.zeros((16, 16), bool)
    hole[6:10, 6:10] = True
    ideal = np.full((16, 16, 3), -1, np.int32)
    yy, xx = np.mgrid[0:16, 0:16]
    ideal[..., 0], ideal[..., 1], ideal[..., 2] = 0, yy + 2, xx + 2
    ideal[0, 0] = (5, 100, 100)  # nonsense entry
    nnf, cost = patchmatch(
        target, hole, src, np.ones((1, 20, 20), bool), patch=3, iterations=0, init=ideal, backend="cpu"
    )
    region = _region(hole, 1)
    np.testing.assert_array_equal(nnf[region], ideal[region])
    assert (cost[region & _region(~hole, 1)] == 0).all()


def test_vote_matches_reference():
    rng = np.random.default_rng(11)
    src = rng.random((2, 12, 14, 3)).astype(np.float32)
    hole = np.zeros((10, 11), bool)
    hole[3:7, 4:8] = True
    target = rng.random((10, 11, 3)).astype(np.float32)
    nnf, cost = patchmatch(target, hole, src, np.ones((2, 12, 14), bool), patch=3, iterations=3, backend="cpu")
    for sigma in (None, 0.3, 0.0):
        out = vote(nnf, cost, src, hole, patch=3, sigma=sigma, backend="cpu")
        matched = nnf[..., 0] >= 0
        s2 = np.percentile(cost[matched], 75) if sigma is None else sigma**2
        inv = 1.0 / s2 if s2 > 0 else 0.0
        np.testing.assert_allclose(out, ref.vote(nnf, cost, src, hole, 1, inv), rtol=1e-5, atol=1e-6)
        assert (out[~hole] == 0).all()


def test_vote_reconstructs_an_exact_match():
    rng = np.random.default_rng(4)
    src = rng.random((1, 30, 30)).astype(np.float32)
    target = src[0, 3:27, 4:28].copy()
    hole = np.zeros((24, 24), bool)
    hole[8:14, 9:15] = True
    nnf, cost = patchmatch(
        target,
        hole,
        src,
        np.ones((1, 30, 30), bool),
        patch=5,
        iterations=10,
        target_weight=np.ones((24, 24), np.float32),
        backend="cpu",
    )
    out = vote(nnf, cost, src, hole, patch=5, backend="cpu")
    np.testing.assert_allclose(out[hole], target[hole], atol=1e-6)


def test_bad_input():
    t = np.zeros((8, 8, 3), np.float32)
    hole = np.zeros((8, 8), bool)
    hole[3, 3] = True
    src = np.zeros((2, 8, 8, 3), np.float32)
    valid = np.ones((2, 8, 8), bool)
    call = dict(target=t, hole=hole, sources=src, source_valid=valid)

    def run(match, **over):
        args = dict(call)
        args.update(over)
        kw = {k: args.pop(k) for k in list(args) if k not in ("target", "hole", "sources", "source_valid")}
        kw.setdefault("backend", "cpu")
        with pytest.raises(ValueError, match=match):
            patchmatch(args["target"], args["hole"], args["sources"], args["source_valid"], **kw)

    run("target", target=np.zeros((8, 8, 3, 1)))
    run("hole", hole=np.zeros((8, 9), bool))
    run("sources", sources=np.zeros((2, 8, 8, 1), np.float32))
    run("sources", sources=np.zeros((8, 8, 3), np.float32))
    run("source_valid", source_valid=np.ones((1, 8, 8), bool))
    run("patch", patch=4)
    run("patch", patch=0)
    run("iterations", iterations=-1)
    run("seed", seed=1.5)
    run("init", init=np.zeros((8, 8, 2), np.int32))
    run("target_weight", target_weight=-np.ones((8, 8)))
    run("source_valid has no", source_valid=np.zeros((2, 8, 8), bool))
    nan_src = src.copy()
    nan_src[0, 0, 0, 0] = np.nan
    run("sources contains NaN", sources=nan_src)
    run("backend", backend="gpu")
    nnf = np.full((8, 8, 3), -1, np.int32)
    with pytest.raises(ValueError, match="nnf"):
        vote(nnf[..., :2], np.zeros((8, 8)), src, hole, backend="cpu")
    with pytest.raises(ValueError, match="cost"):
        vote(nnf, np.zeros((8, 7)), src, hole, backend="cpu")
    bad = nnf.copy()
    bad[3, 3] = (5, 4, 4)
    with pytest.raises(ValueError, match="nnf points outside"):
        vote(bad, np.zeros((8, 8)), src, hole, patch=3, backend="cpu")
    with pytest.raises(ValueError, match="sigma"):
        vote(nnf, np.zeros((8, 8)), src, hole, sigma=-1, backend="cpu")
