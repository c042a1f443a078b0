"""Flicker: estimated against the temporal neighbours, removed, recorded as fixes, revertible."""

import json

import numpy as np
import pytest
from test_film import add_blotches, textured_pan

from hybridinpaint.film import flicker
from hybridinpaint.film import repair as film
from hybridinpaint.interfaces import cli
from hybridinpaint.runs import io


def flickered(clean, seed=0, amount=0.15, tilt=0.05):
    """``clean`` (uint8) times a per-frame gain 1 +- ``amount`` with a left-right tilt."""
    rng = np.random.default_rng(seed)
    t, h, w = clean.shape[:3]
    level = rng.uniform(-amount, amount, t)[:, None, None]
    slope = rng.uniform(-tilt, tilt, t)[:, None, None]
    gain = 1 + level + slope * np.linspace(-1, 1, w)
    if clean.ndim == 4:
        gain = gain[..., None]
    return np.clip(clean * gain, 0, 255).round().astype(np.uint8)


def jitter(frames, clean, grid=4):
    """Frame-to-frame change of each block's brightness relative to the clean clip (RMS)."""
    t, h, w = clean.shape[:3]

    def blocks(a):
        a = a.astype(np.float64)
        a = a.mean(axis=3) if a.ndim == 4 else a
        a = a[:, : h // grid * grid, : w // grid * grid]
        return a.reshape(t, grid, h // grid, grid, w // grid).mean(axis=(2, 4))

    ratio = blocks(frames) / np.maximum(blocks(clean), 1)
    return float(np.sqrt((np.diff(ratio, axis=0) ** 2).mean()))


def test_flicker_is_removed_to_a_fifth():
    clean = textured_pan(t=16, h=64, w=96, speed=1)
    dirty = flickered(clean)
    fixed, fl = flicker.deflicker(dirty)
    assert fixed.dtype == np.uint8 and fixed.shape == dirty.shape
    assert jitter(fixed, clean) <= 0.2 * jitter(dirty, clean)
    assert fl.gain.shape[0] == 16 and fl.strength().max() > 0.03


def test_a_clip_without_flicker_is_left_nearly_alone():
    clean = textured_pan(t=12, h=64, w=96, speed=1)
    fixed, fl = flicker.deflicker(clean)
    assert np.abs(fl.gain - 1).max() < 0.05 and fl.strength().max() < 0.005
    assert np.abs(fixed.astype(int) - clean).max() <= 4


def test_bad_arguments():
    clip = textured_pan(t=4)
    with pytest.raises(ValueError, match="window must be an integer >= 1"):
        flicker.estimate(clip, window=0)
    with pytest.raises(ValueError, match="frames"):
        flicker.estimate(np.zeros((3, 1, 1), np.uint8))
    with pytest.raises(ValueError, match="covers 4 frames"):
        flicker.apply(textured_pan(t=5), flicker.estimate(clip))


def test_restore_records_flicker_fixes_and_reverting_all_gives_the_scan_back():
    clean = textured_pan(t=8, h=64, w=96, speed=1)
    dirty, _ = add_blotches(flickered(clean, seed=3))
    res = film.restore(dirty, deflicker=True, backend="cpu")
    kinds = [f.kind for f in res.fixes]
    assert "flicker" in kinds and "blotch" in kinds
    ids = [f.id for f in res.fixes]
    assert ids == list(range(1, len(ids) + 1))
    np.testing.assert_array_equal(film.revert(res.frames, dirty, res.fixes, ids), dirty)
    # Only the recorded pixels changed.
    recorded = res.mask.copy()
    for f in res.fixes:
        recorded[f.frame, f.ys, f.xs] = True
    np.testing.assert_array_equal(res.frames[~recorded], dirty[~recorded])


def test_restore_deflicker_on_files_and_revert_one_frame(tmp_path):
    clean = textured_pan(t=6, h=48, w=64, speed=1)
    dirty = flickered(clean, seed=5)
    scans = tmp_path / "scans"
    for k, f in enumerate(dirty):
        io.write_frame(scans / f"s{k}.png", f)
    out = tmp_path / "out"
    assert cli.main(["restore", str(scans), "-o", str(out), "--deflicker", "--backend", "cpu"]) == 0
    doc = json.loads((out / "fixes.json").read_text())
    assert doc["settings"]["deflicker"] is True
    fl = [f for f in doc["fixes"] if f["kind"] == "flicker"]
    assert fl and fl[0]["method"].startswith("deflicker: brightness gain")
    assert cli.main(["revert", str(out), "--ids", str(fl[0]["id"])]) == 0
    k = fl[0]["frame"]
    np.testing.assert_array_equal(io.read_frame(out / "frames" / f"s{k}.png"), dirty[k])
