"""The one engine of file runs (hybridinpaint.runs.engine): records, refusal, nothing left by a failed start."""

import json

import numpy as np
import pytest

import hybridinpaint
from hybridinpaint.runs import engine, io
from hybridinpaint.settings import DEFAULT

OPTS = {"backend": "cpu", "hallucinate": "telea"}


@pytest.fixture
def clip(tmp_path):
    rng = np.random.default_rng(0)
    frames = (rng.random((6, 24, 32, 3)) * 255).astype(np.uint8)
    for k, f in enumerate(frames):
        io.write_frame(tmp_path / "in" / f"f{k}.png", f)
    hole = np.zeros((24, 32), np.uint8)
    hole[8:14, 10:20] = 255
    io.write_frame(tmp_path / "mask.png", hole)
    return tmp_path / "in", tmp_path / "mask.png"


def test_a_run_that_fails_on_a_bad_input_leaves_no_record(clip, tmp_path):
    src, mask = clip
    (src / "f3.png").write_bytes(b"not a png")  # found when the first chunk is read
    with pytest.raises(ValueError):
        hybridinpaint.inpaint_file(src, mask, tmp_path / "out", chunk=6, overlap=2, **OPTS)
    assert not (tmp_path / "out").exists()
    io.write_frame(src / "f3.png", np.zeros((24, 32, 3), np.uint8))  # corrected: the rerun is not refused
    summary = hybridinpaint.inpaint_file(src, mask, tmp_path / "out", chunk=6, overlap=2, **OPTS)
    assert summary["frames"] == 6 and summary["resumed_chunks"] == 0


def test_the_record_names_command_inputs_options_and_settings(clip, tmp_path):
    src, mask = clip
    hybridinpaint.inpaint_file(src, mask, tmp_path / "out", chunk=4, overlap=1, **OPTS)
    doc = json.loads((tmp_path / "out" / engine.RECORD).read_text())
    assert doc["schema"] == engine.SCHEMA and doc["version"] == engine.VERSION
    assert doc["command"] == "inpaint" and set(doc["inputs"]) == {"input", "mask"}
    assert doc["inputs"]["input"] == engine.fingerprint(src)
    assert doc["options"]["chunk"] == 4 and doc["options"]["hallucinate"] == "telea"
    assert doc["settings"] == DEFAULT.to_dict() and doc["done"] == len(doc["plan"])
    # A finished run started again has nothing to do.
    again = hybridinpaint.inpaint_file(src, mask, tmp_path / "out", chunk=4, overlap=1, **OPTS)
    assert again["resumed_chunks"] == len(doc["plan"])


def test_a_record_of_another_command_is_refused(clip, tmp_path):
    src, mask = clip
    args = dict(inputs={"input": src}, frames=6, options={}, settings=DEFAULT, plan=[(0, 6)])
    run = engine.start(tmp_path / "out", command="restore", **args)
    run.chunk_done(0)
    with pytest.raises(ValueError, match="holds a `restore` run, not `inpaint`"):
        engine.start(tmp_path / "out", command="inpaint", **args)
    with pytest.raises(ValueError, match="inside|is the input|around"):
        engine.start(src / "sub", command="inpaint", **args)
