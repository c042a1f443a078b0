"""Provenance names the method that ran, for every fallback: never the one that was only asked for."""

import cv2
import numpy as np
import pytest

import hybridinpaint
from hybridinpaint.completion import hallucinate
from hybridinpaint.completion.pipeline import HALLUCINATED, PATCH, PROPAGATED, SPATIAL
from hybridinpaint.settings import DEFAULT


def still(t=3, h=48, w=56, colour=True, seed=0):
    """A still textured scene with a fixed hole: no frame shows what is under it (a key-frame fill)."""
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur((rng.random((h, w, 3)) * 255).astype(np.uint8), (0, 0), 1.5)
    video = np.stack([img] * t) if colour else np.stack([img[..., 1]] * t)
    hole = np.zeros((h, w), bool)
    hole[16:30, 20:36] = True
    return video, hole


def methods(res, hole):
    return set(np.unique(res.provenance.method[:, hole]).tolist())


def test_net_on_grey_frames_is_recorded_as_patchmatch():
    video, hole = still(colour=False)
    res = hybridinpaint.inpaint(video, hole, hallucinate="net", backend="cpu", return_result=True)
    # The network takes RGB only: PatchMatch ran, and the record says so.
    assert HALLUCINATED not in methods(res, hole)
    assert PATCH in methods(res, hole)
    assert res.stats["pixels"]["hallucinated by the network"] == 0


def test_net_on_rgb_frames_is_recorded_as_the_network():
    pytest.importorskip("torch")
    video, hole = still()
    res = hybridinpaint.inpaint(video, hole, hallucinate="net", backend="cpu", return_result=True)
    assert HALLUCINATED in methods(res, hole)


def test_classical_fills_are_recorded_as_spatial():
    video, hole = still()
    res = hybridinpaint.inpaint(video, hole, hallucinate="fsr", backend="cpu", return_result=True)
    assert methods(res, hole) <= {SPATIAL, PROPAGATED} and SPATIAL in methods(res, hole)


def test_patchmatch_without_room_for_a_patch_is_recorded_as_its_guide():
    # Patches wider than the frame: PatchMatch cannot run, the FSR guide is the fill.
    video, hole = still(t=1, h=14, w=16)
    hole = np.zeros((14, 16), bool)
    hole[5:9, 6:10] = True
    big = DEFAULT.replace(hallucinate={"PATCH": 21})
    out = hallucinate.fill(video[0].astype(np.float32) / 255, hole, "patch", settings=big)
    assert out.method == "fsr" and out.nnf is None
    res = hybridinpaint.inpaint(video, hole, backend="cpu", settings=big, return_result=True)
    assert methods(res, hole) == {SPATIAL}
    video, hole = still(t=1)  # room for 7 px patches around the hole
    res = hybridinpaint.inpaint(video, hole, backend="cpu", return_result=True)
    assert methods(res, hole) == {PATCH}


def test_the_live_stream_records_what_filled_each_pixel():
    rng = np.random.default_rng(1)
    scene = cv2.GaussianBlur((rng.random((40, 120, 3)) * 255).astype(np.uint8), (0, 0), 1.2)
    video = [scene[:, 3 * k : 3 * k + 64] for k in range(8)]  # the camera pans
    hole = np.zeros((40, 64), bool)
    hole[12:26, 24:36] = True
    got = list(hybridinpaint.inpaint_stream(iter(video), hole, lookahead=2, backend="cpu", return_provenance=True))
    assert len(got) == 8
    for _frame, method in got:
        assert method.shape == hole.shape and method.dtype == np.uint8
        assert (method[~hole] == 0).all() and (method[hole] > 0).all()
    # Later frames see what the hole hides in frames ahead: propagated.
    assert (got[3][1][hole] == PROPAGATED).mean() > 0.5
    plain = list(hybridinpaint.inpaint_stream(iter(video), hole, lookahead=2, backend="cpu"))
    for (frame, _), p in zip(got, plain):
        np.testing.assert_array_equal(frame, p)
