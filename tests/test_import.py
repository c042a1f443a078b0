import json
import os
import subprocess
import sys

import pytest


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_is_cheap():
    mods = _modules_after("import hybridinpaint")
    assert "torch" not in mods
    assert "numba" not in mods  # nothing compiled, not even the compiler loaded


def test_kernels_namespace_compiles_nothing_until_called():
    mods = _modules_after("import hybridinpaint.kernels as k; k.__all__")
    assert "torch" not in mods
    assert "numba" not in mods


@pytest.mark.parametrize("name", ["diffuse", "warp_backward", "warp_forward", "patchmatch", "vote"])
def test_public_kernels_are_reachable(name):
    import hybridinpaint.kernels as k

    assert callable(getattr(k, name))
    assert name in k.__all__


def test_unknown_attribute():
    import hybridinpaint

    with pytest.raises(AttributeError):
        hybridinpaint.no_such_thing  # noqa: B018
