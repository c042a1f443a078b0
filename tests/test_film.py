"""Film defects: detection on synthetic damage with known truth, repair, and revert."""

import numpy as np
import pytest
from scipy import ndimage

from hybridinpaint.film import repair as film


def textured_pan(t=6, h=64, w=80, speed=2, seed=0):
    """A smooth random texture panning right by ``speed`` px per frame (uint8 grey)."""
    rng = np.random.default_rng(seed)
    scene = ndimage.gaussian_filter(rng.random((h, w + speed * t)), 1.5)
    scene = (scene - scene.min()) / (scene.max() - scene.min())
    frames = np.stack([scene[:, speed * (t - k) : speed * (t - k) + w] for k in range(t)])
    return (40 + 160 * frames).astype(np.uint8)


def add_blotches(frames, seed=1, per_frame=2):
    rng = np.random.default_rng(seed)
    out = frames.copy()
    truth = np.zeros(frames.shape, bool)
    t, h, w = frames.shape
    for k in range(1, t - 1):
        for _ in range(per_frame):
            r = rng.integers(2, 5)
            y, x = rng.integers(8, h - 8), rng.integers(8, w - 8)
            yy, xx = np.mgrid[0:h, 0:w]
            disc = np.hypot(yy - y, xx - x) <= r
            out[k][disc] = 250 if rng.random() < 0.5 else 5
            truth[k] |= disc
    return out, truth


def test_blotches_found_in_a_panning_shot_and_motion_not_flagged():
    clean = textured_pan()
    dirty, truth = add_blotches(clean)
    found = film.detect_defects(dirty, kinds=("blotch",), backend="cpu")
    lab, n = ndimage.label(truth)
    hit = sum(found.mask[lab == i].mean() >= 0.5 for i in range(1, n + 1))
    assert hit / n >= 0.9
    # Clean panning frames: nothing flagged.
    assert film.detect_defects(clean, kinds=("blotch",), backend="cpu").mask.sum() < 0.001 * clean.size
    for rec in found.records:
        assert rec.kind == "blotch" and rec.area >= 1 and 1 <= rec.frame <= 4


def test_restore_fills_one_frame_blotches_from_neighbours_and_revert_is_exact():
    clean = textured_pan()
    dirty, truth = add_blotches(clean)
    dirty.setflags(write=False)
    res = film.restore(dirty, defects=truth, backend="cpu")
    assert res.frames.dtype == dirty.dtype and res.frames.shape == dirty.shape
    np.testing.assert_array_equal(res.frames[~truth], dirty[~truth])
    err = np.abs(res.frames.astype(int) - clean)[truth].mean()
    assert err < 8  # grey levels; the damage itself is ~100
    methods = {"propagated along flow", "mean of both neighbours along flow"}
    assert all(f.method in methods and f.sources for f in res.fixes)
    assert all(f.sources == [f.frame - 1, f.frame + 1] for f in res.fixes if f.method.startswith("mean"))
    assert all(abs(s - f.frame) <= 2 for f in res.fixes for s in f.sources)
    one = film.revert(res.frames, dirty, res.fixes, [res.fixes[0].id])
    f0 = res.fixes[0]
    np.testing.assert_array_equal(one[f0.frame, f0.ys, f0.xs], dirty[f0.frame, f0.ys, f0.xs])
    others = np.ones(truth.shape, bool)
    others[f0.frame, f0.ys, f0.xs] = False
    np.testing.assert_array_equal(one[others], res.frames[others])
    np.testing.assert_array_equal(film.revert(res.frames, dirty, res.fixes, [f.id for f in res.fixes]), dirty)


