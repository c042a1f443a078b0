"""Mask tracking from one drawn mask, the segmentation metrics, and `hybridinpaint remove`."""

import json

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from hybridinpaint import metrics, track_mask
from hybridinpaint.interfaces import cli
from hybridinpaint.runs import io
from hybridinpaint.tracking import tracker as tracking


def scene(t=8, h=64, w=96, speed=3, seed=0):
    """A textured grey background and a textured red disc moving right by ``speed`` px per frame."""
    rng = np.random.default_rng(seed)
    bg = ndimage.gaussian_filter(rng.random((h, w)), 2)
    bg = (60 + 120 * (bg - bg.min()) / (bg.max() - bg.min())).astype(np.uint8)
    frames = np.repeat(np.repeat(bg[None, ..., None], t, 0), 3, -1).copy()
    yy, xx = np.mgrid[0:h, 0:w]
    truth = np.zeros((t, h, w), bool)
    spots = ndimage.gaussian_filter(rng.random((h, w)), 1) * 60
    for k in range(t):
        disc = np.hypot(yy - 32, xx - 20 - speed * k) <= 11
        truth[k] = disc
        frames[k][disc] = np.stack([200 + spots[disc] / 2, 40 + spots[disc], 40 + spots[disc]], -1).astype(np.uint8)
    return frames, truth


def test_a_moving_object_is_followed():
    frames, truth = scene()
    frames.setflags(write=False)
    first = truth[0].copy()
    out = track_mask(frames, first)
    assert out.dtype == bool and out.shape == truth.shape
    np.testing.assert_array_equal(out[0], first)
    assert metrics.jaccard(out, truth)[1:].min() > 0.8
    np.testing.assert_array_equal(first, truth[0])  # the caller's mask is not modified


def test_backwards_from_a_later_frame_and_the_result_record():
    frames, truth = scene()
    res = track_mask(frames, truth[5], frame=5, return_result=True)
    assert isinstance(res, tracking.Tracking)
    assert metrics.jaccard(res.masks, truth).min() > 0.8
    assert res.annotated == [5] and res.confidence[5] == 1.0
    assert res.confidence.shape == (8,) and ((0 <= res.confidence) & (res.confidence <= 1)).all()
    assert all(0 <= k < 8 for k in res.unsure)


def test_labels_track_objects_apart():
    frames, truth = scene()
    frames[:, 44:60, 70:90] = (40, 60, 200)  # a still blue box, the second object
    labels = truth[0].astype(np.uint8) * 2
    labels[44:60, 70:90] = 5
    out = track_mask(frames, labels)
    assert out.dtype == np.uint8 and set(np.unique(out)) <= {0, 2, 5}
    assert metrics.jaccard(out == 2, truth)[1:].min() > 0.8
    assert metrics.jaccard(out[-1] == 5, labels == 5) > 0.9


CHAIN = {"tracking": {"JOINT": False}}  # frame to frame only, without the joint cut


def test_a_correction_on_a_later_frame_is_kept_and_used():
    frames, truth = scene()
    wrong_first = np.roll(truth[0], 6, axis=1)  # a careless first drawing
    alone = track_mask(frames, wrong_first, settings=CHAIN)
    both = track_mask(frames, {0: wrong_first, 7: truth[7]}, settings=CHAIN)
    np.testing.assert_array_equal(both[0], wrong_first)
    np.testing.assert_array_equal(both[7], truth[7])
    assert metrics.jaccard(both[4:], truth[4:]).mean() > metrics.jaccard(alone[4:], truth[4:]).mean()


def test_the_joint_cut_does_not_pass_an_early_error_on():
    # Frame to frame, a sliver of the careless first drawing's background is carried into every
    # later frame; the cut over the whole shot gives it to the background, whose colour it has.
    frames, truth = scene()
    wrong_first = np.roll(truth[0], 6, axis=1)
    chain = track_mask(frames, wrong_first, settings=CHAIN)
    joint = track_mask(frames, wrong_first)
    np.testing.assert_array_equal(joint[0], wrong_first)
    assert metrics.jaccard(chain[3:], truth[3:]).max() < 0.99
    assert metrics.jaccard(joint[2:], truth[2:]).min() > 0.995


def test_a_later_drawing_keeps_an_object_that_changed_colour():
    # The disc turns from red to blue beside a blue post, which the first drawing calls background:
    # from that drawing alone the blue disc looks like its surroundings and is dropped; drawn again
    # on the last frame, it is kept throughout. (The track back from the second drawing carries
    # this case by itself; the pooling of every drawing's colours is measured in RESULTS.md.)
    frames, truth = scene(t=10)
    frames[:, 20:44, 0:8] = (50, 60, 210)
    for k in range(10):
        a = min(1.0, k / 5)
        frames[k][truth[k]] = (np.array([210, 50, 50]) * (1 - a) + np.array([50, 60, 210]) * a).astype(np.uint8)
    alone = track_mask(frames, truth[0])
    both = track_mask(frames, {0: truth[0], 9: truth[9]})
    assert metrics.jaccard(alone[6:], truth[6:]).max() < 0.5
    assert metrics.jaccard(both, truth).min() > 0.9


def test_losing_the_object_is_not_sure():
    frames, truth = scene()
    frames = frames.copy()
    frames[4:] = frames[4:, :, ::-1]  # a cut: the object is somewhere else, the background too
    res = track_mask(frames, truth[0], return_result=True)
    assert res.confidence[4:].min() < res.confidence[1:4].min()


