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
