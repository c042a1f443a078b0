"""The joint segmentation's bilateral grid and its graph cut, checked against brute force on tiny shots."""

import itertools

import cv2
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hybridinpaint.settings import resolve
from hybridinpaint.tracking import joint

CFG = resolve(None).tracking


def test_lift_joins_pixels_of_one_place_time_and_colour():
    frames = np.zeros((2, 4, 4, 3), np.float32)
    frames[:, :, 2:] = (1.0, 0.0, 0.0)  # a red half: another colour, another vertex
    grid = joint.lift(frames, CFG.model_copy(update={"GRID_XY": 100.0, "GRID_T": 100.0}))
    assert grid.size == 2 and grid.count.sum() == 32
    assert len(np.unique(grid.vertex[:, :, :2])) == 1 and grid.vertex[0, 0, 0] != grid.vertex[0, 0, 3]
    # Red and black are many colour cells apart: no edge joins them.
    assert grid.edges[0].size == 0


def energy(grid, labels, gain, smooth):
    i, j = grid.edges
    cut = labels[i] != labels[j]
    return float(-(gain * labels).sum() + (smooth * cut).sum())


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_the_cut_is_the_least_energy_labelling(seed):
    rng = np.random.default_rng(seed)
    # Grey frames with a few levels: a handful of vertices, so every labelling can be tried.
    frames = (rng.integers(0, 3, (2, 2, 4, 1)) * 0.3).astype(np.float32)
    cfg = CFG.model_copy(update={"GRID_XY": 2.0, "GRID_T": 1.0, "GRID_LUMA": 60.0})
    grid = joint.lift(frames, cfg)
    assume(grid.size <= 12)
    looks = rng.normal(0, 2, frames.shape[:3]).astype(np.float32)
    prior = rng.random(frames.shape[:3]) > 0.5
    seen = rng.random(frames.shape[:3])
    out = joint.segment(grid, {}, looks, prior, seen, cfg)
    # Every pixel of a vertex gets its label.
    labels = np.zeros(grid.size, bool)
    labels[grid.vertex.ravel()] = out.ravel()
    assert (labels[grid.vertex] == out).all()
    trust = np.log(cfg.JOINT_PRIOR_TRUST / (1 - cfg.JOINT_PRIOR_TRUST))
    per_pixel = (
        cfg.JOINT_APPEARANCE * looks + cfg.JOINT_PRIOR * np.where(prior, trust, -trust) - cfg.JOINT_BACKGROUND * seen
    )
    gain = np.bincount(grid.vertex.ravel(), weights=per_pixel.ravel(), minlength=grid.size)
    i, j = grid.edges
    smooth = cfg.JOINT_SMOOTH * np.sqrt(grid.count[i] * grid.count[j])
    best = min(energy(grid, np.array(b, bool), gain, smooth) for b in itertools.product((0, 1), repeat=grid.size))
    # Capacities are rounded to 1/100: the cut is optimal up to that rounding.
    assert energy(grid, labels, gain, smooth) == pytest.approx(best, abs=0.01 * (grid.size + i.size))


def test_drawn_pixels_hold_their_vertices():
    frames = np.zeros((3, 4, 4, 1), np.float32)
    grid = joint.lift(frames, CFG)
    drawn = {0: np.ones((4, 4), bool)}
    looks = np.full((3, 4, 4), -5.0, np.float32)  # everything looks like background...
    out = joint.segment(grid, drawn, looks, np.zeros((3, 4, 4), bool), np.ones((3, 4, 4)), CFG)
    assert out[0].all()  # ...but frame 0 was drawn as the object


