import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import reference as ref
import strategies as hst
from hybridinpaint.kernels import diffuse


@given(st.data())
def test_diffusion_properties(data):
    img = data.draw(hst.images(min_side=2))
    h, w = img.shape[:2]
    unk = data.draw(hst.masks(h, w))
    assume((~unk).any())
    garbage = img.copy()
    garbage[unk] = 123.0  # values under the hole must not matter
    garbage.setflags(write=False)
    out = diffuse(garbage, unk, tol=1e-7, backend="cpu")
    # Known values are untouched, bit for bit.
    np.testing.assert_array_equal(out[~unk], img[~unk])
    if not unk.any():
        return
    # Maximum principle.
    lo, hi = img[~unk].min(axis=0), img[~unk].max(axis=0)
    span = float(np.max(hi - lo)) or 1.0
    assert (out[unk] >= lo - 1e-4 * span).all() and (out[unk] <= hi + 1e-4 * span).all()
    # Near-zero discrete Laplacian inside, and agreement with a direct sparse solve.
    assert np.abs(ref.laplacian_residual(out, unk)).max() <= 1e-4 * span
    np.testing.assert_allclose(out, ref.diffuse(img, unk).reshape(out.shape), atol=2e-4 * span)


def test_large_hole_matches_sparse_solve():
    h, w = 60, 90
    yy, xx = np.mgrid[0:h, 0:w]
    unk = ((yy - 30) / 20.0) ** 2 + ((xx - 40) / 30.0) ** 2 < 1
    field = np.stack([np.sin(xx / 9.0), np.cos(yy / 7.0) * 3], -1).astype(np.float32)
    out = diffuse(field, unk, backend="cpu")
    exp = ref.diffuse(field, unk)
    span = float(field[~unk].max() - field[~unk].min())
    np.testing.assert_allclose(out, exp, atol=1e-3 * span)


def test_edge_aware_weights_match_weighted_solve():
    rng = np.random.default_rng(3)
    h, w = 24, 30
    unk = np.zeros((h, w), bool)
    unk[5:19, 6:25] = True
    field = rng.random((h, w, 2)).astype(np.float32)
    weights = np.where(np.arange(w)[None, :] < 15, 1.0, 0.05).repeat(h, 0).astype(np.float32)
    out = diffuse(field, unk, weights=weights, tol=1e-7, backend="cpu")
    exp = ref.diffuse(field, unk, weights)
    np.testing.assert_allclose(out, exp, atol=2e-4)
    assert np.abs(ref.laplacian_residual(out, unk, weights)).max() < 1e-4


def test_nothing_known_gives_zero():
    out = diffuse(np.full((4, 5, 2), 7.0, np.float32), np.ones((4, 5), bool), backend="cpu")
    np.testing.assert_array_equal(out, np.zeros((4, 5, 2), np.float32))


def test_pocket_walled_in_by_known_pixels():
    f = np.zeros((5, 5), np.float32)
    f[1:4, 1:4] = [[1, 2, 3], [4, 100, 6], [7, 8, 9]]
    unk = np.zeros((5, 5), bool)
    unk[2, 2] = True
    out = diffuse(f, unk, tol=1e-7, backend="cpu")
    assert out[2, 2] == pytest.approx((2 + 4 + 6 + 8) / 4, abs=1e-5)  # mean of the 4 neighbours


def test_one_dimensional_ramp():
    f = np.zeros((1, 9), np.float32)
    f[0, 8] = 8.0
    unk = np.zeros((1, 9), bool)
    unk[0, 1:8] = True
    np.testing.assert_allclose(diffuse(f, unk, tol=1e-7, backend="cpu")[0], np.arange(9), atol=1e-4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(field=np.zeros((3, 3, 2, 1))), "field"),
        (dict(unknown=np.zeros((3, 4), bool)), "unknown"),
        (dict(unknown=np.full((3, 3), 2)), "unknown"),
        (dict(weights=np.zeros((3, 3))), "weights"),
        (dict(weights=np.ones((2, 3))), "weights"),
        (dict(tol=0), "tol"),
        (dict(tol=float("nan")), "tol"),
        (dict(max_iter=0), "max_iter"),
        (dict(backend="tpu"), "backend"),
        (dict(field=np.array([[np.nan, 0, 0]] * 3)), "field contains NaN"),
    ],
)
def test_bad_input(kwargs, match):
    args = dict(field=np.zeros((3, 3), np.float32), unknown=np.eye(3, dtype=bool), backend="cpu")
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        diffuse(args.pop("field"), args.pop("unknown"), **args)


def test_isolated_known_pixels_inside_a_large_hole():
    # Single known pixels inside a big hole vanish on the coarse levels, whose
    # corrections then overshoot around them; with three-of-four coarsening the
    # V-cycles diverged here (found on a completed flow of dogs-jump).
    h, w = 140, 140
    yy, xx = np.mgrid[0:h, 0:w]
    unk = np.hypot(yy - 70, xx - 70) < 62
    for y, x in ((40, 50), (41, 50), (90, 100), (70, 30), (100, 60)):
        unk[y, x] = False
    field = np.stack([np.sin(xx / 11.0) * 20, np.cos(yy / 13.0) * 20], -1).astype(np.float32)
    out = diffuse(field, unk, tol=1e-6, backend="cpu")
    exp = ref.diffuse(field, unk)
    np.testing.assert_allclose(out, exp, atol=1e-3 * 40)
