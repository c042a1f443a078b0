"""End-to-end tests of hybridinpaint.inpaint on procedural videos with known motion."""

import cv2
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hybridinpaint
from hybridinpaint.completion.pipeline import PATCH, PROPAGATED, SPATIAL

SPEED = 2  # the camera pans this many pixels per frame


def panning_video(t=10, h=48, w=72, seed=0):
    """A textured plane panning right-to-left, and the scene x of each pixel."""
    rng = np.random.default_rng(seed)
    scene = cv2.GaussianBlur(rng.random((h, w + SPEED * t, 3)).astype(np.float32), (0, 0), 1.2)
    scene = (scene - scene.min()) / (scene.max() - scene.min())
    frames = np.stack([scene[:, SPEED * k : SPEED * k + w] for k in range(t)])
    return frames, scene


def moving_hole(t, h, w, size=14):
    """A square drifting left 4 px per frame: 2 px per frame across the scene, so every point shows up."""
    masks = np.zeros((t, h, w), bool)
    for k in range(t):
        y0, x0 = h // 2 - size // 2, max(0, w - size - 4 - 4 * k)
        masks[k, y0 : y0 + size, x0 : x0 + size] = True
    return masks


@pytest.fixture(scope="module")
def panned():
    frames, scene = panning_video()
    masks = moving_hole(*frames.shape[:3])
    res = hybridinpaint.inpaint(frames, masks, backend="cpu", return_result=True)
    return frames, masks, res


def test_fill_matches_the_truth(panned):
    frames, masks, res = panned
    err = np.abs(res.frames - frames)[masks]
    assert err.mean() < 0.02, err.mean()
    assert np.percentile(err, 95) < 0.06


def test_outside_is_bit_identical_and_input_untouched(panned):
    frames, masks, res = panned
    assert res.frames.dtype == frames.dtype and res.frames.shape == frames.shape
    np.testing.assert_array_equal(res.frames[~masks], frames[~masks])


def test_seen_pixels_are_propagated_from_a_frame_that_shows_them(panned):
    frames, masks, res = panned
    t, h, w = masks.shape
    prov = res.provenance
    # Scene column of pixel (t, x) is x + SPEED * t; it is seen in frame s if not masked there.
    seen_somewhere = np.zeros_like(masks)
    for k in range(t):
        for x in range(w):
            col = x + SPEED * k
            for s in range(t):
                xs = col - SPEED * s
                if 0 <= xs < w:
                    seen_somewhere[k, :, x] |= ~masks[s, :, xs]
    target = masks & seen_somewhere
    assert (prov.method[target] == PROPAGATED).all()
    ts, ys, xs = np.nonzero(target)
    sf = prov.source_frame[ts, ys, xs]
    sxy = prov.source_xy[ts, ys, xs]
    assert (sf != ts).all()
    # The source position shows the same scene point...
    np.testing.assert_allclose(sxy[:, 0] + SPEED * sf, xs + SPEED * ts, atol=0.5)
    np.testing.assert_allclose(sxy[:, 1], ys, atol=0.5)
    # ...and is a real (unmasked) pixel of that frame.
    assert not masks[sf, np.rint(sxy[:, 1]).astype(int), np.rint(sxy[:, 0]).astype(int)].any()
    assert (prov.method[~masks] == 0).all()
    assert set(np.unique(prov.method[masks])) <= {PROPAGATED, PATCH}
    assert res.stats["pixels"]["propagated along flow"] == int((prov.method[masks] == PROPAGATED).sum())
    assert res.flows["forward"].shape == (t - 1, h, w, 2)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
@pytest.mark.parametrize("grey", [False, True])
def test_dtypes_and_grey(dtype, grey):
    frames, _ = panning_video(t=4, h=24, w=32)
    if grey:
        frames = frames[..., 1]
    truth = frames  # float32 in [0, 1], before the conversion
    scale = np.iinfo(dtype).max if dtype in (np.uint8, np.uint16) else 1.0
    if dtype in (np.uint8, np.uint16):
        frames = np.round(frames * scale).astype(dtype)
    else:
        frames = frames.astype(dtype)
    masks = moving_hole(4, 24, 32, size=6)
    frames.setflags(write=False)
    masks.setflags(write=False)
    out = hybridinpaint.inpaint(frames, masks, backend="cpu")
    assert out.dtype == frames.dtype and out.shape == frames.shape
    np.testing.assert_array_equal(out[~masks], frames[~masks])
    # The hole drifts across a panning texture, so other frames show what it hides: in every dtype the
    # fill must give back the texture, back in the input's scale. Measured over the 8 cases: mean error
    # 0.0008-0.0015, max 0.019-0.024 (of full scale); filling each frame's hole with the mean colour of
    # the rest of it gives 0.09-0.12, zeros 0.52. The bars leave >6x (mean) and 2.5x (max) margin and
    # still sit far below the flat fill.
    err = np.abs(out.astype(np.float64) / scale - truth)[masks]
    assert err.mean() < 0.01, err.mean()
    assert err.max() < 0.06, err.max()


