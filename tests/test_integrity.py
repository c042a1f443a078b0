"""Files a user hands over are safe: every attack of issue 12, and property tests on fixes.json.

Each test works in a sandbox folder of its own: the scans, a restore output,
and a "victim" file that nothing may touch. After every attack, everything
outside the output folder is byte-identical, and a refused revert leaves the
output byte-identical too.
"""

import hashlib
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_film import add_blotches, textured_pan

from hybridinpaint import visualize
from hybridinpaint.interfaces import cli
from hybridinpaint.runs import io, media

# --- a sandbox ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def restored(tmp_path_factory):
    """A sandbox made once: scans/, out/ (a restore output with a report), victim/photo.png."""
    root = tmp_path_factory.mktemp("sandbox")
    clean = textured_pan(t=5)
    dirty, _ = add_blotches(clean)
    for k, f in enumerate(dirty):
        io.write_frame(root / "scans" / f"f{k:03d}.png", f)
    io.write_frame(root / "victim" / "photo.png", np.full((8, 8), 77, np.uint8))
    assert cli.main(["restore", str(root / "scans"), "-o", str(root / "out"), "--report", "--backend", "cpu"]) == 0
    doc = json.loads((root / "out" / "fixes.json").read_text())
    assert len(doc["fixes"]) >= 2
    return root


@pytest.fixture
def sandbox(restored, tmp_path):
    box = tmp_path / "box"
    shutil.copytree(restored, box)
    # The scans path recorded in fixes.json points at the module's copy; repoint it.
    doc = json.loads((box / "out" / "fixes.json").read_text())
    doc["scans"] = str((box / "scans").resolve())
    (box / "out" / "fixes.json").write_text(json.dumps(doc))
    return box


