"""One run, one set of settings: a value passed down, sent to workers, recorded and compared on resume."""

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

import hybridinpaint
from hybridinpaint.interfaces import cli
from hybridinpaint.runs import io, stream
from hybridinpaint.settings import DEFAULT, Settings, SettingsError, resolve

# A strict consistency check and no seam correction: both change which pixels are
# filled from where on the panning clip, so the output differs from the defaults'.
CHANGED = {"propagate": {"TAU_ABS": 0.05, "TAU_REL": 0.0}, "pipeline": {"SEAM_MAX": 0.0}}
TOML = "[propagate]\nTAU_ABS = 0.05\nTAU_REL = 0.0\n\n[pipeline]\nSEAM_MAX = 0.0\n"
OPTS = {"backend": "cpu", "hallucinate": "telea"}


def panning(t=12, h=40, w=64, speed=3, seed=1):
    import cv2

    rng = np.random.default_rng(seed)
    scene = cv2.GaussianBlur((rng.random((h, w + speed * t, 3)) * 255).astype(np.uint8), (0, 0), 1.0)
    frames = np.stack([scene[:, speed * k : speed * k + w] for k in range(t)])
    hole = np.zeros((h, w), bool)
    hole[12:26, 20:38] = True
    return frames, hole


@pytest.fixture
def clip(tmp_path):
    frames, hole = panning()
    for k, f in enumerate(frames):
        io.write_frame(tmp_path / "in" / f"f{k:03d}.png", f)
    io.write_frame(tmp_path / "mask.png", hole.astype(np.uint8) * 255)
    (tmp_path / "strict.toml").write_text(TOML)
    return tmp_path / "in", tmp_path / "mask.png", frames, hole


def test_defaults_print_as_toml_that_reads_back_to_the_defaults(tmp_path):
    text = DEFAULT.to_toml()
    assert "[propagate]" in text and "TAU_ABS = 2.0" in text and "# A step is trusted" in text
    (tmp_path / "d.toml").write_text(text)
    assert Settings.from_toml(tmp_path / "d.toml") == DEFAULT
    # The command prints the same file.
    out = subprocess.run([sys.executable, "-m", "hybridinpaint", "config"], capture_output=True, text=True, check=True)
    assert out.stdout == text


def test_a_file_sets_only_what_it_names(clip):
    s = Settings.from_toml(clip[0].parent / "strict.toml")
    assert (s.propagate.TAU_ABS, s.propagate.TAU_REL, s.pipeline.SEAM_MAX) == (0.05, 0.0, 0.0)
    assert s.differences(DEFAULT.to_dict()) == ["pipeline.SEAM_MAX", "propagate.TAU_ABS", "propagate.TAU_REL"]
    assert s.flow == DEFAULT.flow


@pytest.mark.parametrize(
    "text, named",
    [
        ("[propagate]\nTAU_AB = 0.5\n", "propagate.TAU_AB: unknown setting"),
        ("[propagat]\nTAU_ABS = 0.5\n", "[propagat]: unknown section"),
        ('[propagate]\nTAU_ABS = "0.5"\n', "propagate.TAU_ABS: Input should be a valid number"),
        ("[flow]\nRING = 1.5\n", "flow.RING: Input should be a valid integer"),
        ("[flow]\nRING = true\n", "flow.RING"),
        ("[flicker]\nGAIN_RANGE = [0.5]\n", "flicker.GAIN_RANGE"),
        ("propagate = 3\n", "[propagate] must be a table"),
        ("[propagate\n", "not readable TOML"),
    ],
)
def test_bad_settings_files_are_refused_naming_the_setting(tmp_path, text, named):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=named.replace("[", r"\[")):
        Settings.from_toml(path)


def test_bad_settings_on_the_command_line_exit_1_naming_it(tmp_path, capsys):
    (tmp_path / "bad.toml").write_text("[propagate]\nTAU_AB = 0.5\n")
    assert cli.main(["config", "--config", str(tmp_path / "bad.toml")]) == 1
    assert "propagate.TAU_AB: unknown setting" in capsys.readouterr().err