def test_persistent_scratch_found():
    clean = textured_pan(t=6)
    dirty = clean.copy()
    truth = np.zeros(clean.shape, bool)
    for k in range(6):
        x = 30 + k // 3  # drifts slowly
        dirty[k, :, x] = np.clip(dirty[k, :, x].astype(int) + 70, 0, 255)
        truth[k, :, x] = True
    found = film.detect_defects(dirty, kinds=("scratch",), backend="cpu")
    assert found.mask[truth].mean() >= 0.8
    assert (found.mask & ~truth).sum() < 0.01 * truth.size
    assert {r.kind for r in found.records} == {"scratch"}


def test_colour_and_16_bit_scans():
    clean = textured_pan()
    dirty, truth = add_blotches(clean)
    rgb16 = np.repeat(dirty[..., None], 3, -1).astype(np.uint16) * 257
    found = film.detect_defects(rgb16, kinds=("blotch",), backend="cpu")
    lab, n = ndimage.label(truth)
    assert sum(found.mask[lab == i].mean() >= 0.5 for i in range(1, n + 1)) / n >= 0.9
    res = film.restore(rgb16, defects=found, backend="cpu")
    assert res.frames.dtype == np.uint16
    np.testing.assert_array_equal(res.frames[~found.mask], rgb16[~found.mask])


def test_faster_pan_and_faint_blotches():
    # 6 px per frame: the t-1 <-> t+1 flows span 12 px of an 80 px frame.
    clean = textured_pan(t=7, speed=6, seed=3)
    dirty, truth = add_blotches(clean, seed=4)
    faint = clean.copy()
    faint[truth] = np.clip(clean[truth].astype(int) + 30, 0, 255)  # 12% of full scale
    lab, n = ndimage.label(truth)
    for frames, share in ((dirty, 0.85), (faint, 0.6)):
        found = film.detect_defects(frames, kinds=("blotch",), backend="cpu")
        hit = sum(found.mask[lab == i].mean() >= 0.5 for i in range(1, n + 1))
        assert hit / n >= share
        # Motion is not flagged on its own: every detected region touches a blotch. A strong spot's region
        # reaches past it (the spike is smoothed, and compensation errors next to it join it), but not far.
        near = ndimage.binary_dilation(truth, iterations=3)
        regions, count = ndimage.label(found.mask, structure=np.ones((3, 3, 3)) * np.array([0, 1, 0])[:, None, None])
        assert all(near[regions == i].any() for i in range(1, count + 1))
        assert (found.mask & ~near).sum() < 0.005 * truth.size


def _blotch_boxes(truth):
    """``(frame, (y0, x0, y1, x1), area)`` of each synthetic blotch (one per connected region of a frame)."""
    out = []
    for k in range(truth.shape[0]):
        lab, _ = ndimage.label(truth[k])
        for i, sl in enumerate(ndimage.find_objects(lab), start=1):
            out.append((k, (sl[0].start, sl[1].start, sl[0].stop, sl[1].stop), int((lab[sl] == i).sum())))
    return out


def _found_at(records, frame, box):
    """Whether a record of ``frame`` has a box overlapping ``box`` (both (y0, x0, y1, x1), ends excluded)."""
    return any(
        r.frame == frame and r.bbox[0] < box[2] and box[0] < r.bbox[2] and r.bbox[1] < box[3] and box[1] < r.bbox[3]
        for r in records
    )