def test_single_frame_is_a_spatial_fill():
    frames, _ = panning_video(t=1, h=30, w=40)
    masks = np.zeros((1, 30, 40), bool)
    masks[0, 10:16, 12:20] = True
    res = hybridinpaint.inpaint(frames, masks, hallucinate="telea", backend="cpu", return_result=True)
    assert (res.provenance.method[masks] == SPATIAL).all()
    assert np.abs(res.frames - frames)[masks].mean() < 0.15
    np.testing.assert_array_equal(res.frames[~masks], frames[~masks])


def test_empty_mask_returns_a_copy():
    frames, _ = panning_video(t=3, h=16, w=20)
    out = hybridinpaint.inpaint(frames, np.zeros((16, 20), bool), backend="cpu")
    np.testing.assert_array_equal(out, frames)
    assert out is not frames and not np.shares_memory(out, frames)


def test_two_dimensional_mask_and_0_255_masks():
    frames, _ = panning_video(t=4, h=24, w=32)
    m = np.zeros((24, 32), np.uint8)
    m[8:14, 10:18] = 255
    out = hybridinpaint.inpaint(frames, m, backend="cpu")
    np.testing.assert_array_equal(out[:, m == 0], frames[:, m == 0])


def test_mask_dilation_grows_the_hole():
    frames, _ = panning_video(t=4, h=24, w=32)
    m = np.zeros((4, 24, 32), bool)
    m[:, 10:12, 14:16] = True
    res = hybridinpaint.inpaint(frames, m, mask_dilation=2, backend="cpu", return_result=True)
    assert res.masks.sum() > m.sum()
    np.testing.assert_array_equal(res.frames[~res.masks], frames[~res.masks])


@pytest.mark.parametrize(
    "frames, masks, kwargs, match",
    [
        (np.zeros((0, 8, 8, 3)), np.zeros((0, 8, 8), bool), {}, "frames"),
        (np.zeros((2, 8, 8, 3)), np.zeros((2, 8, 9), bool), {}, "masks"),
        (np.zeros((2, 8, 8, 3)), np.zeros((3, 8, 8), bool), {}, "masks"),
        (np.full((2, 8, 8, 3), np.nan), np.zeros((2, 8, 8), bool), {}, "frames"),
        (np.full((2, 8, 8, 3), 2.0), np.zeros((2, 8, 8), bool), {}, "frames"),
        (np.zeros((2, 8, 8, 3), np.int32), np.zeros((2, 8, 8), bool), {}, "frames"),
        (np.zeros((2, 8), np.uint8), np.zeros((2, 8), bool), {}, "frames"),
        (np.zeros((2, 8, 8, 3)), np.ones((2, 8, 8), bool), {}, "masks"),
        (np.zeros((2, 8, 8, 3)), np.full((2, 8, 8), 7), {}, "masks"),
        (np.zeros((2, 8, 8, 3)), np.eye(8, dtype=bool), {"flow": "magic"}, "flow"),
        (np.zeros((2, 8, 8, 3)), np.eye(8, dtype=bool), {"mask_dilation": -1}, "mask_dilation"),
        (np.zeros((2, 8, 8, 3)), np.eye(8, dtype=bool), {"hallucinate": "paint"}, "hallucinate"),
        (np.zeros((2, 8, 8, 3)), np.eye(8, dtype=bool), {"backend": "gpu"}, "backend"),
    ],
)
def test_bad_input(frames, masks, kwargs, match):
    with pytest.raises(ValueError, match=match):
        hybridinpaint.inpaint(frames, masks, **{"backend": "cpu", **kwargs})


@st.composite
def _videos(draw):
    t, h, w = draw(st.integers(1, 4)), draw(st.integers(8, 20)), draw(st.integers(8, 20))
    frames = draw(hnp.arrays(np.uint8, (t, h, w, 3)))
    masks = draw(hnp.arrays(np.bool_, (t, h, w)))
    masks[:, 0, 0] = False  # never a whole frame
    return frames, masks


_TINY_HOLE = np.zeros((2, 8, 8), bool)
_TINY_HOLE[:, 3:5, 3:5] = True


@settings(max_examples=6)
@given(_videos())
@example((np.zeros((2, 8, 8, 3), np.uint8), _TINY_HOLE))  # DIS refused frames under 12 px on both sides
def test_random_videos_keep_known_pixels(video):
    frames, masks = video
    out = hybridinpaint.inpaint(frames, masks, backend="cpu")
    np.testing.assert_array_equal(out[~masks], frames[~masks])


