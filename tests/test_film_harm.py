"""Do no harm: what moves in the picture, and the picture's own lines, are left alone (issue 26)."""

import numpy as np
from scipy import ndimage

from hybridinpaint.film import motion
from hybridinpaint.film import repair as film


def still_texture(t=9, h=72, w=96, seed=0):
    """A still camera on a smooth random texture, with a little grain (float grey in [0, 1])."""
    rng = np.random.default_rng(seed)
    scene = ndimage.gaussian_filter(rng.random((h, w)), 2.0)
    scene = 0.3 + 0.4 * (scene - scene.min()) / (scene.max() - scene.min())
    return np.stack([scene + rng.normal(0, 0.004, scene.shape) for _ in range(t)]).astype(np.float32)


def disc(h, w, cy, cx, r):
    yy, xx = np.mgrid[0:h, 0:w]
    return np.clip(r + 0.5 - np.hypot(yy - cy, xx - cx), 0, 1)


def with_ball(frames, speed=9.0):
    """A bright ball crossing the frame at ``speed`` px per frame: in every frame, somewhere else."""
    out = frames.copy()
    t, h, w = frames.shape
    for k in range(t):
        a = disc(h, w, h / 2 + 0.5 * k, 12 + speed * k, 3.5)
        out[k] = out[k] * (1 - a) + 0.97 * a
    return out


def test_best_path_finds_a_moving_ball_and_not_a_spot_of_dirt():
    frames = with_ball(still_texture())
    k = 4
    h, w = frames.shape[1:]
    ball = disc(h, w, h / 2 + 0.5 * k, 12 + 9.0 * k, 3.5) > 0.5
    # The motion-compensated neighbours of a still camera: the frames themselves.
    path = motion.best_path(frames, k, ball, frames[k - 1], frames[k + 1])
    assert path is not None and path.ratio < 0.3
    assert 8 <= path.step[1] <= 10 and abs(path.step[0]) <= 1.5  # within the pixel of slack it allows
    assert "found again" in path.describe()
    dirty = still_texture()
    spot = disc(h, w, 30, 50, 3.5) > 0.5
    dirty[k][spot] = 0.97  # dirt: in frame k only
    path = motion.best_path(dirty, k, spot, dirty[k - 1], dirty[k + 1])
    assert path is None or path.ratio > 0.6


def test_a_fast_ball_is_left_alone_and_listed_while_dirt_is_repaired():
    frames = with_ball(still_texture())
    t, h, w = frames.shape
    dirt = np.zeros(frames.shape, bool)
    dirt[5] = disc(h, w, 15, 70, 3.5) > 0.25
    dirty = frames.copy()
    dirty[dirt] = 0.05
    found = film.detect_defects(dirty, kinds=("blotch",), backend="cpu")
    assert found.mask[dirt].mean() > 0.8  # the dirt is found
    ball_found = found.mask & ~ndimage.binary_dilation(dirt, iterations=6)  # the dirt is found a little grown
    assert ball_found.sum() == 0, "the ball was called dirt"
    assert found.spared and found.spared_mask.any()
    assert all(d.why.startswith("left alone: moving object") for d in found.spared if d.kind == "blotch")
    res = film.restore(dirty, defects=found, backend="cpu", regrain=False)
    np.testing.assert_array_equal(res.frames[found.spared_mask], dirty[found.spared_mask])  # untouched
    assert res.spared and all(f.method == "left alone" for f in res.spared)
    assert sum(f.area for f in res.spared) == found.spared_mask.sum()
    forced = film.restore(dirty, defects=found, backend="cpu", regrain=False, spare_moving=False)
    assert forced.mask[found.spared_mask].all() and not forced.spared


def scratch_scene(pan, t=9, h=72, w=96, seed=1):
    """Texture (still, or panning 3 px per frame) with a still opaque pole at x=30 and a scratch at x=60."""
    rng = np.random.default_rng(seed)
    wide = ndimage.gaussian_filter(rng.random((h, w + 3 * t)), 2.0)
    wide = 0.3 + 0.4 * (wide - wide.min()) / (wide.max() - wide.min())
    frames = np.stack([wide[:, 3 * k * pan : 3 * k * pan + w] for k in range(t)]).astype(np.float32)
    frames += rng.normal(0, 0.004, frames.shape).astype(np.float32)
    pole = np.zeros((t, h, w), bool)
    if not pan:
        frames[:, :, 30] = 0.1  # a thin pole: the picture's, the same in every frame
        pole[:, :, 30] = True
    strength = 0.25 * (1 + 0.2 * rng.standard_normal(t))  # a scratch flickers in strength
    frames[:, :, 60] = np.clip(frames[:, :, 60] + strength[:, None], 0, 1)
    return frames, pole


def test_a_still_pole_is_left_alone_and_a_scratch_in_a_pan_is_found():
    frames, pole = scratch_scene(pan=False)
    found = film.detect_defects(frames, kinds=("scratch",), backend="cpu")
    assert not (found.mask & pole).any(), "the pole was called a scratch"
    assert found.spared_mask[pole].mean() > 0.5
    assert any("left alone: still picture line" in d.why for d in found.spared)
    frames, _ = scratch_scene(pan=True)
    found = film.detect_defects(frames, kinds=("scratch",), backend="cpu")
    assert found.mask[1:-1, :, 60].mean() > 0.9
    assert all("reproduce it" in d.why for d in found.records)