@pytest.mark.parametrize(
    "masks, kwargs, match",
    [
        (np.zeros((10, 10), bool), {}, "shape"),
        (np.zeros((64, 96), np.float32), {}, "dtype"),
        (np.zeros((64, 96), bool), {"frame": 8}, "frame"),
        ({}, {}, "empty"),
        ({9: np.zeros((64, 96), bool)}, {}, "annotated frame"),
        (np.zeros((64, 96), bool), {"backend": "gpu"}, "backend"),
    ],
)
def test_bad_input_names_the_argument(masks, kwargs, match):
    frames, _ = scene()
    with pytest.raises(ValueError, match=match):
        track_mask(frames, masks, **kwargs)


def test_jaccard_and_boundary_f():
    a = np.zeros((50, 50), bool)
    a[10:30, 10:30] = True
    assert metrics.jaccard(a, a) == 1.0 and metrics.boundary_f(a, a) == 1.0
    near = np.roll(a, 2, axis=1)  # the DAVIS tolerance here is ceil(0.008 x 70.7 px) = 1 px
    far = np.roll(a, 10, axis=1)
    assert metrics.boundary_f(a, far) < metrics.boundary_f(a, near) < 1.0
    assert metrics.jaccard(a, far) == pytest.approx((20 * 10) / (20 * 30))
    assert metrics.boundary_f(a, np.roll(a, 1, axis=1)) == 1.0  # one pixel is within the tolerance
    stack = np.stack([a, far])
    np.testing.assert_allclose(metrics.jaccard(stack, np.stack([a, a])), [1.0, 1 / 3])
    assert metrics.boundary_f(np.zeros_like(a), np.zeros_like(a)) == 1.0
    with pytest.raises(ValueError, match="truth"):
        metrics.jaccard(a, a[:10])


def test_remove_tracks_saves_masks_and_reuses_them(tmp_path):
    frames, truth = scene(t=6)
    for k, f in enumerate(frames):
        io.write_frame(tmp_path / "in" / f"{k:03d}.png", f)
    io.write_frame(tmp_path / "first.png", np.where(truth[0], 255, 0).astype(np.uint8))
    args = ["remove", str(tmp_path / "in"), "--first-mask", str(tmp_path / "first.png")]
    out = ["-o", str(tmp_path / "out"), "--backend", "cpu", "--quiet"]
    assert cli.main([*args, *out]) == 0
    masks = sorted((tmp_path / "out.masks").glob("*.png"))
    assert len(masks) == 6
    doc = json.loads((tmp_path / "out.masks" / "tracking.json").read_text())
    assert doc["frame"] == 0 and len(doc["confidence"]) == 6
    tracked = np.stack([io.read_frame(m) > 127 for m in masks])
    assert metrics.jaccard(tracked, truth).min() > 0.8
    result = np.stack([io.read_frame(p) for p in sorted((tmp_path / "out").glob("*.png"))])
    grown = ndimage.binary_dilation(tracked, structure=np.ones((1, 3, 3)), iterations=5)
    np.testing.assert_array_equal(result[~grown], frames[~grown])  # untouched outside the grown masks
    assert np.abs(result[truth].astype(int) - frames[truth]).mean() > 20  # the red disc is gone
    before = (tmp_path / "out.masks" / "tracking.json").stat().st_mtime_ns
    assert cli.main([*args, *out, "--overwrite"]) == 0
    assert (tmp_path / "out.masks" / "tracking.json").stat().st_mtime_ns == before  # reused, not re-tracked


def test_remove_refuses_bad_requests(tmp_path, capsys):
    frames, truth = scene(t=4)
    for k, f in enumerate(frames):
        io.write_frame(tmp_path / "in" / f"{k:03d}.png", f)
    io.write_frame(tmp_path / "first.png", np.where(truth[0], 255, 0).astype(np.uint8))
    io.write_frame(tmp_path / "empty.png", np.zeros(truth[0].shape, np.uint8))
    base = ["remove", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--backend", "cpu", "--quiet"]
    assert cli.main([*base, "--first-mask", str(tmp_path / "empty.png")]) == 1
    assert "empty" in capsys.readouterr().err
    assert cli.main([*base, "--first-mask", str(tmp_path / "first.png"), "--frame", "9"]) == 1
    assert "frame" in capsys.readouterr().err
    inside = tmp_path / "in" / "masks"
    assert cli.main([*base, "--first-mask", str(tmp_path / "first.png"), "--save-masks", str(inside)]) == 1
    assert "inputs are never overwritten" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@settings(max_examples=60, deadline=None)
@given(
    a=arrays(bool, (12, 16), elements=st.booleans()),
    b=arrays(bool, (12, 16), elements=st.booleans()),
)
@example(a=np.zeros((12, 16), bool), b=np.zeros((12, 16), bool))
def test_metrics_are_symmetric_bounded_and_one_on_equal_masks(a, b):
    for f in (metrics.jaccard, metrics.boundary_f):
        ab, ba = float(f(a, b)), float(f(b, a))
        assert ab == pytest.approx(ba) and 0.0 <= ab <= 1.0
        assert float(f(a, a)) == 1.0
    if a.any() != b.any():
        assert float(metrics.jaccard(a, b)) == 0.0


def test_the_joint_cut_at_a_working_size_and_in_windows():
    # A clip wider than the working size, longer than a window: scaled down, cut in windows (one
    # with no drawing in it), scaled back up; the object is still followed and the drawing kept.
    frames, truth = scene(t=10)
    small = {"tracking": {"JOINT_WIDTH": 48, "JOINT_WINDOW": 4}}
    out = track_mask(frames, truth[0], settings=small)
    np.testing.assert_array_equal(out[0], truth[0])
    assert metrics.jaccard(out, truth)[1:].min() > 0.8