def test_min_area_drops_smaller_regions():
    dirty, truth = add_blotches(textured_pan())
    blots = _blotch_boxes(truth)
    # 8 discs in frames 1-4: two of 13 px (radius 2), the rest 29 or 49 px.
    assert len(blots) == 8 and sorted({a for _, _, a in blots}) == [13, 29, 49]
    everything = film.detect_defects(dirty, kinds=("blotch",), backend="cpu")
    # First: with the default min_area every blotch IS found, by a record whose box overlaps it.
    assert all(_found_at(everything.records, k, box) for k, box, _ in blots)
    # The detector's region reaches past a strong spot: measured, the 13 px discs come out as regions of
    # 45 px and the larger ones as 84-246 px. A bar of 64 sits between the two with ~20 px either side.
    bar = 64
    few = film.detect_defects(dirty, kinds=("blotch",), min_area=bar, backend="cpu")
    assert few.records and min(r.area for r in few.records) >= bar
    for k, box, area in blots:
        assert _found_at(few.records, k, box) == (area > 13), (k, box, area)
    # Exactly the regions of at least `bar` pixels survive, unchanged: min_area filters, it does not re-detect.
    kept = [(r.frame, r.bbox, r.area) for r in everything.records if r.area >= bar]
    assert [(r.frame, r.bbox, r.area) for r in few.records] == kept
    big = np.zeros_like(everything.mask)
    for k, frame in enumerate(everything.mask):
        lab, _ = ndimage.label(frame, structure=np.ones((3, 3)))
        big[k] = (np.bincount(lab.ravel()) >= bar)[lab] & frame
    np.testing.assert_array_equal(few.mask, big)


def test_bad_input():
    with pytest.raises(ValueError, match="min_area"):
        film.detect_defects(np.zeros((3, 16, 16), np.uint8), min_area=0, backend="cpu")
    with pytest.raises(ValueError, match="at least 3"):
        film.detect_defects(np.zeros((1, 16, 16), np.uint8), backend="cpu")
    with pytest.raises(ValueError, match="sensitivity"):
        film.detect_defects(np.zeros((3, 16, 16), np.uint8), sensitivity=0, backend="cpu")
    with pytest.raises(ValueError, match="kinds"):
        film.detect_defects(np.zeros((3, 16, 16), np.uint8), kinds=("dust",), backend="cpu")
    frames = np.zeros((3, 16, 16), np.uint8)
    with pytest.raises(ValueError, match="ids"):
        film.revert(frames, frames, [], [3])


@pytest.mark.parametrize("x", [11, 37, 68])
@pytest.mark.parametrize("contrast", [40, -40])
def test_scratch_on_a_single_still_is_found_at_its_column(x, contrast):
    # A single still is accepted for scratches (blotches need neighbours): a full-height line 40 grey
    # levels brighter or darker than the picture (16% of full scale) at a known column.
    still = textured_pan(t=1)
    dirty = still.copy()
    dirty[0, :, x] = np.clip(dirty[0, :, x].astype(int) + contrast, 0, 255)
    found = film.detect_defects(dirty, kinds=("scratch",), backend="cpu")
    assert found.mask.shape == (1, 64, 80)
    # Measured on this still (6 cases): the line's column is flagged over 97-100% of its height, by one
    # record exactly one column wide, score (its contrast) 0.112-0.184 against the 0.157 put in; nothing
    # else is flagged on it (see the xfail below for other stills). Over 12 textures the coverage is >= 91%.
    assert found.mask[0, :, x].mean() >= 0.8
    assert len(found.records) == 1
    (rec,) = found.records
    assert rec.kind == "scratch" and rec.frame == 0
    assert (rec.bbox[1], rec.bbox[3]) == (x, x + 1) and rec.bbox[2] - rec.bbox[0] >= 0.8 * still.shape[1]
    assert abs(rec.score - abs(contrast) / 255) < 0.07, rec.score
    assert not found.mask[0][:, np.arange(80) != x].any()


@pytest.mark.xfail(
    strict=True,
    reason="on a clean still, scratch detection flags texture columns: measured over textured_pan(t=1, "
    "seed=0..5), 0/188/112/58/168/0 px (1-3 full-height columns) in seeds 1-4. With one frame there is "
    "no persistence test, and the threshold falls to its 0.02 floor because the column-median profile's "
    "MAD is ~0 (sigma 1e-4-0.003) while the texture's columns reach |profile| 0.024-0.057",
)
def test_clean_still_has_no_scratch():
    flagged = {
        seed: int(film.detect_defects(textured_pan(t=1, seed=seed), kinds=("scratch",), backend="cpu").mask.sum())
        for seed in range(6)
    }
    assert not any(flagged.values()), flagged
