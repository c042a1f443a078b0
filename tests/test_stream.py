"""Chunked, resumable, distributed inpainting of files: ``hybridinpaint inpaint`` and ``inpaint_file``."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import hybridinpaint
from hybridinpaint.interfaces import cli
from hybridinpaint.runs import io, media, stream

OPTS = {"backend": "cpu", "hallucinate": "telea"}


def panning(t=20, h=40, w=64, speed=2, seed=0):
    """A blurred random scene panning right (uint8 RGB) and a fixed box hole."""
    rng = np.random.default_rng(seed)
    scene = cv2.GaussianBlur((rng.random((h, w + speed * t, 3)) * 255).astype(np.uint8), (0, 0), 1.2)
    frames = np.stack([scene[:, speed * k : speed * k + w] for k in range(t)])
    hole = np.zeros((h, w), bool)
    hole[14:24, 24:36] = True
    return frames, hole


def write_folder(folder, frames):
    for k, f in enumerate(frames):
        io.write_frame(folder / f"f{k:03d}.png", f)
    return folder


@pytest.fixture
def clip(tmp_path):
    frames, hole = panning()
    write_folder(tmp_path / "in", frames)
    io.write_frame(tmp_path / "mask.png", hole.astype(np.uint8) * 255)
    return tmp_path / "in", tmp_path / "mask.png", frames, hole


def test_plan_chunks_cover_the_video_with_the_overlap():
    for count in (1, 7, 8, 9, 20, 33):
        plan = stream.plan_chunks(count, 8, 2)
        assert plan[0][0] == 0 and plan[-1][1] == count
        for (a0, a1), (b0, b1) in zip(plan, plan[1:]):
            assert a1 - b0 == 2 and a1 - a0 == 8 and b1 > a1


@given(
    count=st.integers(1, 40), chunk=st.integers(2, 12), overlap=st.integers(0, 5), dtype=st.sampled_from(["u1", "f4"])
)
@example(count=9, chunk=8, overlap=2, dtype="u1")  # a last chunk holding one new frame
def test_joiner_covers_every_frame_once_and_never_blends_known_pixels(count, chunk, overlap, dtype):
    if 2 * overlap >= chunk:
        overlap = (chunk - 1) // 2
    rng = np.random.default_rng(count * 100 + chunk)
    video = (rng.random((count, 3, 4)) * 200).astype(dtype)
    hole = np.zeros((count, 3, 4), bool)
    hole[:, 1, 1:3] = True
    plan = stream.plan_chunks(count, chunk, overlap)
    joiner = stream._Joiner(overlap)
    got = []
    for i, (a, b) in enumerate(plan):
        fill = video[a:b].copy()
        fill[hole[a:b]] = 10 * (i + 1)  # each chunk fills its holes with its own value
        result = {
            "frames": fill,
            "method": hole[a:b].astype(np.uint8),
            "source_frame": np.full((b - a, 3, 4), i, np.int32),
            "confidence": np.ones((b - a, 3, 4), np.float32),
            "hole": hole[a:b],
        }
        got += list(joiner.add(a, b, result, last=i == len(plan) - 1))
    assert [r.index for r in got] == list(range(count))
    out = np.stack([r.frame for r in got])
    np.testing.assert_array_equal(out[~hole], video[~hole])
    # Hole values move monotonically from one chunk's fill to the next.
    values = out[:, 1, 1].astype(float)
    assert np.all(np.diff(values) >= 0) and values[0] == 10 and values[-1] == 10 * len(plan)


def test_chunks_join_in_order_with_cross_faded_overlaps():
    frames, hole = panning(t=14)
    got = list(hybridinpaint.inpaint_chunks(iter(frames), hole, chunk=8, overlap=2, **OPTS))
    assert [r.index for r in got] == list(range(14))
    out = np.stack([r.frame for r in got])
    # Known pixels come back bit-identical; the caller's frames are untouched.
    np.testing.assert_array_equal(out[:, ~hole], frames[:, ~hole])
    # Outside the overlap a frame is its chunk's own fill.
    first = hybridinpaint.inpaint(frames[:8], hole, **OPTS)
    second = hybridinpaint.inpaint(frames[6:14], hole, **OPTS)
    np.testing.assert_array_equal(out[:6], first[:6])
    np.testing.assert_array_equal(out[8:], second[2:])
    # In the overlap, each hole pixel lies between the two chunks' fills.
    for k in (6, 7):
        lo = np.minimum(first[k], second[k - 6]).astype(int)
        hi = np.maximum(first[k], second[k - 6]).astype(int)
        assert np.all((out[k] >= lo) & (out[k] <= hi))
    assert got[3].method[hole].min() > 0 and got[3].method[~hole].max() == 0
    # Per-frame masks, as a (T, H, W) array or any iterable, give the same.
    per_frame = np.repeat(hole[None], 14, 0)
    for masks in (per_frame, iter(list(per_frame))):
        again = [r.frame for r in hybridinpaint.inpaint_chunks(frames, masks, chunk=8, overlap=2, **OPTS)]
        np.testing.assert_array_equal(np.stack(again), out)


def test_bad_chunking_is_refused():
    frames, hole = panning(t=4)
    with pytest.raises(ValueError, match="overlap"):
        list(hybridinpaint.inpaint_chunks(frames, hole, chunk=8, overlap=4, **OPTS))
    with pytest.raises(ValueError, match="chunk"):
        list(hybridinpaint.inpaint_chunks(frames, hole, chunk=1, overlap=0, **OPTS))


def test_folder_to_folder_and_provenance(clip, tmp_path):
    src, mask, frames, hole = clip
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    out = tmp_path / "out"
    summary = hybridinpaint.inpaint_file(src, mask, out, chunk=8, overlap=2, provenance=tmp_path / "prov", **OPTS)
    assert summary["frames"] == 20 and summary["chunks"] == 3 and sum(summary["pixels"].values()) == hole.sum() * 20
    got, names = io.read_sequence(out)
    assert [p.name for p in names] == sorted(before)
    np.testing.assert_array_equal(got[:, ~hole], frames[:, ~hole])
    assert len(list((tmp_path / "prov").iterdir())) == 20
    # The same as the in-memory iterator.
    ref = np.stack([r.frame for r in hybridinpaint.inpaint_chunks(frames, hole, chunk=8, overlap=2, **OPTS)])
    np.testing.assert_array_equal(got, ref)
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before


def test_video_in_and_out_lossless(tmp_path):
    frames, hole = panning(t=10)
    media.write_video(tmp_path / "in.mkv", iter(frames), 12.5, frames.shape[1:])
    masks = np.repeat(hole[None, ..., None], 10, 0).astype(np.uint8).repeat(3, -1) * 255
    media.write_video(tmp_path / "mask.mkv", iter(masks), 12.5, masks.shape[1:])
    out = tmp_path / "out.mkv"
    hybridinpaint.inpaint_file(tmp_path / "in.mkv", tmp_path / "mask.mkv", out, chunk=6, overlap=2, **OPTS)
    res = media.FrameSource(out)
    assert res.count == 10 and res.fps == pytest.approx(12.5)
    got = np.stack(list(res.frames()))
    np.testing.assert_array_equal(got[:, ~hole], frames[:, ~hole])
    assert not (tmp_path / "out.mkv.parts").exists()
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's owner-only mode


def test_sixteen_bit_tiff_folder_keeps_its_depth_and_names(tmp_path):
    import tifffile

    frames, hole = panning(t=6)
    deep = frames.astype(np.uint16) * 257 + 3
    (tmp_path / "scans").mkdir()
    for k, f in enumerate(deep):
        tifffile.imwrite(tmp_path / "scans" / f"scan_{k}.tif", f, photometric="rgb")
    io.write_frame(tmp_path / "mask.png", hole.astype(np.uint8))  # 0/1 masks work too
    hybridinpaint.inpaint_file(tmp_path / "scans", tmp_path / "mask.png", tmp_path / "out", **OPTS)
    got, names = io.read_sequence(tmp_path / "out")
    assert got.dtype == np.uint16 and [p.name for p in names] == [f"scan_{k}.tif" for k in range(6)]
    np.testing.assert_array_equal(got[:, ~hole], deep[:, ~hole])


def test_bad_inputs_give_clear_errors(clip, tmp_path, capsys):
    src, mask, frames, hole = clip
    run = lambda *a: cli.main(["inpaint", *map(str, a), "--backend", "cpu", "--quiet"])  # noqa: E731
    assert run(tmp_path / "nope", "--mask", mask, "-o", tmp_path / "o1") == 1
    assert "input not found" in capsys.readouterr().err
    small = tmp_path / "small.png"
    io.write_frame(small, np.zeros((10, 10), np.uint8))
    assert run(src, "--mask", small, "-o", tmp_path / "o2") == 1
    assert "10x10" in capsys.readouterr().err
    write_folder(tmp_path / "few", np.zeros((3, 40, 64), np.uint8))
    assert run(src, "--mask", tmp_path / "few", "-o", tmp_path / "o3") == 1
    assert "holds 3 frames, the input 20" in capsys.readouterr().err
    assert run(src, "--mask", mask, "-o", src) == 1
    assert "must not be, contain or lie inside input" in capsys.readouterr().err
    assert run(src, "--mask", mask, "-o", tmp_path / "o7", "--provenance", tmp_path / "o7") == 1
    assert "folder of their own" in capsys.readouterr().err
    (tmp_path / "clip.xyz").write_bytes(b"")
    assert run(tmp_path / "clip.xyz", "--mask", mask, "-o", tmp_path / "o4") == 1
    assert "neither a frame folder nor a video" in capsys.readouterr().err
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.txt").write_text("mine")
    assert run(src, "--mask", mask, "-o", tmp_path / "busy") == 1
    assert "refusing to write into it" in capsys.readouterr().err
    assert run(src, "--mask", mask, "-o", tmp_path / "busy", "--overwrite") == 1
    assert "refusing to delete it" in capsys.readouterr().err
    assert (tmp_path / "busy" / "thesis.txt").read_text() == "mine"
    assert run(src, "--mask", mask, "-o", tmp_path / "o5", "--resume") == 1
    assert "no run to continue" in capsys.readouterr().err
    # A corrupt or foreign manifest is refused.
    for text, message in (("{not json", "corrupt"), ('{"schema": "other"}', "not a hybridinpaint run record")):
        (tmp_path / "m").mkdir(exist_ok=True)
        (tmp_path / "m" / stream.MANIFEST).write_text(text)
        assert run(src, "--mask", mask, "-o", tmp_path / "m") == 1
        assert message in capsys.readouterr().err
    # Different settings on the same output.
    assert run(src, "--mask", mask, "-o", tmp_path / "o6", "--chunk", "8", "--overlap", "2") == 0
    capsys.readouterr()
    assert run(src, "--mask", mask, "-o", tmp_path / "o6", "--chunk", "10", "--overlap", "2") == 1
    assert "different options.chunk, plan" in capsys.readouterr().err
    assert run(src, "--mask", mask, "-o", tmp_path / "o6", "--chunk", "10", "--overlap", "2", "--overwrite") == 0
    assert json.loads((tmp_path / "o6" / stream.MANIFEST).read_text())["options"]["chunk"] == 10


def test_empty_mask_copies_the_input_through(clip, tmp_path, capsys):
    src, _, frames, _ = clip
    empty = tmp_path / "empty.png"
    io.write_frame(empty, np.zeros(frames.shape[1:3], np.uint8))
    assert cli.main(["inpaint", str(src), "--mask", str(empty), "-o", str(tmp_path / "o"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "mask" in captured.err and "empty" in captured.err and "20 frames" in captured.out
    np.testing.assert_array_equal(io.read_sequence(tmp_path / "o")[0], frames)


def _command(src, mask, out):
    return [sys.executable, "-m", "hybridinpaint", "inpaint", str(src), "--mask", str(mask), "-o", str(out),
            "--chunk", "6", "--overlap", "2", "--hallucinate", "telea", "--backend", "cpu", "--quiet"]  # fmt: skip


def test_killed_run_resumes_to_the_same_output(tmp_path):
    frames, hole = panning(t=40)
    src = write_folder(tmp_path / "in", frames)
    mask = tmp_path / "mask.png"
    io.write_frame(mask, hole.astype(np.uint8) * 255)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen(_command(src, mask, out), env=env, stderr=subprocess.PIPE)
    manifest = out / stream.MANIFEST
    deadline = time.monotonic() + 300
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            done = json.loads(manifest.read_text())["done"]
        except (OSError, ValueError, KeyError):
            done = 0
        if done >= 2:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    plan = stream.plan_chunks(40, 6, 2)
    recorded = json.loads(manifest.read_text())["done"]
    assert 2 <= recorded < len(plan)
    # What a kill in the middle of a write leaves (temp files) is cleared up.
    (out / ".tmp-half-written.png").write_bytes(b"\x89PNG")
    (out / ".hybridinpaint-overlap-99.npz.tmp.npz").write_bytes(b"PK")
    # Re-run: the recorded chunks are skipped, the rest done.
    assert cli.main(_command(src, mask, out)[3:]) == 0
    # An uninterrupted run gives the same files.
    assert cli.main(_command(src, mask, tmp_path / "ref")[3:]) == 0
    for k in range(40):
        name = f"f{k:03d}.png"
        np.testing.assert_array_equal(io.read_frame(out / name), io.read_frame(tmp_path / "ref" / name))
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in (tmp_path / "ref").iterdir())


def test_local_dask_cluster_matches_one_process(clip, tmp_path):
    pytest.importorskip("dask.distributed", reason="needs the dask extra")
    src, _, frames, hole = clip
    # Per-frame masks: the hole drifts.
    masks = write_folder(tmp_path / "masks", np.stack([np.roll(hole, k, axis=1) for k in range(20)]) * np.uint8(255))
    one = hybridinpaint.inpaint_file(src, masks, tmp_path / "one", chunk=8, overlap=2, **OPTS)
    two = hybridinpaint.inpaint_file(src, masks, tmp_path / "two", chunk=8, overlap=2, workers=2, **OPTS)
    assert one["pixels"] == two["pixels"]
    np.testing.assert_array_equal(io.read_sequence(tmp_path / "one")[0], io.read_sequence(tmp_path / "two")[0])


@pytest.mark.parametrize("per_frame", [False, True])
def test_preparing_the_next_chunk_meanwhile_changes_nothing(tmp_path, per_frame):
    """[stream] OVERLAP: chunk k + 1's flows made in a second thread while chunk k fills; the same bits."""
    frames, hole = panning(t=20)
    masks = np.repeat(hole[None], 20, 0)
    if per_frame:
        masks[8:14] = False  # a chunk with nothing to fill, between two with holes
    runs = {}
    for mode in ("never", "always"):
        cfg = {"stream": {"OVERLAP": mode}}
        got, preparing = [], set()
        for r in hybridinpaint.inpaint_chunks(iter(frames), masks, chunk=6, overlap=1, settings=cfg, **OPTS):
            got.append(r)
            preparing.add(any(t.name.startswith("hybridinpaint-prepare") for t in threading.enumerate()))
        assert (True in preparing) == (mode == "always")  # the last chunk's frames come after the thread ended
        runs[mode] = {name: np.stack([getattr(r, name) for r in got]) for name in ("frame", "method", "source_frame")}
    assert not any(t.name.startswith("hybridinpaint-prepare") for t in threading.enumerate())
    for name, a in runs["never"].items():
        np.testing.assert_array_equal(runs["always"][name], a, err_msg=name)
    assert runs["never"]["method"][:6][masks[:6]].min() > 0
    mask_dir = write_folder(tmp_path / "masks", masks.astype(np.uint8) * 255)
    src = write_folder(tmp_path / "in", frames)
    for mode in ("never", "always"):
        cfg = {"stream": {"OVERLAP": mode}}
        hybridinpaint.inpaint_file(src, mask_dir, tmp_path / mode, chunk=6, overlap=1, settings=cfg, **OPTS)
    np.testing.assert_array_equal(io.read_sequence(tmp_path / "always")[0], io.read_sequence(tmp_path / "never")[0])


def test_an_error_while_preparing_ahead_reaches_the_caller():
    frames, hole = panning(t=12)
    masks = np.repeat(hole[None], 12, 0)
    masks[9] = True  # the second chunk cannot be filled: its preparation fails in the other thread
    cfg = {"stream": {"OVERLAP": "always"}}
    with pytest.raises(ValueError, match="masks cover every pixel of frame 3"):
        list(hybridinpaint.inpaint_chunks(iter(frames), masks, chunk=6, overlap=0, settings=cfg, **OPTS))
