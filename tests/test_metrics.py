"""hybridinpaint.metrics and `hybridinpaint evaluate`: against scikit-image, and on motion with a known answer."""

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from hybridinpaint import metrics

videos = hnp.arrays(np.uint8, st.tuples(st.integers(1, 3), st.integers(8, 12), st.integers(8, 12), st.just(3)))


@settings(max_examples=20, deadline=None)
@given(videos, st.data())
def test_psnr_and_ssim_agree_with_scikit_image(truth, data):
    result = data.draw(hnp.arrays(np.uint8, truth.shape))
    if np.array_equal(result, truth):
        assert metrics.psnr(result, truth) == float("inf")
        return
    assert metrics.psnr(result, truth) == pytest.approx(
        peak_signal_noise_ratio(truth, result, data_range=255), abs=1e-4
    )
    want = np.mean([structural_similarity(r, g, channel_axis=2, data_range=255) for r, g in zip(result, truth)])
    assert metrics.ssim(result, truth) == pytest.approx(want, abs=1e-4)


def test_masked_and_per_frame_psnr_pool_the_masked_pixels():
    rng = np.random.default_rng(0)
    truth = rng.random((2, 10, 12, 3)).astype(np.float32)
    result = truth.copy()
    result[0, :5] += 0.1  # errors only in the top half of frame 0
    result = np.clip(result, 0, 1)
    top = np.zeros((10, 12), bool)
    top[:5] = True
    mse = ((result[0, :5] - truth[0, :5]).astype(np.float64) ** 2).mean()
    assert metrics.psnr(result, truth, mask=top[None].repeat(2, 0)) == pytest.approx(10 * np.log10(1 / (mse / 2)))
    per = metrics.psnr(result, truth, mask=top, per_frame=True)
    assert per[0] == pytest.approx(10 * np.log10(1 / mse)) and per[1] == np.inf
    assert metrics.psnr(result, truth, mask=~top) == float("inf")  # the bottom half is untouched


def _panning(t=4, h=24, w=40, step=2):
    rng = np.random.default_rng(1)
    wide = rng.random((h, w + step * t, 3)).astype(np.float32)
    video = np.stack([wide[:, step * k : step * k + w] for k in range(t)])
    fwd = np.zeros((t - 1, h, w, 2), np.float32)
    fwd[..., 0] = -step  # content moves left by `step` each frame
    return video, (fwd, -fwd)


def test_warp_error_and_consistency_of_a_perfect_pan_and_a_flickering_one():
    video, flow = _panning()
    assert metrics.warp_error(video, flow=flow) == pytest.approx(0.0, abs=1e-12)
    assert metrics.temporal_consistency(video, flow=flow) == pytest.approx(1.0, abs=1e-6)
    flicker = video.copy()
    flicker[2] = np.clip(flicker[2] * 0.8, 0, 1)
    assert metrics.warp_error(flicker, flow=flow) > 1e-3
    assert metrics.temporal_consistency(flicker, flow=flow) < 0.999
    # With the wrong flow (nothing moves) the perfect pan is not steady at all.
    still = tuple(np.zeros_like(f) for f in flow)
    assert metrics.warp_error(video, flow=still) > 10 * metrics.warp_error(video, flow=flow)
    # Estimated on the video itself (OpenCV DIS), the pan is found.
    assert metrics.warp_error(video) < 0.2 * metrics.warp_error(video, flow=still)


def test_bad_input_names_the_argument():
    a = np.zeros((2, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="result and truth"):
        metrics.psnr(a, a[:, :7])
    with pytest.raises(ValueError, match="empty"):
        metrics.psnr(a, a + 1, mask=np.zeros((8, 8), bool))
    with pytest.raises(ValueError, match="flow"):
        metrics.warp_error(a, flow=(np.zeros((1, 8, 8, 2)), np.zeros((2, 8, 8, 2))))
    with pytest.raises(ValueError, match="two frames"):
        metrics.warp_error(a[:1])
    before = a.copy()
    metrics.ssim(a, a)
    np.testing.assert_array_equal(a, before)


def test_evaluate_command_prints_a_table_and_writes_json(tmp_path):
    import cv2

    video, _ = _panning(t=3, h=32, w=48)
    for name, v in (("truth", video), ("result", np.clip(video + 0.05, 0, 1))):
        (tmp_path / name).mkdir()
        for k, f in enumerate(v):
            cv2.imwrite(str(tmp_path / name / f"{k:03d}.png"), (f[..., ::-1] * 255 + 0.5).astype(np.uint8))
    mask = np.zeros((32, 48), np.uint8)
    mask[8:24, 10:30] = 255
    cv2.imwrite(str(tmp_path / "mask.png"), mask)
    cmd = [sys.executable, "-m", "hybridinpaint", "evaluate", str(tmp_path / "result"), str(tmp_path / "truth")]
    out = subprocess.run(
        [*cmd, "--mask", str(tmp_path / "mask.png"), "--json", str(tmp_path / "m.json")], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "PSNR in the mask" in out.stdout and "warp error" in out.stdout
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["frames"] == 3 and 20 < doc["psnr"] < 30 and doc["psnr_mask"] > 20
    (tmp_path / "short").mkdir()
    cv2.imwrite(str(tmp_path / "short" / "000.png"), np.zeros((32, 48, 3), np.uint8))
    bad = subprocess.run([*cmd[:-1], str(tmp_path / "short")], capture_output=True, text=True)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and "differ" in bad.stderr


# One image, as scikit-image reads it: (H, W, C) with C from 1 to 4, or (H, W); never a grey video.


def _image_pair(shape, dtype):
    rng = np.random.default_rng(3)
    truth = rng.random(shape)
    result = np.clip(truth + 0.1 * rng.standard_normal(shape), 0, 1)
    if dtype == np.uint8:
        return (result * 255).round().astype(np.uint8), (truth * 255).round().astype(np.uint8), 255
    return result.astype(dtype), truth.astype(dtype), 1.0


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(240, 432, 3), (30, 40, 4), (30, 40)], ids=["rgb", "rgba", "grey"])
def test_one_image_is_measured_as_one_image_like_scikit_image(shape, dtype):
    result, truth, data_range = _image_pair(shape, dtype)
    channel_axis = -1 if len(shape) == 3 else None
    want_ssim = structural_similarity(result, truth, channel_axis=channel_axis, data_range=data_range)
    want_psnr = peak_signal_noise_ratio(truth, result, data_range=data_range)
    assert metrics.ssim(result, truth) == pytest.approx(want_ssim, abs=1e-4)
    assert metrics.psnr(result, truth) == pytest.approx(want_psnr, abs=1e-4)
    # The same as the image passed as a one-frame video, exactly.
    assert metrics.ssim(result, truth) == metrics.ssim(result[None], truth[None])
    assert metrics.psnr(result, truth) == metrics.psnr(result[None], truth[None])
    for fn in (metrics.psnr, metrics.ssim):
        per = fn(result, truth, per_frame=True)
        assert per.shape == (1,) and per[0] == pytest.approx(fn(result, truth))


