"""``hybridinpaint restore`` / ``revert`` on frame folders, through the real command line."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tifffile
from test_film import add_blotches, textured_pan

from hybridinpaint.interfaces import cli
from hybridinpaint.runs import io


@pytest.fixture
def scans(tmp_path):
    clean = textured_pan(t=5)
    dirty, truth = add_blotches(clean)
    folder = tmp_path / "scans"
    for k, f in enumerate(dirty):
        io.write_frame(folder / f"f{k:03d}.png", f)
    return folder, dirty, truth


def test_restore_and_revert_round_trip(scans, tmp_path):
    folder, dirty, truth = scans
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    out = tmp_path / "out"
    assert cli.main(["restore", str(folder), "-o", str(out), "--report", "--backend", "cpu"]) == 0
    doc = json.loads((out / "fixes.json").read_text())
    assert doc["schema"] == "hybridinpaint.film.fixes" and doc["version"] == 2 and doc["fixes"]
    assert sorted(p.name for p in (out / "frames").iterdir()) == sorted(before)
    assert len(list((out / "provenance").iterdir())) == len(before)
    page = (out / "report.html").read_text()
    assert "data:image/png;base64" in page and str(doc["fixes"][0]["id"]) in page
    restored, _ = io.read_sequence(out / "frames")
    assert restored.dtype == np.uint8 and restored.shape == dirty.shape
    assert (restored != dirty).any()
    # Revert one fix: exactly its pixels return to the scan.
    fix = doc["fixes"][0]
    assert cli.main(["revert", str(out), "--ids", str(fix["id"]), "--original", str(folder)]) == 0
    after, _ = io.read_sequence(out / "frames")
    for y, x0, x1 in fix["runs"]:
        np.testing.assert_array_equal(after[fix["frame"], y, x0:x1], dirty[fix["frame"], y, x0:x1])
    assert json.loads((out / "fixes.json").read_text())["fixes"][0]["reverted"] is True
    # Revert all: the scans come back bit for bit.
    ids = ",".join(str(f["id"]) for f in doc["fixes"])
    assert cli.main(["revert", str(out), "--ids", ids, "--original", str(folder)]) == 0
    np.testing.assert_array_equal(io.read_sequence(out / "frames")[0], dirty)
    # The scans were never touched.
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_rerun_is_a_resume_and_overwrite_replaces_the_previous_output(scans, tmp_path, capsys):
    folder, _, _ = scans
    out = tmp_path / "out"
    assert cli.main(["restore", str(folder), "-o", str(out), "--backend", "cpu"]) == 0
    (out / "frames" / "stale.png").write_bytes(b"from an older run")
    before = (out / "fixes.json").read_bytes()
    capsys.readouterr()
    # The same scans and settings: the run is complete, nothing is redone.
    assert cli.main(["restore", str(folder), "-o", str(out), "--backend", "cpu"]) == 0
    assert "already restored" in capsys.readouterr().err and (out / "fixes.json").read_bytes() == before
    # Other settings are refused, naming them; --overwrite starts again, whole.
    assert cli.main(["restore", str(folder), "-o", str(out), "--backend", "cpu", "--min-area", "9"]) == 1
    assert "options.min_area" in capsys.readouterr().err
    argv = ["restore", str(folder), "-o", str(out), "--backend", "cpu", "--min-area", "9", "--overwrite"]
    assert cli.main(argv) == 0
    assert not (out / "frames" / "stale.png").exists()
    assert json.loads((out / "fixes.json").read_text())["settings"]["min_area"] == 9


def test_sixteen_bit_tiff_scans(tmp_path):
    clean = textured_pan(t=4)
    dirty, _ = add_blotches(clean)
    folder = tmp_path / "tiffs"
    folder.mkdir()
    for k, f in enumerate(dirty):
        tifffile.imwrite(folder / f"s{k}.tif", np.repeat(f[..., None], 3, -1).astype(np.uint16) * 257)
    out = tmp_path / "out16"
    assert cli.main(["restore", str(folder), "-o", str(out), "--backend", "cpu"]) == 0
    got = tifffile.imread(out / "frames" / "s1.tif")
    assert got.dtype == np.uint16 and got.shape == dirty.shape[1:] + (3,)


def _write_dpx(path, img, bits):
    oiio = pytest.importorskip("OpenImageIO", reason="DPX needs the optional openimageio package")
    spec = oiio.ImageSpec(img.shape[1], img.shape[0], img.shape[2], oiio.UINT16)
    spec.attribute("oiio:BitsPerSample", bits)
    out = oiio.ImageOutput.create(str(path))
    assert out.open(str(path), spec) and out.write_image(img)
    out.close()


def test_ten_bit_dpx_scans_keep_their_depth_and_header(tmp_path):
    oiio = pytest.importorskip("OpenImageIO", reason="DPX needs the optional openimageio package")
    clean = textured_pan(t=4)
    dirty, truth = add_blotches(clean)
    folder = tmp_path / "dpx"
    folder.mkdir()
    ten = np.repeat(dirty[..., None], 3, -1).astype(np.uint16) * 4  # 10-bit code values
    for k, f in enumerate(ten):
        _write_dpx(folder / f"s{k}.dpx", (f << 6) | (f >> 4), 10)  # OpenImageIO takes full-range uint16
    scans, _ = io.read_sequence(folder)
    assert scans.dtype == np.uint16
    # OpenImageIO scales 10-bit codes to 16 bits by bit replication.
    np.testing.assert_array_equal(scans >> 6, ten)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    out = tmp_path / "out"
    assert cli.main(["restore", str(folder), "-o", str(out), "--backend", "cpu"]) == 0
    inp = oiio.ImageInput.open(str(out / "frames" / "s1.dpx"))
    assert inp.spec().get_int_attribute("oiio:BitsPerSample") == 10
    inp.close()
    restored, _ = io.read_sequence(out / "frames")
    doc = json.loads((out / "fixes.json").read_text())
    changed = np.zeros(restored.shape[:3], bool)
    for f in doc["fixes"]:
        for y, x0, x1 in f["runs"]:
            changed[f["frame"], y, x0:x1] = True
    assert changed.any()
    np.testing.assert_array_equal(restored[~changed], scans[~changed])
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_dpx_without_openimageio_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "OpenImageIO", None)  # as if not installed
    (tmp_path / "a.dpx").write_bytes(b"SDPX")
    with pytest.raises(ImportError, match=r"hybridinpaint\[dpx\]"):
        io.read_frame(tmp_path / "a.dpx")


def test_bad_inputs_give_clear_errors(scans, tmp_path, capsys):
    folder, _, _ = scans
    assert cli.main(["restore", str(folder), "-o", str(folder)]) == 1
    assert "must not be" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["restore", str(empty), "-o", str(tmp_path / "o1")]) == 1
    assert "holds no frames" in capsys.readouterr().err
    mixed = tmp_path / "mixed"
    io.write_frame(mixed / "a.png", np.zeros((8, 8), np.uint8))
    io.write_frame(mixed / "b.png", np.zeros((9, 8), np.uint8))
    io.write_frame(mixed / "c.png", np.zeros((8, 8), np.uint8))
    assert cli.main(["restore", str(mixed), "-o", str(tmp_path / "o2")]) == 1
    assert "frames differ" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_bytes(b"not a png")
    assert cli.main(["restore", str(bad), "-o", str(tmp_path / "o3")]) == 1
    assert "cannot read" in capsys.readouterr().err
    one = tmp_path / "one"
    io.write_frame(one / "a.png", np.zeros((8, 8), np.uint8))
    assert cli.main(["restore", str(one), "-o", str(tmp_path / "o4")]) == 1
    assert "at least 3" in capsys.readouterr().err
    assert cli.main(["revert", str(tmp_path / "nowhere"), "--ids", "1", "--original", str(folder)]) == 1
    assert "fixes.json" in capsys.readouterr().err


def test_console_script_entry_point(scans, tmp_path):
    folder, _, _ = scans
    out = tmp_path / "viaexe"
    run = subprocess.run(
        [sys.executable, "-m", "hybridinpaint", "restore", str(folder), "-o", str(out), "--backend", "cpu"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "fixes" in run.stdout
