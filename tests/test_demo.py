"""``hybridinpaint demo`` on the bundled clip."""

import json

import numpy as np
import pytest

from hybridinpaint.interfaces import demo


def test_bundled_clip():
    frames = demo.clip()
    assert frames.shape == (30, 216, 384, 3) and frames.dtype == np.uint8


def test_demo_writes_everything(tmp_path):
    out = demo.run(tmp_path / "d", backend="cpu", progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["flow", "provenance", "result", "side_by_side", "summary.json"]
    assert len(list((out / "result").glob("*.png"))) == 30
    assert len(list((out / "flow").glob("*.png"))) == 29
    summary = json.loads((out / "summary.json").read_text())
    never_seen = summary["pixels"]["patch copy"] + summary["pixels"]["spatial fallback"]
    assert summary["pixels"]["propagated along flow"] > never_seen > 0
    # No half-written folders are left behind.
    assert [p.name for p in tmp_path.iterdir()] == ["d"]
    with pytest.raises(FileExistsError):
        demo.run(out, backend="cpu", progress=False)
    marker = out / "result" / "00000.png"
    marker.unlink()
    demo.run(out, backend="cpu", overwrite=True, progress=False)
    assert marker.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["d"]
