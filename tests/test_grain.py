"""Repairs carry the film's grain (``film.restore(regrain=...)``)."""

import numpy as np
from test_film import textured_pan

from hybridinpaint.film import repair as film


def _hp_sigma(img, sel):
    d = 0.5 * (img[:-1, :-1] - img[:-1, 1:] - img[1:, :-1] + img[1:, 1:])
    return float(np.median(np.abs(d[sel[:-1, :-1] & sel[1:, 1:]])) / 0.6745)


def test_repairs_get_the_grain_of_the_film_around_them():
    rng = np.random.default_rng(4)
    clean = textured_pan(t=6, h=64, w=96, speed=1).astype(np.float32)
    grainy = np.clip(clean + rng.normal(0, 6, clean.shape), 0, 255).round().astype(np.uint8)
    holes = np.zeros(grainy.shape, bool)
    holes[1:-1, 20:36, 30:50] = True
    flat = film.restore(grainy, defects=holes, regrain=False, backend="cpu").frames
    regrained = film.restore(grainy, defects=holes, regrain=True, backend="cpu").frames
    k = 2
    around = _hp_sigma(grainy[k].astype(np.float32), ~holes[k])
    inside_flat = _hp_sigma(flat[k].astype(np.float32), holes[k])
    inside = _hp_sigma(regrained[k].astype(np.float32), holes[k])
    assert inside_flat < 0.8 * around  # copying with bilinear weights averaged the grain away
    assert 0.8 * around <= inside <= 1.2 * around
    np.testing.assert_array_equal(regrained[~holes], grainy[~holes])


def test_film_without_grain_gets_none():
    clean = textured_pan(t=6, h=64, w=96, speed=1)
    holes = np.zeros(clean.shape, bool)
    holes[1:-1, 20:30, 30:44] = True
    a = film.restore(clean, defects=holes, regrain=False, backend="cpu").frames
    b = film.restore(clean, defects=holes, regrain=True, backend="cpu").frames
    assert np.abs(a.astype(int) - b).max() <= 1