def test_never_seen_pixels_are_filled_once_and_held_still():
    # Static camera, stationary hole: no frame shows the hole; one key frame is
    # filled (by PatchMatch, the default) and that fill is propagated to every other frame.
    frames, _ = panning_video(t=6, h=32, w=40)
    frames = np.repeat(frames[:1], 6, axis=0)
    masks = np.zeros((6, 32, 40), bool)
    masks[:, 12:20, 14:24] = True
    res = hybridinpaint.inpaint(frames, masks, backend="cpu", return_result=True)
    assert len(res.stats["key_frames"]) == 1
    key = res.stats["key_frames"][0]
    assert (res.provenance.method[masks] == PATCH).all()
    assert (res.provenance.source_frame[masks] == key).all()
    fills = res.frames[:, 12:20, 14:24]
    assert np.abs(fills - fills[key]).max() < 0.02  # still in time


def test_prepare_then_complete_is_inpaint():
    """The two halves a chunked run overlaps (runs.stream) give inpaint's result; a prepared call completes once."""
    from hybridinpaint.completion import pipeline

    rng = np.random.default_rng(3)
    scene = rng.random((30, 60, 3)).astype(np.float32)
    video = np.stack([scene[:, 2 * t : 2 * t + 40] for t in range(6)])
    hole = np.zeros((6, 30, 40), bool)
    hole[:, 10:20, 12:24] = True
    whole = hybridinpaint.inpaint(video, hole, backend="cpu", return_result=True)
    prepared = pipeline.prepare(video, hole, backend="cpu")
    halves = pipeline.complete(prepared, return_result=True)
    np.testing.assert_array_equal(halves.frames, whole.frames)
    for name in vars(whole.provenance):
        np.testing.assert_array_equal(getattr(halves.provenance, name), getattr(whole.provenance, name))
    assert set(halves.stats["seconds"]) == set(whole.stats["seconds"])
    # The provenance of the filled pixels only (what a chunked run keeps): the same, made whole.
    frames, masks, filled = pipeline.complete_filled(pipeline.prepare(video, hole, backend="cpu"))
    np.testing.assert_array_equal(frames, whole.frames)
    np.testing.assert_array_equal(masks, whole.masks)
    assert filled.t.size == whole.masks.sum() and set(np.unique(filled.method)) <= {PROPAGATED, PATCH, SPATIAL}
    dense = filled.dense(masks.shape)
    for name in vars(whole.provenance):
        np.testing.assert_array_equal(getattr(dense, name), getattr(whole.provenance, name))
    frames, _, filled = pipeline.complete_filled(pipeline.prepare(video, np.zeros_like(hole), backend="cpu"))
    np.testing.assert_array_equal(frames, video)
    assert filled.t.size == 0 and filled.source_xy.shape == (0, 2)
    with pytest.raises(ValueError, match="completed already"):
        pipeline.complete(prepared)
    with pytest.raises(TypeError, match="prepared must be"):
        pipeline.complete(video)


@pytest.mark.parametrize(
    "t, fill, seams, still",
    [(6, "patch", True, False), (6, "telea", False, True), (1, "patch", True, True), (4, "fsr", True, True)],
)
def test_every_hole_pixel_gets_its_own_provenance(monkeypatch, t, fill, seams, still):
    """The fill keeps provenance rows for the hole only, made empty: each must be written (else garbage shows).

    The rows start as values no fill writes; none may be left in the result.
    """
    from hybridinpaint.completion import pipeline

    def marked(cls, place, n):
        return cls(*(place.put(np.full(s, v, d)) for s, v, d in (
            (n, 99, np.uint8), (n, -7, np.int32), ((n, 2), np.nan, np.float32), (n, np.nan, np.float32))))  # fmt: skip

    monkeypatch.setattr(pipeline._HoleProvenance, "empty", classmethod(marked))
    frames, _ = panning_video(t=t, h=32, w=40)
    if still:
        frames = np.repeat(frames[:1], t, axis=0)  # nothing seen elsewhere: key frames fill it
    masks = np.zeros((t, 32, 40), bool)
    masks[:, 10:20, 12:24] = True
    masks[-1, 2:6, 30:36] = True
    res = hybridinpaint.inpaint(frames, masks, hallucinate=fill, seams=seams, backend="cpu", return_result=True)
    prov = res.provenance
    assert np.isin(prov.method[masks], [PROPAGATED, PATCH, SPATIAL]).all()
    assert ((prov.source_frame[masks] >= 0) & (prov.source_frame[masks] < t)).all()
    assert np.isfinite(prov.source_xy[masks]).all() and np.isfinite(prov.confidence[masks]).all()
    assert res.stats["key_frames"]
