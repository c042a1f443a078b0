"""The Examples sections of the public docstrings run and give what they show."""

import doctest
import importlib

import pytest

MODULES = [
    "hybridinpaint.kernels.warping",
    "hybridinpaint.kernels.diffusion",
    "hybridinpaint.kernels.patches",
    "hybridinpaint.kernels.propagation",
    "hybridinpaint.kernels._backends",
    "hybridinpaint.kernels._accelerate",
    "hybridinpaint.completion.pipeline",
    "hybridinpaint.visualize",
    "hybridinpaint.film.flicker",
    "hybridinpaint.metrics",
    "hybridinpaint.tracking.tracker",
    "hybridinpaint.privacy.faces",
    "hybridinpaint.privacy.anonymizer",
    "hybridinpaint.settings",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