def test_settings_are_frozen_and_resolve_checks_its_argument():
    with pytest.raises(Exception, match="frozen"):
        DEFAULT.propagate.TAU_ABS = 0.5  # type: ignore[misc]
    assert resolve(None) is DEFAULT
    assert resolve({"propagate": {"TAU_ABS": 0.5}}).propagate.TAU_ABS == 0.5
    with pytest.raises(TypeError, match="settings must be"):
        resolve(3)
    assert pickle.loads(pickle.dumps(DEFAULT.replace(**CHANGED))) == DEFAULT.replace(**CHANGED)


def test_settings_change_the_array_run(clip):
    _, _, frames, hole = clip
    a = hybridinpaint.inpaint(frames, hole, **OPTS)
    b = hybridinpaint.inpaint(frames, hole, settings=CHANGED, **OPTS)
    assert not np.array_equal(a, b), "the chosen settings must change this clip's fill"
    np.testing.assert_array_equal(a[:, ~hole], b[:, ~hole])


def test_a_settings_file_changes_in_process_and_dask_runs_alike(clip, tmp_path):
    pytest.importorskip("dask.distributed", reason="needs the dask extra")
    src, mask, frames, _ = clip
    strict = tmp_path / "strict.toml"
    base = ["inpaint", str(src), "--mask", str(mask), "--chunk", "8", "--hallucinate", "telea", "--backend", "cpu"]
    assert cli.main([*base, "-o", str(tmp_path / "default"), "--quiet"]) == 0
    assert cli.main([*base, "-o", str(tmp_path / "here"), "--quiet", "--config", str(strict)]) == 0
    assert cli.main([*base, "-o", str(tmp_path / "dask"), "--quiet", "--config", str(strict), "--workers", "1"]) == 0
    default, here, dask = (io.read_sequence(tmp_path / n)[0] for n in ("default", "here", "dask"))
    assert not np.array_equal(default, here), "the settings file changed nothing in-process"
    np.testing.assert_array_equal(here, dask)  # the worker got the file's settings, not its own defaults
    record = json.loads((tmp_path / "dask" / stream.MANIFEST).read_text())
    assert record["settings"] == Settings.from_toml(strict).to_dict()


def test_a_resume_with_other_settings_is_refused_naming_them(clip, tmp_path):
    src, mask, _, _ = clip
    out = tmp_path / "out"
    hybridinpaint.inpaint_file(src, mask, out, chunk=6, overlap=2, **OPTS)
    with pytest.raises(ValueError, match=r"other settings \(propagate.TAU_ABS\)"):
        hybridinpaint.inpaint_file(src, mask, out, chunk=6, overlap=2, settings={"propagate": {"TAU_ABS": 1.0}}, **OPTS)
    # --overwrite starts again with the new settings, and records them.
    hybridinpaint.inpaint_file(
        src, mask, out, chunk=6, overlap=2, overwrite=True, settings={"propagate": {"TAU_ABS": 1.0}}, **OPTS
    )
    assert json.loads((out / stream.MANIFEST).read_text())["settings"]["propagate"]["TAU_ABS"] == 1.0


def test_restore_records_its_settings(tmp_path):
    rng = np.random.default_rng(0)
    frames = (rng.random((4, 32, 40)) * 40 + 100).astype(np.uint8)
    for k, f in enumerate(frames):
        io.write_frame(tmp_path / "scans" / f"s{k}.png", f)
    doc = hybridinpaint.restore_dir(
        tmp_path / "scans", tmp_path / "out", backend="cpu", progress=False, settings={"film": {"FB_ABS": 3.0}}
    )
    assert doc["settings"]["tunables"]["film"]["FB_ABS"] == 3.0
    assert (
        json.loads((tmp_path / "out" / "fixes.json").read_text())["settings"]["tunables"] == doc["settings"]["tunables"]
    )