def test_background_match_follows_the_camera():
    rng = np.random.default_rng(1)
    scene = rng.random((40, 80, 3)).astype(np.float32)
    work = np.stack([scene[:, k : k + 60] for k in range(4)])  # the camera pans 1 px a frame
    truth = np.zeros((40, 60), bool)
    truth[10:20, 10:20] = True
    drawn = {0: truth}

    def flow(k, prev):  # at frame k, pointing into frame prev: the scene moved left by 1 px a frame
        f = np.zeros((40, 60, 2), np.float32)
        f[..., 0] = k - prev
        return f

    steps = joint.camera_steps(flow, 4, 40, 60)
    np.testing.assert_allclose(steps[2], [[1, 0, 1], [0, 1, 0], [0, 0, 1]], atol=1e-6)
    seen = joint.background_match(work, drawn, steps, 0.1)
    assert (seen[0] == 0).all()  # the drawn frame itself says nothing
    # Frame 3 shows frame 0's background shifted 3 px: matched, except where frame 0 showed the
    # object (and 2 px around it) and beyond frame 0's right edge.
    assert seen[3][25:35, 30:50].min() > 0.99
    assert (seen[3][12:18, 9:15] == 0).all()
    assert (seen[3][:, 58:] == 0).all()
    other = rng.random((40, 60, 3)).astype(np.float32)
    work[3] = other  # a frame the drawing never showed
    assert joint.background_match(work, drawn, steps, 0.1)[3].mean() < 0.1


def _pan(t=4):
    rng = np.random.default_rng(2)
    scene = cv2.GaussianBlur(rng.random((80, 160, 3)).astype(np.float32), (0, 0), 2)
    work = np.stack([scene[:, 2 * k : 2 * k + 120] for k in range(t)])  # the camera pans 2 px a frame

    def flow(k, prev):  # at frame k, pointing into frame prev
        f = np.zeros((80, 120, 2), np.float32)
        f[..., 0] = 2 * (k - prev)
        return f

    return work, joint.camera_steps(flow, t, 80, 120)


def test_background_match_from_a_later_drawing():
    # The drawing is on the last frame: frame 0 is matched through the inverse homographies.
    work, steps = _pan()
    drawn = {3: np.zeros((80, 120), bool)}
    seen = joint.background_match(work, drawn, steps, 0.1)
    assert seen[0][10:70, 10:110].min() > 0.99  # frame 3 shows frame 0's columns 6-119
    assert (seen[0][:, :6] == 0).all()  # frame 3 does not show frame 0's first 6 columns


def test_background_match_at_half_size_follows_the_scaled_camera():
    work, steps = _pan()
    drawn = {0: np.zeros((40, 60), bool)}
    half = np.diag([0.5, 0.5, 1.0])
    scaled = [half @ m @ np.linalg.inv(half) for m in steps]

    def resize(img):
        return cv2.resize(img, (60, 40), interpolation=cv2.INTER_AREA)

    seen = joint.background_match_at(work, drawn, scaled, 0.1, range(4), resize)
    assert seen[3][5:35, 5:50].mean() > 0.95
    unscaled = joint.background_match_at(work, drawn, steps, 0.1, range(4), resize)
    assert unscaled[3][5:35, 5:50].mean() < seen[3][5:35, 5:50].mean() - 0.2


def test_tiny_frames_are_tracked():
    # Fewer than four flow samples for a homography: the camera is taken as still.
    frames = np.random.default_rng(0).integers(0, 255, (4, 12, 24, 3), np.uint8)
    first = np.zeros((12, 24), bool)
    first[3:8, 3:9] = True
    from hybridinpaint import track_mask

    out = track_mask(frames, first)
    assert out.shape == (4, 12, 24)
    np.testing.assert_array_equal(out[0], first)


def test_slice_frame_reads_each_full_size_pixel_from_its_own_cell():
    # A grid made at half size; the full-size frame's pixels find the vertex of their place,
    # time and colour, and a colour the grid never saw there is not found.
    rng = np.random.default_rng(3)
    full = np.zeros((1, 16, 32, 3), np.float32)
    full[:, :, 16:] = (0.9, 0.1, 0.1)
    half = np.stack([cv2.resize(f, (16, 8), interpolation=cv2.INTER_AREA) for f in full])
    grid = joint.lift(half, CFG)
    labels = rng.random(grid.size) > 0.5
    frame = full[0].copy()
    frame[0, 0] = (0.1, 0.9, 0.1)  # green: in no cell
    got, found = joint.slice_frame(grid, labels, frame, 0, 0.5, CFG)
    expect = labels[grid.vertex[0]]
    np.testing.assert_array_equal(found[1:, :], True)
    assert not found[0, 0] and not got[0, 0]
    # Each full-size pixel (y, x) lies in the cell of the half-size pixel (y // 2, x // 2).
    np.testing.assert_array_equal(got[1:, :], expect[np.arange(1, 16)[:, None] // 2, np.arange(32)[None, :] // 2])
