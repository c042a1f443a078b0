import numba
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import reference as ref
import strategies as hst
from hybridinpaint.kernels import warp_backward, warp_backward_frames, warp_forward


def _frozen(*arrays):
    for a in arrays:
        a.setflags(write=False)
    return arrays


@given(hst.images())
def test_identity_flow_is_identity(img):
    flow = np.zeros(img.shape[:2] + (2,), np.float32)
    out, valid = warp_backward(*_frozen(img, flow), backend="cpu")
    np.testing.assert_array_equal(out, img)
    assert valid.all()
    splat, weight = warp_forward(img, flow, backend="cpu")
    np.testing.assert_array_equal(splat, img)
    np.testing.assert_array_equal(weight, np.ones(img.shape[:2], np.float32))


@given(hst.images(), hst.integer_shifts())
@example(np.arange(12, dtype=np.float32).reshape(3, 4, 1), (1, 0))
def test_integer_shift_moves_pixels_exactly(img, shift):
    dx, dy = shift
    h, w = img.shape[:2]
    flow = np.zeros((h, w, 2), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    out, valid = warp_backward(img, flow, backend="cpu")
    yy, xx = np.mgrid[0:h, 0:w]
    inside = (xx + dx >= 0) & (xx + dx < w) & (yy + dy >= 0) & (yy + dy < h)
    np.testing.assert_array_equal(valid, inside)
    np.testing.assert_array_equal(out[inside], img[(yy + dy)[inside], (xx + dx)[inside]])
    # Forward: the pixel at (x, y) lands on (x + dx, y + dy) with weight 1.
    splat, weight = warp_forward(img, flow, backend="cpu")
    landed = (xx - dx >= 0) & (xx - dx < w) & (yy - dy >= 0) & (yy - dy < h)
    np.testing.assert_array_equal(weight, landed.astype(np.float32))
    np.testing.assert_array_equal(splat[landed], img[(yy - dy)[landed], (xx - dx)[landed]])
    assert (splat[~landed] == 0).all()


def test_backward_validity_at_float32_precision():
    # Found by hypothesis: 1 + 1e-12 is 1 in float32, so the last row is still on the frame.
    img = np.array([[[0.0], [0.3]], [[-0.2], [0.1]]], np.float32)
    flow = np.full((2, 2, 2), [0.0, 1e-12], np.float32)
    out, valid = warp_backward(img, flow, backend="cpu")
    exp, exp_valid = ref.warp_backward(img, flow)
    np.testing.assert_array_equal(valid, exp_valid)
    assert valid.all()
    np.testing.assert_allclose(out, exp, atol=1e-6)


@given(st.data())
def test_backward_matches_references(data):
    img = data.draw(hst.images(min_side=2))
    h, w = img.shape[:2]
    flow = data.draw(hst.smooth_flows(h, w))
    out, valid = warp_backward(img, flow, backend="cpu")
    exp, exp_valid = ref.warp_backward(img, flow)
    np.testing.assert_array_equal(valid, exp_valid)
    np.testing.assert_allclose(out, exp, atol=2e-5 * max(1, np.abs(img).max()))
    # cv2.remap rounds sample positions to 1/32 pixel (INTER_TAB_SIZE).
    cv = ref.warp_backward_cv2(img, flow).reshape(out.shape)
    np.testing.assert_allclose(out[valid], cv[valid], atol=np.ptp(img) / 16 + 1e-4)


@given(st.data())
def test_forward_matches_reference_and_keeps_constants(data):
    img = data.draw(hst.images())
    h, w = img.shape[:2]
    flow = data.draw(hst.smooth_flows(h, w))
    splat, weight = warp_forward(img, flow, backend="cpu")
    exp, exp_w = ref.warp_forward(img, flow)
    np.testing.assert_allclose(weight, exp_w, atol=1e-5)
    scale = max(1.0, float(np.abs(img).max()))
    np.testing.assert_allclose(splat[weight > 1e-3], exp[weight > 1e-3], atol=1e-4 * scale)
    const = np.full_like(img, 0.75)
    cs, cw = warp_forward(const, flow, backend="cpu")
    np.testing.assert_allclose(cs[cw > 0], 0.75, rtol=1e-5)
    assert (cs[cw == 0] == 0).all()


def test_forward_is_deterministic_whatever_the_thread_count():
    rng = np.random.default_rng(1)
    img = rng.random((64, 48, 3)).astype(np.float32)
    flow = (rng.random((64, 48, 2)).astype(np.float32) - 0.5) * 6
    first = warp_forward(img, flow, backend="cpu")
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = warp_forward(img, flow, backend="cpu")
    finally:
        numba.set_num_threads(threads)
    again = warp_forward(img, flow, backend="cpu")
    for a, b, c in zip(first, single, again):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_grey_images_keep_their_shape():
    img = np.random.default_rng(0).random((5, 6)).astype(np.float32)
    flow = np.full((5, 6, 2), 0.5, np.float32)
    assert warp_backward(img, flow, backend="cpu")[0].shape == (5, 6)
    assert warp_forward(img, flow, backend="cpu")[0].shape == (5, 6)


def test_far_away_flow_lands_nowhere():
    img = np.ones((4, 4, 1), np.float32)
    flow = np.full((4, 4, 2), 1e12, np.float32)
    splat, weight = warp_forward(img, flow, backend="cpu")
    assert (weight == 0).all() and (splat == 0).all()
    out, valid = warp_backward(img, flow, backend="cpu")
    assert not valid.any()


@pytest.mark.parametrize("fn", [warp_backward, warp_forward])
def test_bad_input(fn):
    img = np.zeros((4, 5, 3), np.float32)
    flow = np.zeros((4, 5, 2), np.float32)
    with pytest.raises(ValueError, match="image"):
        fn(np.zeros((2, 4, 5, 3)), flow, backend="cpu")
    with pytest.raises(ValueError, match="image"):
        fn(img.astype(bool), flow, backend="cpu")
    with pytest.raises(ValueError, match="image"):
        fn(img.astype(complex), flow, backend="cpu")
    with pytest.raises(ValueError, match="flow"):
        fn(img, np.zeros((4, 6, 2), np.float32), backend="cpu")
    with pytest.raises(ValueError, match="flow"):
        fn(img, np.zeros((4, 5, 3), np.float32), backend="cpu")
    nan_flow = flow.copy()
    nan_flow[1, 1, 0] = np.nan
    with pytest.raises(ValueError, match="flow contains NaN"):
        fn(img, nan_flow, backend="cpu")
    nan_img = img.copy()
    nan_img[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="image"):
        fn(nan_img, flow, backend="cpu")
    with pytest.raises(ValueError, match="backend"):
        fn(img, flow, backend="gpu")


@pytest.mark.parametrize("channels", [None, 1, 3])
def test_a_stack_warps_as_its_frames_one_by_one(channels):
    """warp_backward_frames (one transfer per stack on CUDA) is warp_backward frame by frame, to the bit."""
    rng = np.random.default_rng(11)
    shape = (4, 9, 13) if channels is None else (4, 9, 13, channels)
    imgs = rng.random(shape).astype(np.float32)
    flows = ((rng.random((4, 9, 13, 2)) - 0.5) * 6).astype(np.float32)
    out, valid = warp_backward_frames(imgs, flows, backend="cpu")
    assert out.shape == imgs.shape and valid.shape == (4, 9, 13) and valid.dtype == bool
    for k in range(4):
        want, want_valid = warp_backward(imgs[k], flows[k], backend="cpu")
        np.testing.assert_array_equal(out[k], want)
        np.testing.assert_array_equal(valid[k], want_valid)
    assert not valid.all() and valid.any()
    with pytest.raises(ValueError, match=r"flows must have shape \(T, H, W, 2\)"):
        warp_backward_frames(imgs, flows[:3], backend="cpu")
    with pytest.raises(ValueError, match="images must be 3-D or 4-D"):
        warp_backward_frames(imgs[0, 0], flows, backend="cpu")