def snapshot(folder: Path, skip: Path | None = None) -> dict:
    """Path -> SHA-256 (or "dir") of everything under ``folder`` but ``skip``."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if skip is not None and (p == skip or skip in p.parents):
            continue
        out[str(p.relative_to(folder))] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def revert(box, ids, *extra):
    return cli.main(["revert", str(box / "out"), "--ids", ids, *map(str, extra)])


def edit_fixes(box, change):
    path = box / "out" / "fixes.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    return doc


# --- revert: the attacks -------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../victim/photo.png", "/etc/hostname", "frames/../../victim/photo.png", "..", ""])
def test_revert_refuses_paths_out_of_the_folder(sandbox, capsys, name):
    def attack(doc):
        doc["fixes"][0]["file"] = name

    edit_fixes(sandbox, attack)
    before = snapshot(sandbox)
    assert revert(sandbox, "1") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fixes[0]" in err, err
    assert snapshot(sandbox) == before


def test_revert_refuses_another_film_of_the_same_size(sandbox, capsys):
    other = sandbox / "other"
    for k, f in enumerate(textured_pan(t=5, seed=9)):
        io.write_frame(other / f"f{k:03d}.png", f)
    before = snapshot(sandbox)
    assert revert(sandbox, "1", "--original", other) == 1
    err = capsys.readouterr().err
    assert "f000.png differs from the scan that was restored" in err and "SHA-256" in err
    assert snapshot(sandbox) == before


def test_revert_uses_the_recorded_scans_and_checks_them(sandbox, capsys):
    assert revert(sandbox, "1") == 0  # no --original: the recorded folder, verified
    io.write_frame(sandbox / "scans" / "f002.png", np.zeros((64, 80), np.uint8))
    before = snapshot(sandbox)
    assert revert(sandbox, "2") == 1
    assert "f002.png differs" in capsys.readouterr().err
    assert snapshot(sandbox) == before


@pytest.mark.parametrize(
    "run, message",
    [([0, 70, 90], "outside the 80x64 frame"), ([64, 0, 3], "outside the 80x64 frame"), ([3, -2, 4], "minimum")],
)
def test_one_bad_fix_among_good_ones_changes_nothing(sandbox, capsys, run, message):
    def attack(doc):
        doc["fixes"][1]["runs"].append(run)

    edit_fixes(sandbox, attack)
    before = snapshot(sandbox)
    ids = ",".join(str(f["id"]) for f in json.loads((sandbox / "out" / "fixes.json").read_text())["fixes"])
    assert revert(sandbox, ids) == 1
    assert message in capsys.readouterr().err
    assert snapshot(sandbox) == before


def test_duplicate_ids_and_version_1_records_are_refused(sandbox, capsys):
    def dup(doc):
        doc["fixes"][1]["id"] = doc["fixes"][0]["id"]

    doc = edit_fixes(sandbox, dup)
    assert revert(sandbox, str(doc["fixes"][0]["id"])) == 1
    assert "not unique" in capsys.readouterr().err

    def old(doc):
        doc["version"] = 1

    edit_fixes(sandbox, old)
    assert revert(sandbox, "1") == 1
    assert "older hybridinpaint" in capsys.readouterr().err


def test_revert_updates_report_and_provenance_in_one_swap(sandbox):
    doc = json.loads((sandbox / "out" / "fixes.json").read_text())
    fix = doc["fixes"][0]
    outside = snapshot(sandbox, skip=sandbox / "out")
    assert revert(sandbox, str(fix["id"])) == 0
    assert snapshot(sandbox, skip=sandbox / "out") == outside
    assert not [p for p in sandbox.iterdir() if p.name.startswith(".")]  # no temp or old folder left
    scan = io.read_frame(sandbox / "scans" / fix["file"])
    frame = io.read_frame(sandbox / "out" / "frames" / fix["file"])
    prov = io.read_frame(sandbox / "out" / "provenance" / fix["file"])
    dim = visualize.dim_grey(scan)
    for y, x0, x1 in fix["runs"]:
        np.testing.assert_array_equal(frame[y, x0:x1], scan[y, x0:x1])
        np.testing.assert_array_equal(prov[y, x0:x1], np.repeat(dim[y, x0:x1, None], 3, -1))
    page = (sandbox / "out" / "report.html").read_text()
    row = page[page.index(f"<tr><td>{fix['id']}</td>") :].split("</tr>")[0]
    assert row.endswith("<td>yes</td>")
    assert json.loads((sandbox / "out" / "fixes.json").read_text())["fixes"][0]["reverted"] is True


def test_ids_that_are_not_numbers(sandbox, capsys):
    before = snapshot(sandbox)
    assert revert(sandbox, "abc") == 1
    err = capsys.readouterr().err
    assert "--ids must be comma-separated fix ids" in err and "invalid literal" not in err
    assert revert(sandbox, "999") == 1
    assert "are not in" in capsys.readouterr().err
    assert snapshot(sandbox) == before


# --- inputs other than the frames ------------------------------------------------------


def _film(tmp_path, t=6):
    frames = textured_pan(t=t, w=48, h=32)
    src = tmp_path / "in"
    for k, f in enumerate(frames):
        io.write_frame(src / f"f{k:03d}.png", f)
    masks = tmp_path / "masks"
    for k in range(t):
        m = np.zeros((32, 48), np.uint8)
        m[10:18, 12 + k : 22 + k] = 255
        io.write_frame(masks / f"m{k:03d}.png", m)
    return src, masks


def inpaint(*args):
    return cli.main(["inpaint", *map(str, args), "--backend", "cpu", "--quiet"])


def test_provenance_into_the_mask_folder_is_refused(tmp_path, capsys):
    src, masks = _film(tmp_path)
    before = snapshot(tmp_path)
    assert inpaint(src, "--mask", masks, "-o", tmp_path / "out", "--provenance", masks) == 1
    assert "--provenance" in capsys.readouterr().err
    assert inpaint(src, "--mask", masks, "-o", tmp_path / "out", "--provenance", masks / "sub") == 1
    assert inpaint(src, "--mask", masks, "-o", src / "out") == 1
    assert snapshot(tmp_path) == before


def test_overwrite_never_deletes_an_input_or_a_video_it_did_not_write(tmp_path, capsys):
    pytest.importorskip("av", reason="mask videos need PyAV (the video extra)")
    src, masks = _film(tmp_path)
    mask_video = tmp_path / "m.avi"
    media.write_video(mask_video, (io.read_frame(p) for p in io.list_frames(masks)), 25, (32, 48))
    before = snapshot(tmp_path)
    assert inpaint(src, "--mask", mask_video, "-o", mask_video, "--overwrite") == 1
    assert "must not be, contain or lie inside mask" in capsys.readouterr().err
    assert snapshot(tmp_path) == before
    # A video file that is not ours (no tag) survives --overwrite.
    foreign = tmp_path / "holiday.mkv"
    foreign.write_bytes(b"somebody's film")
    assert inpaint(src, "--mask", masks, "-o", foreign, "--overwrite") == 1
    assert "not written by hybridinpaint" in capsys.readouterr().err
    assert foreign.read_bytes() == b"somebody's film"
    # One of ours is replaced.
    ours = tmp_path / "ours.mkv"
    assert inpaint(src, "--mask", masks, "-o", ours) == 0
    assert media.written_by_hybridinpaint(ours)
    assert inpaint(src, "--mask", masks, "-o", ours, "--overwrite") == 0


def has_module(name):
    return importlib.util.find_spec(name) is not None


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_leftovers_of_a_killed_run_are_removed_and_outputs_follow_the_umask(tmp_path, capsys):
    src, masks = _film(tmp_path)
    dead = _dead_pid()
    junk = [
        tmp_path / f".out.mkv.tmp-{dead}-x1y2.mkv",
        tmp_path / f".out.tmp-{dead}-abc",
        tmp_path / f".restored.tmp-{dead}-abc",
    ]
    junk[0].write_bytes(b"half a video")
    for d in junk[1:]:
        d.mkdir()
        (d / "frame.png").write_bytes(b"half")
    alive = tmp_path / f".out.tmp-{os.getpid()}-live"  # a run still going: not ours to delete
    alive.mkdir()
    unrelated = tmp_path / ".tmp-notes.txt"
    unrelated.write_text("someone else's")
    old = os.umask(0o022)
    try:
        assert inpaint(src, "--mask", masks, "-o", tmp_path / "out") == 0
        if has_module("av"):
            assert inpaint(src, "--mask", masks, "-o", tmp_path / "out.mkv") == 0
        assert cli.main(["restore", str(src), "-o", str(tmp_path / "restored"), "--backend", "cpu"]) == 0
    finally:
        os.umask(old)
    if has_module("av"):
        assert not junk[0].exists()
    assert not junk[1].exists() and not junk[2].exists()
    assert alive.is_dir() and unrelated.read_text() == "someone else's"
    for p in (tmp_path / "restored", tmp_path / "restored" / "frames", tmp_path / "out"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o755, p
    for p in (tmp_path / "restored" / "fixes.json", next((tmp_path / "restored" / "frames").iterdir())):
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p


def test_hidden_files_do_not_block_a_resume(tmp_path, capsys):
    src, masks = _film(tmp_path)
    assert inpaint(src, "--mask", masks, "-o", tmp_path / "out", "--chunk", "4", "--overlap", "1") == 0
    (src / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (tmp_path / "out" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    capsys.readouterr()
    assert inpaint(src, "--mask", masks, "-o", tmp_path / "out", "--chunk", "4", "--overlap", "1") == 0
    assert "chunks from an earlier run" in capsys.readouterr().out


def test_a_mid_grey_mask_is_refused_not_read_as_empty(tmp_path, capsys):
    src, _ = _film(tmp_path)
    m = np.zeros((32, 48), np.uint8)
    m[10:20, 10:20] = 127
    io.write_frame(tmp_path / "grey.png", m)
    assert inpaint(src, "--mask", tmp_path / "grey.png", "-o", tmp_path / "out") == 1
    assert "values go up to 127" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_unwritable_outputs_fail_before_the_work(tmp_path, capsys, monkeypatch):
    from hybridinpaint.film import repair as film

    src, _ = _film(tmp_path)
    (tmp_path / "afile").write_text("x")

    def detection_ran(*a, **k):
        raise AssertionError("the detection ran although the output cannot be written")

    monkeypatch.setattr(film, "restore", detection_ran)
    assert cli.main(["restore", str(src), "-o", str(tmp_path / "afile" / "out"), "--backend", "cpu"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("hybridinpaint restore: ") and err.count("\n") == 1


# --- no traceback reaches a user of the command line -------------------------------------


def _failure_paths(box: Path):
    """(argv, expected text) for every refusal the CLI has, against the sandbox ``box``."""
    src, masks = box / "film", box / "masks"
    scans, out = box / "scans", box / "out"
    (box / "afile").write_text("x")
    grey = box / "grey.png"
    return [
        (["inpaint", box / "nope", "--mask", masks, "-o", box / "o1"], "input not found"),
        (["inpaint", src, "--mask", box / "nope.png", "-o", box / "o1"], "mask not found"),
        (["inpaint", src, "--mask", grey, "-o", box / "o1"], "values go up to 100"),
        (["inpaint", src, "--mask", masks, "-o", src], "must not be, contain or lie inside input"),
        (["inpaint", src, "--mask", masks, "-o", box / "o2", "--provenance", masks], "--provenance"),
        (["inpaint", src, "--mask", masks, "-o", box / "o3", "--resume"], "no run to continue"),
        (["inpaint", src, "--mask", masks, "-o", box / "afile" / "o"], "hybridinpaint inpaint:"),
        (["inpaint", src, "--mask", masks, "-o", box / "o4", "--chunk", "0"], "chunk"),
        (["restore", box / "nope", "-o", box / "r1"], "not found"),
        (["restore", scans, "-o", scans / "r"], "must not be, contain or lie inside scans"),
        (["restore", scans, "-o", box / "afile" / "r"], "hybridinpaint restore:"),
        (["revert", out, "--ids", "abc"], "--ids must be"),
        (["revert", out, "--ids", "999"], "are not in"),
        (["revert", box / "nope", "--ids", "1"], "fixes.json"),
        (["revert", out, "--ids", "1", "--original", src], "differs"),
        (["demo", "--out", box / "afile" / "demo"], "hybridinpaint demo:"),
        (["demo", "--out", box / "afile"], "exists"),
    ]


def test_every_cli_failure_is_one_line_and_exit_1(sandbox):
    src, masks = _film(sandbox)
    os.rename(src, sandbox / "film")
    m = np.zeros((32, 48), np.uint8)
    m[4:8, 4:8] = 100
    io.write_frame(sandbox / "grey.png", m)
    env = {k: v for k, v in os.environ.items() if k != "HYBRIDINPAINT_DEBUG"}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    for argv, expect in _failure_paths(sandbox):
        args = [sys.executable, "-m", "hybridinpaint", *map(str, argv)]
        if argv[0] in ("inpaint", "restore"):
            args += ["--backend", "cpu"]
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
        shown = " ".join(map(str, argv))
        assert proc.returncode == 1, f"{shown}: exit {proc.returncode}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, f"{shown}:\n{proc.stderr}"
        lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("hybridinpaint ")]
        assert len(lines) == 1 and expect in lines[0], f"{shown}:\n{proc.stderr}"


# --- property tests: a mutated fixes.json never escapes, never half-applies --------------------

_BAD_NAMES = ["../../victim/photo.png", "/etc/hostname", "..", ".", "", "a/b.png", "f001.png", "nope.png", "x\\y"]
_BAD_VALUES = [None, True, -1, 0, 1.5, "1", [], {}, [1, 2], 10**12]


@st.composite
def mutations(draw):
    """A change to a fixes.json document: (description, function doc -> doc or str)."""
    kinds = ["none", "valid_run", "file", "run", "id", "field", "frames", "checksum", "truncate", "extra_fix"]
    kind = draw(st.sampled_from(kinds))
    k = draw(st.integers(0, 1))
    if kind == "none":
        return kind, lambda d: d
    if kind == "valid_run":  # another run inside the frame: a revert must put exactly it back too
        y, x0 = draw(st.integers(0, 63)), draw(st.integers(0, 78))
        x1 = draw(st.integers(x0 + 1, 80))
        return kind, lambda d: d["fixes"][k]["runs"].append([y, x0, x1]) or d
    if kind == "file":
        name = draw(st.sampled_from(_BAD_NAMES))
        return kind, lambda d: _set(d["fixes"][k], "file", name)
    if kind == "run":
        j = draw(st.integers(0, 2))
        value = draw(st.one_of(st.sampled_from(_BAD_VALUES), st.integers(-100, 200)))
        return kind, lambda d: _set(d["fixes"][k]["runs"][0], j, value)
    if kind == "id":
        value = draw(st.one_of(st.sampled_from(_BAD_VALUES), st.just("dup")))
        return kind, lambda d: _set(d["fixes"][k], "id", d["fixes"][1 - k]["id"] if value == "dup" else value)
    if kind == "field":
        key = draw(st.sampled_from(["frame", "runs", "bbox", "reverted", "area", "kind"]))
        value = draw(st.sampled_from(_BAD_VALUES))
        return kind, lambda d: _set(d["fixes"][k], key, value)
    if kind == "frames":
        name = draw(st.sampled_from(_BAD_NAMES))
        return kind, lambda d: _set(d["frames"], 1, name)
    if kind == "checksum":
        return kind, lambda d: _set(d["checksums"], d["frames"][0], "0" * 64)
    if kind == "extra_fix":
        runs = draw(st.lists(st.lists(st.integers(-5, 100), min_size=3, max_size=3), min_size=1, max_size=3))
        return kind, lambda d: d["fixes"].append({**d["fixes"][0], "id": 99, "runs": runs}) or d
    cut = draw(st.floats(0, 0.999))
    return kind, lambda d: json.dumps(d)[: int(cut * len(json.dumps(d)))]


def _set(container, key, value):
    container[key] = value
    return container


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations(), which=st.sampled_from(["first", "both", "extra"]))
def test_a_mutated_record_is_refused_or_reverted_correctly(restored, mutation, which):
    kind, change = mutation
    with tempfile.TemporaryDirectory() as tmp:
        box = Path(tmp) / "box"
        shutil.copytree(restored, box)
        path = box / "out" / "fixes.json"
        doc = json.loads(path.read_text())
        doc["scans"] = str((box / "scans").resolve())
        good = json.loads(json.dumps(doc))
        mutated = change(doc)
        path.write_text(mutated if isinstance(mutated, str) else json.dumps(doc))
        ids = {"first": [good["fixes"][0]["id"]], "both": [f["id"] for f in good["fixes"][:2]], "extra": [99]}[which]
        before_out = snapshot(box / "out")
        before_rest = snapshot(Path(tmp), skip=box / "out")
        frames_before = {p.name: io.read_frame(p) for p in (box / "out" / "frames").iterdir()}
        code = cli.main(["revert", str(box / "out"), "--ids", ",".join(map(str, ids))])
        assert code in (0, 1)
        event(f"{kind}: exit {code}")
        assert snapshot(Path(tmp), skip=box / "out") == before_rest, f"{kind}: a write outside the output folder"
        if code == 1:
            assert snapshot(box / "out") == before_out, f"{kind}: a refused revert changed the output"
            return
        # Accepted: exactly the named fixes' pixels are the scans', all else as before.
        final = json.loads(path.read_text())
        by_id = {f["id"]: f for f in final["fixes"]}
        expect = {name: img.copy() for name, img in frames_before.items()}
        for i in ids:
            f = by_id[i]
            assert f["reverted"] is True
            scan = io.read_frame(box / "scans" / f["file"])
            for y, x0, x1 in f["runs"]:
                expect[f["file"]][y, x0:x1] = scan[y, x0:x1]
        for name, img in expect.items():
            np.testing.assert_array_equal(io.read_frame(box / "out" / "frames" / name), img)
