"""The propagation kernels against numpy references, and their properties."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fill_cases
import reference as ref
import strategies as hst
from hybridinpaint.kernels import propagate_sources, sample_known


def _video(data, t, h, w):
    known = np.stack([~data.draw(hst.masks(h, w)) for _ in range(t)])
    # Forward flows t -> t+1 and, for consistency checks to pass often, the
    # backward flows close to their negatives (plus noise that breaks some).
    fwd = np.stack([data.draw(hst.smooth_flows(h, w, scale=2.0)) for _ in range(t - 1)])
    noise = np.random.default_rng(data.draw(hst.seeds)).normal(0, data.draw(st.sampled_from([0.0, 1.5])), fwd.shape)
    bwd = (-fwd + noise).astype(np.float32)
    return known, fwd, bwd


@given(st.data(), st.integers(2, 5), hst.sizes, st.booleans())
def test_propagate_sources_matches_reference(data, t, size, forward):
    h, w = size
    known, fwd, bwd = _video(data, t, h, w)
    step, check = (bwd, fwd) if forward else (fwd, bwd)
    frame, pos, steps = propagate_sources(known, step, check, forward=forward, backend="cpu")
    e_frame, e_pos, e_steps = ref.propagate_sources(known, step, check, forward)
    np.testing.assert_array_equal(frame, e_frame)
    np.testing.assert_array_equal(steps, e_steps)
    np.testing.assert_allclose(pos, e_pos, atol=1e-4)
    # Known pixels are their own sources; chained ones point the right way in time.
    ts = np.arange(t)[:, None, None]
    np.testing.assert_array_equal(frame[known], np.broadcast_to(ts, known.shape)[known])
    chained = (frame >= 0) & ~known
    direction = ts - frame if forward else frame - ts
    np.testing.assert_array_equal(direction[chained], steps[chained])
    assert (steps[chained] >= 1).all()


def test_propagate_sources_follows_a_pan():
    # Content moves 2 px right per frame; a hole in the middle of frames 1-3.
    t, h, w = 4, 6, 20
    known = np.ones((t, h, w), bool)
    known[1:, :, 8:12] = False
    fwd = np.zeros((t - 1, h, w, 2), np.float32)
    fwd[..., 0] = 2
    frame, pos, steps = propagate_sources(known, -fwd, fwd, forward=True, backend="cpu")
    # Frame 3, x = 9: came from x = 7 in frame 2, which is known.
    assert frame[3, 0, 9] == 2 and steps[3, 0, 9] == 1
    np.testing.assert_allclose(pos[3, 0, 9], [7, 0])
    # Frame 3, x = 11 -> x = 9 in frame 2 (a hole) -> x = 7 in frame 1 (known).
    assert frame[3, 0, 11] == 1 and steps[3, 0, 11] == 2
    np.testing.assert_allclose(pos[3, 0, 11], [7, 0])


@given(st.data(), st.integers(1, 3), hst.sizes, st.integers(0, 20))
def test_sample_known_matches_reference(data, t, size, n):
    h, w = size
    rng = np.random.default_rng(n)
    imgs = rng.random((t, h, w, 2)).astype(np.float32)
    known = np.stack([~data.draw(hst.masks(h, w)) for _ in range(t)])
    fr = rng.integers(0, t, n)
    x = rng.uniform(-1, w, n).astype(np.float32)
    y = rng.uniform(-1, h, n).astype(np.float32)
    out, ok = sample_known(imgs, known, fr, x, y, backend="cpu")
    e_out, e_ok = ref.sample_known(imgs, known, fr, x, y)
    np.testing.assert_array_equal(ok, e_ok)
    np.testing.assert_allclose(out, e_out, atol=1e-5)
    # A sample never invents colour: it lies within the known values of its frame.
    for k in np.flatnonzero(ok):
        vals = imgs[fr[k]][known[fr[k]]]
        assert (out[k] >= vals.min(axis=0) - 1e-5).all() and (out[k] <= vals.max(axis=0) + 1e-5).all()


def test_sample_known_with_no_samples():
    out, ok = sample_known(np.zeros((1, 1, 1, 2), np.float32), np.ones((1, 1, 1), bool), [], [], [], backend="cpu")
    assert out.shape == (0, 2) and ok.shape == (0,)


def test_bad_arguments_are_named():
    known = np.ones((3, 4, 5), bool)
    flows = np.zeros((2, 4, 5, 2), np.float32)
    with pytest.raises(ValueError, match="known"):
        propagate_sources(np.ones((4, 5), bool), flows, flows, forward=True, backend="cpu")
    with pytest.raises(ValueError, match="step_flows"):
        propagate_sources(known, flows[:1], flows, forward=True, backend="cpu")
    with pytest.raises(ValueError, match="check_flows"):
        propagate_sources(known, flows, np.full_like(flows, np.nan), forward=True, backend="cpu")
    with pytest.raises(ValueError, match="tau_abs"):
        propagate_sources(known, flows, flows, forward=True, tau_abs=-1, backend="cpu")
    imgs = np.zeros((3, 4, 5, 1), np.float32)
    with pytest.raises(ValueError, match="frame must lie"):
        sample_known(imgs, known, np.array([3]), np.zeros(1), np.zeros(1), backend="cpu")
    with pytest.raises(ValueError, match="x and y"):
        sample_known(imgs, known, np.array([0, 1]), np.zeros(1), np.zeros(2), backend="cpu")


def test_inputs_are_not_modified():
    rng = np.random.default_rng(0)
    known = rng.random((3, 5, 6)) > 0.3
    flows = rng.normal(0, 1, (2, 5, 6, 2)).astype(np.float32)
    copies = [a.copy() for a in (known, flows)]
    propagate_sources(known, flows, -flows, forward=False, backend="cpu")
    for a, b in zip((known, flows), copies):
        np.testing.assert_array_equal(a, b)


# --- the fill's stages on placed arrays (kernels.*_into) ----------------------


@pytest.mark.parametrize("seed, c", [(0, 3), (1, 3), (2, 4), (3, 4)])
def test_combine_sources_matches_reference(seed, c):
    case = fill_cases.combine_case(seed, c=c)
    work, prov, filled = fill_cases.run_combine(case, "cpu")
    h = case["holes"]
    exp_work, exp_prov, exp_filled = ref.combine_sources(
        h.ts, h.ys, h.xs, case["filled"], case["forward"], case["backward"], case["images"], case["known"],
        case["gain"], case["n_gain"], case["guessed"], case["decay"], case["work"], case["prov"],
    )  # fmt: skip
    np.testing.assert_array_equal(filled, exp_filled)
    new = filled & ~case["filled"].astype(bool)
    assert new.any() and not filled.all()  # some found a source, some did not
    np.testing.assert_allclose(work, exp_work, atol=1e-5)
    for got, exp in zip(prov, exp_prov):
        np.testing.assert_allclose(got, exp, atol=1e-6)
    # Only listed pixels that were not filled and found a source change.
    changed = np.zeros(case["known"].shape, bool)
    changed[h.ts[new], h.ys[new], h.xs[new]] = True
    np.testing.assert_array_equal(work[~changed], case["work"][~changed])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_combine_sources_sampling_the_fill_itself(seed):
    """Sources sampled from ``work`` as it is written (the pipeline's way) equal sources sampled from a copy.

    The two agree wherever a pixel is known; the pixels written are unfilled hole pixels, never known.
    """
    case = fill_cases.combine_case(seed)
    known = case["known"].astype(bool)
    h = case["holes"]
    unfilled = np.zeros(known.shape, bool)
    unfilled[h.ts, h.ys, h.xs] = case["filled"] == 0
    known &= ~unfilled
    case["known"] = known.astype(np.uint8)
    case["work"][known] = case["images"][known]
    copy = fill_cases.run_combine(case, "cpu")
    itself = fill_cases.run_combine(case, "cpu", sample_work=True)
    assert copy[2].any()
    np.testing.assert_array_equal(itself[0], copy[0])
    for a, b in zip(itself[1], copy[1]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(itself[2], copy[2])


@pytest.mark.parametrize("seed, c", [(0, 3), (1, 4), (2, 3)])
def test_seam_mismatch_matches_reference(seed, c):
    case = fill_cases.seam_case(seed, c=c)
    for k in range(case["hole"].shape[0]):
        total, count, work = fill_cases.run_seam(case, k, "cpu")
        args = [case[n] for n in ("hole", "source_frame", "source_xy", "images", "known", "gain", "n_gain", "work")]
        exp_total, exp_count = ref.seam_mismatch(k, *args, case["seam_max"])
        np.testing.assert_array_equal(count, exp_count)
        np.testing.assert_allclose(total, exp_total, atol=1e-5)
        assert count.any()
        # The correction lands on the borrowed fill of frame k only, clipped to [0, 1].
        borrowed = (case["hole"][k] > 0) & (case["source_frame"][k] != k)
        corr = fill_cases.seam_correction(case, k)
        exp = case["work"].copy()
        exp[k][borrowed] = np.clip(exp[k][borrowed] + corr[borrowed], 0, 1)
        np.testing.assert_array_equal(work, exp)
        assert not np.array_equal(work, case["work"])
        # Over a box of the frame (the hole's, grown by one): the box of the same sums, the same fill.
        box_total, box_count, box_work = fill_cases.run_seam(case, k, "cpu", box=(0, case["hole"].shape[1], 1, 6))
        np.testing.assert_array_equal(box_count, count[:, 1:6])
        np.testing.assert_array_equal(box_total, total[:, 1:6])
        np.testing.assert_array_equal(box_work, work)


@pytest.mark.parametrize("with_nnf", [False, True])
def test_key_frame_into(with_nnf):
    case = fill_cases.combine_case(7)
    rng = np.random.default_rng(1)
    t, h, w, c = case["work"].shape
    k = 1
    left = (rng.random((h, w)) < 0.5) & (case["holes"].index[k] >= 0)  # what is left of its hole
    guess = rng.random((h, w, c)).astype(np.float32)
    nnf = rng.integers(0, 5, (h, w, 3)).astype(np.int32) if with_nnf else None
    got = fill_cases.run_key_frame(case, k, left, guess, nnf, 2, "cpu")
    # The numpy original (pipeline._Fill.key_frame before the fill stayed on the device).
    exp = {n: case[n].copy() for n in ("work", "images", "known", "guessed")}
    exp["method"], exp["source_frame"], exp["source_xy"], exp["confidence"] = (a.copy() for a in case["prov"])
    exp["work"][k][left] = guess[left]
    exp["images"][k] = exp["work"][k]
    exp["known"][k] = 1
    exp["guessed"][k][left] = exp["method"][k][left] = 2
    exp["source_frame"][k][left] = k
    exp["confidence"][k][left] = 0.3
    ys, xs = np.nonzero(left)
    exp["source_xy"][k][left] = nnf[left][:, [2, 1]] if with_nnf else np.stack([xs, ys], -1)
    for name, want in exp.items():
        np.testing.assert_array_equal(got[name], want, err_msg=name)
    assert left.any() and not np.array_equal(got["work"], case["work"])


def test_key_frame_into_refuses_pixels_off_the_hole():
    case = fill_cases.combine_case(7)
    t, h, w, c = case["work"].shape
    left = case["holes"].index[1] < 0
    with pytest.raises(ValueError, match="left must lie inside frame 1's hole"):
        fill_cases.run_key_frame(case, 1, left, np.zeros((h, w, c), np.float32), None, 2, "cpu")
