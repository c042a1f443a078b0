"""The joint segmentation's bilateral grid and its graph cut, checked against brute force on tiny shots."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
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
    if grid.size > 12:
        return
    looks = rng.normal(0, 2, frames.shape[:3]).astype(np.float32)
    prior = rng.random(frames.shape[:3]) > 0.5
    out = joint.segment(grid, {}, looks, prior, cfg)
    # Every pixel of a vertex gets its label.
    labels = np.zeros(grid.size, bool)
    labels[grid.vertex.ravel()] = out.ravel()
    assert (labels[grid.vertex] == out).all()
    trust = np.log(cfg.JOINT_PRIOR_TRUST / (1 - cfg.JOINT_PRIOR_TRUST))
    per_pixel = cfg.JOINT_APPEARANCE * looks + cfg.JOINT_PRIOR * np.where(prior, trust, -trust)
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
    out = joint.segment(grid, drawn, looks, np.zeros((3, 4, 4), bool), CFG)
    assert out[0].all()  # ...but frame 0 was drawn as the object
