"""The blotch classifier: candidates, features, the shipped model, and why each blotch was kept."""

import json

import numpy as np
import pytest
from test_film import add_blotches, textured_pan

from hybridinpaint.film import blotches
from hybridinpaint.film import repair as film
from hybridinpaint.settings import DEFAULT


def _evidence(frame, prev, nxt, trusted=None):
    trusted = np.ones(frame.shape, bool) if trusted is None else trusted
    return blotches.frame_evidence(frame, prev, nxt, trusted)


def test_shipped_model_loads_and_matches_the_features():
    model = blotches.load_model()
    assert model.coef.shape == model.mean.shape == model.scale.shape == (len(blotches.FEATURES),)
    assert 0 < model.threshold < 1
    assert model.provenance and model.provenance["clips"]  # says what it was trained on


def test_model_json_is_validated():
    good = blotches.load_model().to_json()
    assert blotches.BlotchModel.from_json(json.loads(json.dumps(good))).threshold == good["threshold"]
    with pytest.raises(ValueError, match="features"):
        blotches.BlotchModel.from_json({**good, "features": good["features"][:-1]})
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):
        blotches.BlotchModel.from_json({**good, "threshold": 1.5})


def test_a_bright_and_a_dark_spot_side_by_side_are_two_candidates():
    rng = np.random.default_rng(0)
    base = 0.5 + 0.01 * rng.standard_normal((40, 40)).astype(np.float32)
    frame = base.copy()
    frame[10:16, 10:16] += 0.3
    frame[10:16, 16:22] -= 0.3
    ev = _evidence(frame, base, base)
    labels, n, z = blotches.candidates(ev)
    assert labels[13, 12] > 0 and labels[13, 19] > 0 and labels[13, 12] != labels[13, 19]
    assert z[13, 12] > DEFAULT.blotches.CANDIDATE_Z
    x = blotches.features(ev, labels, n, z, [])
    assert x.shape == (n, len(blotches.FEATURES)) and np.isfinite(x).all()
    bright = labels[13, 12] - 1
    assert x[bright, blotches.NAMES.index("one_sign")] > 0.9  # all brighter than both neighbours


def test_neighbours_that_disagree_are_not_plausible_dirt():
    base = np.full((30, 30), 0.5, np.float32)
    frame, prev, nxt = base.copy(), base.copy(), base.copy()
    frame[10:16, 10:16] = 0.8
    prev[10:16, 10:16] = 0.2  # the neighbours differ more from each other than the frame from them
    nxt[10:16, 10:16] = 0.75
    ev = _evidence(frame, prev, nxt)
    labels, n, z = blotches.candidates(ev)
    x = blotches.features(ev, labels, n, z, [])
    assert n >= 1 and not blotches.plausible(x)[labels[12, 12] - 1]


def test_explanations_name_the_deciding_features():
    model = blotches.load_model()
    x = np.ones((1, len(blotches.FEATURES)))
    text = model.explain(x[0], top=2)
    assert text.count("=") == 2 and all(name.split("=")[0] in blotches.NAMES for name in text.split(", "))
    # The terms sum to the log-odds the probability comes from.
    logit = model.terms(x).sum() + model.intercept
    assert model.probability(x)[0] == pytest.approx(1 / (1 + np.exp(-logit)))


def test_sensitivity_multiplies_the_odds():
    model = blotches.load_model()
    p = np.linspace(0.01, 0.99, 99)
    assert model.accept(p, 2.0).sum() > model.accept(p, 1.0).sum() > model.accept(p, 0.5).sum()


def test_every_detected_blotch_says_why():
    dirty, _ = add_blotches(textured_pan())
    found = film.detect_defects(dirty, kinds=("blotch",), backend="cpu")
    assert found.records
    for rec in found.records:
        assert rec.why.startswith("p=") and 0 < rec.score <= 1
    res = film.restore(dirty, defects=found, backend="cpu")
    assert all(f.to_dict()["why"].startswith("p=") for f in res.fixes)


def test_a_model_of_ones_own_is_used_and_checked():
    dirty, _ = add_blotches(textured_pan())
    strict = blotches.load_model()
    strict = blotches.BlotchModel(strict.mean, strict.scale, strict.coef, strict.intercept - 50, strict.threshold)
    assert not film.detect_defects(dirty, kinds=("blotch",), backend="cpu", blotch_model=strict).mask.any()
    with pytest.raises(TypeError, match="blotch_model"):
        film.detect_defects(dirty, kinds=("blotch",), backend="cpu", blotch_model={"coef": []})


def test_training_fits_a_separable_toy_set(monkeypatch):
    pytest.importorskip("sklearn")
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "train_blotch_model.py"
    spec = importlib.util.spec_from_file_location("train_blotch_model", path)
    train = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, train)  # its dataclasses look themselves up there
    spec.loader.exec_module(train)
    rng = np.random.default_rng(0)
    x = np.abs(rng.standard_normal((400, len(blotches.FEATURES))))
    y = x[:, 1] > 1.0  # dirt: a high mean spike
    model = train.fit(x, y)
    assert ((model.probability(x) > 0.5) == y).mean() > 0.95
    assert blotches.BlotchModel.from_json(model.to_json()).coef.shape == model.coef.shape
