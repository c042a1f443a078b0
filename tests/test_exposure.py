"""Colours copied between frames follow each frame's exposure (flicker, automatic exposure)."""

import numpy as np
import pytest

import hybridinpaint

OFF = {"pipeline": {"EXPOSURE": False}}


def _pan(gains, seed=0):
    """A camera panning over a smooth texture, each frame scaled by its own gain; a hole crossing it."""
    rng = np.random.default_rng(seed)
    import cv2

    scene = cv2.GaussianBlur(rng.random((64, 160, 3)).astype(np.float32), (0, 0), 2.0) * 0.5 + 0.25
    t = len(gains)
    video = np.stack([scene[:, 2 * k : 2 * k + 96] * g for k, g in enumerate(gains)]).astype(np.float32)
    hole = np.zeros((t, 64, 96), bool)
    for k in range(t):
        hole[k, 20:44, 30 + k : 50 + k] = True
    return np.clip(video, 0, 1), hole


def _hole_error(out, truth, hole):
    return float(np.abs(out - truth)[hole].mean())


def test_flicker_is_not_carried_into_other_frames():
    gains = [1.0, 1.25, 0.8, 1.2, 0.85, 1.15, 0.9, 1.1]
    truth, hole = _pan(gains)
    video = truth.copy()
    video[hole] = 0.0
    on = hybridinpaint.inpaint(video, hole, backend="cpu")
    off = hybridinpaint.inpaint(video, hole, backend="cpu", settings=OFF)
    assert _hole_error(on, truth, hole) < 0.5 * _hole_error(off, truth, hole)
    np.testing.assert_array_equal(on[~hole], video[~hole])


def test_steady_exposure_changes_almost_nothing():
    truth, hole = _pan([1.0] * 8, seed=1)
    video = truth.copy()
    video[hole] = 0.0
    on = hybridinpaint.inpaint(video, hole, backend="cpu")
    off = hybridinpaint.inpaint(video, hole, backend="cpu", settings=OFF)
    assert np.abs(on - off).max() < 0.01


@pytest.mark.parametrize("gain", [0.0, 1e-4, 0.02])
def test_a_black_frame_does_not_shift_the_exposure_of_the_others(gain):
    # A frame too dark to measure breaks the chain of ratios for one link, not for every later frame.
    truth, hole = _pan([1.0, 1.0, gain, 1.0, 1.0])
    video = truth.copy()
    video[hole] = 0.0
    on = hybridinpaint.inpaint(video, hole, backend="cpu")
    off = hybridinpaint.inpaint(video, hole, backend="cpu", settings=OFF)
    assert np.isfinite(on).all() and (on >= 0).all() and (on <= 1).all()
    lit = [0, 1, 3, 4]
    assert _hole_error(on[lit], truth[lit], hole[lit]) < 1.5 * _hole_error(off[lit], truth[lit], hole[lit]) + 1e-3


def test_an_alpha_channel_is_left_alone():
    gains = [1.0, 1.25, 0.8, 1.2, 0.85, 1.15, 0.9, 1.1]
    truth, hole = _pan(gains)
    rgba = np.concatenate([truth, np.ones(truth.shape[:3] + (1,), np.float32)], axis=-1)
    video = rgba.copy()
    video[hole] = 0.0
    video[..., 3] = 1.0  # an opaque alpha, known everywhere, even under the hole
    out = hybridinpaint.inpaint(video, hole, backend="cpu")
    np.testing.assert_allclose(out[..., 3][hole], 1.0, atol=1e-6)
    assert _hole_error(out[..., :3], truth, hole) < 0.02
