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
    "hybridinpaint.pipeline",
    "hybridinpaint.visualize",
    "hybridinpaint.flicker",
    "hybridinpaint.metrics",
    "hybridinpaint.tracking",
    "hybridinpaint.faces",
    "hybridinpaint.privacy",
    "hybridinpaint.config",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
