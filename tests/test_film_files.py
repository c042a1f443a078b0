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


def _cells(page, table_id):
    """The rows of table ``table_id`` of ``page``, each as its list of cell HTML."""
    import re

    body = page.split(f"<table id='{table_id}'>", 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in body.split("<tr>")[1:]]


def _text(cell):
    import re

    return re.sub(r"<[^>]+>", "", cell)


def _hand_made_report(spared):
    from hybridinpaint.runs.restore import report_html

    rng = np.random.default_rng(0)
    scans = rng.integers(40, 200, (3, 300, 320), dtype=np.uint8)
    restored = scans.copy()
    restored[0, 10:290, 40] = 255  # a scratch, 280 rows of column 40
    restored[1] = np.clip(scans[1].astype(int) + 10, 0, 255)  # a deflickered frame

    def fix(i, frame, kind, bbox, **extra):
        y0, x0, y1, x1 = bbox
        return {
            "id": i,
            "frame": frame,
            "file": f"f{frame}.png",
            "kind": kind,
            "bbox": list(bbox),
            "area": (y1 - y0) * (x1 - x0),
            "runs": [[y, x0, x1] for y in range(y0, y1)],
            "reverted": False,
            "score": 0.03,
            "confidence": 0.9,
            "method": "propagated along flow",
            "sources": [1],
            **extra,
        }

    fixes = [
        fix(1, 0, "blotch", (20, 30, 26, 36), score=0.87, why="p=0.87: z_smooth=3 (+4.2)"),
        fix(2, 0, "scratch", (10, 40, 290, 41)),
        fix(3, 1, "flicker", (0, 0, 300, 320), method="deflicker: brightness gain 0.950-1.020"),
        fix(4, 2, "blotch", (0, 0, 280, 300), score=0.6, probability=0.4, reasons=["big and dark", "in one frame"]),
    ]
    mask = np.zeros(scans.shape, bool)
    page = report_html(scans, restored, mask, fixes, ["f0.png", "f1.png", "f2.png"], spared=spared)
    return page, fixes


def test_report_shows_every_fix_with_pictures_labelled_boxes_and_plain_reasons():
    page, fixes = _hand_made_report(spared=None)
    rows = _cells(page, "fixes")
    assert len(rows) == len(fixes)
    for row in rows:
        assert "<img" in row[-3] and "<img" in row[-2], row  # scan and repaired, whatever the fix's size
    by_id = {int(r[0]): r for r in rows}
    assert "class='strip'" in by_id[2][-3] and "class='thumb'" in by_id[3][-3] and "class='big'" in by_id[4][-3]
    assert _text(by_id[1][5]) == "rows 20–25, columns 30–35" and _text(by_id[2][5]) == "rows 10–289, column 40"
    assert by_id[1][3] == "87%" and by_id[4][3] == "40%" and by_id[2][3] == "–"  # probability before the score
    assert "neither neighbouring frame" in by_id[1][6] and "vertical line" in by_id[2][6]
    assert "gain" not in by_id[3][6] and "0.950 to 1.020" in by_id[3][6] and "big and dark; in one frame" in by_id[4][6]
    assert "title='How likely" in page and ">repair source agreement<" in page and ">score<" not in page
    assert "Left alone" not in page


def test_report_lists_regions_left_alone_with_their_crops():
    spared = [
        {
            "frame": 2,
            "file": "f2.png",
            "kind": "blotch",
            "bbox": [50, 60, 58, 70],
            "area": 80,
            "probability": 0.7,
            "why": "left alone: moving object (its neighbours disagree along the motion)",
            "runs": [[50, 60, 70]],
        },
        {
            "frame": 0,
            "file": "f0.png",
            "kind": "scratch",
            "bbox": [0, 100, 200, 102],
            "area": 400,
            "why": "left alone: still picture edge",
            "runs": [[y, 100, 102] for y in range(200)],
        },
        {"frame": 9, "bbox": "not a box"},  # hand-edited: skipped, not fatal
    ]
    page, _ = _hand_made_report(spared)
    assert "<h2 id='spared'>Left alone</h2>" in page and "hybridinpaint restore --repair-moving" in page
    rows = _cells(page, "spared-table")
    assert len(rows) == 2
    assert all("<img" in r[-1] for r in rows) and "class='strip'" in rows[1][-1]
    assert "left alone: moving object" in rows[0][5] and _text(rows[0][4]) == "rows 50–57, columns 60–69"


def test_restore_records_regions_left_alone_and_repair_moving_repairs_them(scans, tmp_path, monkeypatch, capsys):
    from hybridinpaint.film import repair

    folder, _, _ = scans
    real, calls = repair.restore, []

    def restore(frames, *, spare_moving=True, **kw):  # the film package's restore, with a region it spares
        calls.append(spare_moving)
        res = real(frames, **kw)
        ys, xs = np.nonzero(np.pad(np.ones((4, 5), bool), ((30, 30), (40, 35))))
        spot = repair.Fix(
            id=1,
            frame=2,
            bbox=(30, 40, 34, 45),
            area=20,
            kind="blotch",
            score=0.8,
            method="left alone",
            sources=[],
            confidence=0.0,
            ys=ys,
            xs=xs,
            why="left alone: moving object",
        )
        res.spared = [spot] if spare_moving else []
        return res

    monkeypatch.setattr(repair, "restore", restore)
    out = tmp_path / "out"
    assert cli.main(["restore", str(folder), "-o", str(out), "--report", "--backend", "cpu"]) == 0
    assert "1 left alone" in capsys.readouterr().out
    doc = json.loads((out / "fixes.json").read_text())
    assert calls == [True] and doc["settings"]["repair_moving"] is False
    (s,) = doc["spared"]
    assert s["frame"] == 2 and s["file"] == "f002.png" and s["bbox"] == [30, 40, 34, 45] and s["area"] == 20
    assert s["why"].startswith("left alone: moving object") and s["runs"][0] == [30, 40, 45]
    from hybridinpaint.film import fixes as fixes_file

    fixes_file.load(out)  # the extra key is a valid record
    page = (out / "report.html").read_text()
    assert len(_cells(page, "spared-table")) == 1
    # A revert keeps the list and the table.
    assert cli.main(["revert", str(out), "--ids", str(doc["fixes"][0]["id"]), "--original", str(folder)]) == 0
    assert len(_cells((out / "report.html").read_text(), "spared-table")) == 1
    argv = ["restore", str(folder), "-o", str(tmp_path / "all"), "--backend", "cpu", "--repair-moving"]
    assert cli.main(argv) == 0
    doc = json.loads((tmp_path / "all" / "fixes.json").read_text())
    assert calls == [True, False] and "spared" not in doc and doc["settings"]["repair_moving"] is True