def test_one_image_with_a_mask_of_its_shape():
    result, truth, _ = _image_pair((24, 32, 3), np.float32)
    hole = np.zeros((24, 32), bool)
    hole[6:18, 8:24] = True
    mse = ((result[hole].astype(np.float64) - truth[hole]) ** 2).mean()
    assert metrics.psnr(result, truth, mask=hole) == pytest.approx(10 * np.log10(1 / mse))
    assert metrics.psnr(result, truth, mask=hole[:, :, None]) == metrics.psnr(result, truth, mask=hole)
    _, smap = structural_similarity(
        result.astype(np.float32), truth.astype(np.float32), channel_axis=-1, data_range=1.0, full=True
    )
    assert metrics.ssim(result, truth, mask=hole) == pytest.approx(float(smap.mean(axis=-1)[hole].mean()), abs=1e-6)
    assert metrics.ssim(result, truth, mask=hole) == metrics.ssim(result[None], truth[None], mask=hole[None])
    with pytest.raises(ValueError, match="mask"):
        metrics.psnr(result, truth, mask=np.repeat(hole[:, :, None], 3, axis=2))  # a colour mask is refused


def test_a_grey_video_of_narrow_frames_is_passed_with_a_channel_axis():
    rng = np.random.default_rng(4)
    truth = rng.random((9, 10, 3))  # reads as one 9x10 RGB image
    result = np.clip(truth + 0.05, 0, 1)
    per = metrics.psnr(result[..., None], truth[..., None], per_frame=True)  # nine grey frames, 10x3
    assert per.shape == (9,)
    assert metrics.psnr(result, truth, per_frame=True).shape == (1,)


@pytest.mark.parametrize("fn", [metrics.warp_error, metrics.temporal_consistency])
@pytest.mark.parametrize(
    "video",
    [np.zeros((32, 48, 3), np.uint8), np.zeros((32, 48), np.float32), np.zeros((1, 32, 48, 3), np.uint8)],
    ids=["rgb-image", "grey-image", "one-frame"],
)
def test_steadiness_needs_two_frames_and_says_so(fn, video):
    with pytest.raises(ValueError, match=r"needs at least two frames: video must be") as err:
        fn(video)
    assert str(np.shape(video)) in str(err.value)
    flow = np.zeros((0, 32, 48, 2), np.float32)
    with pytest.raises(ValueError, match="two frames"):
        fn(video, flow=(flow, flow))


def test_masks_follow_the_same_rule():
    a = np.zeros((20, 24), bool)
    a[5:15, 6:18] = True
    b = np.roll(a, 3, axis=1)
    for f in (metrics.jaccard, metrics.boundary_f):
        assert float(f(a[:, :, None], b[:, :, None])) == float(f(a, b))  # (H, W, 1) is one mask
        assert np.shape(f(a[None], b[None])) == (1,)
        with pytest.raises(ValueError, match=r"result.*channels"):
            f(np.repeat(a[:, :, None], 3, axis=2), np.repeat(b[:, :, None], 3, axis=2))


def test_evaluate_measures_one_image_as_one_frame():
    from hybridinpaint.runs.evaluate import evaluate

    rng = np.random.default_rng(3)
    truth = (rng.random((24, 40, 3)) * 255).astype(np.uint8)
    result = truth.copy()
    result[5:10, 5:10] = 0
    doc = evaluate(result, truth)
    assert doc["frames"] == 1 and "warp_error" not in doc
    assert doc["psnr"] == metrics.psnr(result[None], truth[None])


def test_boundary_map_is_the_davis_one():
    # DAVIS 2017's evaluation (and BSDS's seg2bmap): a pixel is on the boundary when it differs from
    # its right, lower or lower-right neighbour; the image's own edges are no boundary.
    from hybridinpaint.metrics import _boundary

    m = np.zeros((6, 6), bool)
    m[2:4, 2:4] = True
    expected = np.zeros((6, 6), bool)
    for y, x in ((1, 1), (1, 2), (1, 3), (2, 1), (3, 1), (2, 3), (3, 2), (3, 3)):
        expected[y, x] = True
    np.testing.assert_array_equal(_boundary(m), expected)
    left = np.zeros((6, 6), bool)
    left[:, :3] = True
    expected = np.zeros((6, 6), bool)
    expected[:, 2] = True
    np.testing.assert_array_equal(_boundary(left), expected)
