"""Fills for never-seen pixels: classical, PatchMatch texture, the network, and training."""

import subprocess
import sys

import numpy as np
import pytest

import hybridinpaint
from hybridinpaint.completion import hallucinate
from hybridinpaint.completion.pipeline import HALLUCINATED, PATCH, SPATIAL


def stripes(h=48, w=64, period=6):
    xx = np.arange(w)[None, :].repeat(h, 0)
    g = (0.2 + 0.6 * ((xx // (period // 2)) % 2)).astype(np.float32)
    return np.stack([g, g * 0.8, 1 - g], -1)


def hole_box(h=48, w=64):
    m = np.zeros((h, w), bool)
    m[18:30, 24:40] = True
    return m


@pytest.mark.parametrize("how", ["telea", "ns", "fsr", "patch"])
def test_fills_change_only_the_hole(how):
    img, hole = stripes(), hole_box()
    src = img.copy()
    src[hole] = 0.0
    out, _, _ = hallucinate.fill(src, hole, how, backend="cpu")
    np.testing.assert_array_equal(out[~hole], src[~hole])
    assert np.isfinite(out).all() and (out >= 0).all() and (out <= 1).all()
    np.testing.assert_array_equal(src[hole], 0.0)  # the input is not modified


def test_patch_fill_copies_texture_that_smooth_fills_blur():
    img, hole = stripes(), hole_box()
    src = img.copy()
    src[hole] = 0.0
    patch, nnf, _ = hallucinate.fill(src, hole, "patch", backend="cpu")
    fsr, _, _ = hallucinate.fill(src, hole, "fsr", backend="cpu")
    err = lambda a: float(np.abs(a - img)[hole].mean())  # noqa: E731
    assert err(patch) < 0.5 * err(fsr)
    # Every hole pixel names a source patch centre on known pixels of the frame.
    ys, xs = np.nonzero(hole)
    sy, sx = nnf[ys, xs, 1], nnf[ys, xs, 2]
    assert (nnf[ys, xs, 0] == 0).all() and not hole[sy, sx].any()


def test_telea_guided_patch_fill_copies_texture_too():
    # What later key frames use (slivers the first key frame's propagation missed).
    img, hole = stripes(), hole_box()
    src = img.copy()
    src[hole] = 0.0
    patch, nnf, _ = hallucinate.fill(src, hole, "patch", backend="cpu", guide="telea")
    telea, _, _ = hallucinate.fill(src, hole, "telea", backend="cpu")
    err = lambda a: float(np.abs(a - img)[hole].mean())  # noqa: E731
    assert err(patch) < 0.5 * err(telea)
    np.testing.assert_array_equal(patch[~hole], src[~hole])
    ys, xs = np.nonzero(hole)
    assert not hole[nnf[ys, xs, 1], nnf[ys, xs, 2]].any()
    with pytest.raises(ValueError, match="guide"):
        hallucinate.fill(src, hole, "patch", backend="cpu", guide="fast")


def test_inpaint_records_patch_provenance():
    # A static camera and a stationary hole: nothing is ever seen, all is synthesised.
    frames = np.repeat(stripes()[None], 4, 0)
    masks = np.repeat(hole_box()[None], 4, 0)
    res = hybridinpaint.inpaint(frames, masks, hallucinate="patch", backend="cpu", return_result=True)
    assert (res.provenance.method[masks] == PATCH).all()
    np.testing.assert_array_equal(res.frames[~masks], frames[~masks])
    # Still in time: the key frame's synthesis is propagated, not redone per frame.
    np.testing.assert_allclose(res.frames[1:][masks[1:]], np.repeat(res.frames[:1], 3, 0)[masks[1:]], atol=1e-6)


def test_unknown_fill_is_named():
    with pytest.raises(ValueError, match="hallucinate"):
        hybridinpaint.inpaint(np.zeros((2, 8, 8, 3), np.float32), np.ones((8, 8), bool), hallucinate="magic")


def test_classical_fills_do_not_import_torch():
    code = (
        "import sys, numpy as np, hybridinpaint\n"
        "f = np.random.default_rng(0).random((3, 20, 24, 3)).astype(np.float32)\n"
        "m = np.zeros((3, 20, 24), bool); m[:, 5:12, 6:14] = True\n"
        "hybridinpaint.inpaint(f, m, hallucinate='patch', backend='cpu')\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_network_runs_without_torch():
    # The package runs the network's ONNX export with OpenCV's dnn: torch only trains.
    code = (
        "import sys, numpy as np, hybridinpaint\n"
        "f = np.repeat(np.random.default_rng(0).random((1, 40, 48, 3)).astype(np.float32), 3, 0)\n"
        "m = np.zeros((3, 40, 48), bool); m[:, 10:24, 12:30] = True\n"
        "r = hybridinpaint.inpaint(f, m, hallucinate='net', backend='cpu', return_result=True)\n"
        "assert (r.provenance.method[m] == 3).all(), 'the network did not run'\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_onnx_refiner_changes_only_the_hole_and_is_deterministic():
    from hybridinpaint.completion import refiner

    img, hole = stripes(), hole_box()
    src = img.copy()
    alt = hallucinate.classical(src, hole, "telea")
    before = alt.copy()
    out = refiner.refine(src, alt, hole)
    np.testing.assert_array_equal(alt, before)  # the caller's arrays are left alone
    np.testing.assert_array_equal(out[~hole], src[~hole])
    assert np.isfinite(out).all() and (out >= 0).all() and (out <= 1).all()
    assert not np.array_equal(out[hole], alt[hole])  # the trained network does correct the fill
    np.testing.assert_array_equal(refiner.refine(src, alt, hole), out)
    assert refiner.first_fill() == "telea"


def test_doctor_says_whether_the_network_runs():
    import io

    from hybridinpaint.interfaces import doctor

    out = io.StringIO()
    assert doctor._network(lambda line: print(line, file=out))
    assert "runs with OpenCV" in out.getvalue()


def test_bad_onnx_models_are_refused_clearly(tmp_path):
    from hybridinpaint.completion import refiner

    img, hole = stripes(), hole_box()
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        refiner.refine(img, img, hole, weights=tmp_path / "missing.onnx")
    with pytest.raises(ValueError, match="weights.*model.bin"):
        refiner.refine(img, img, hole, weights=tmp_path / "model.bin")
    bare = tmp_path / "bare.onnx"
    bare.write_bytes(refiner.default_model().read_bytes())
    with pytest.raises(ValueError, match="bare.json"):  # which fill it corrects is not known
        refiner.first_fill(bare)
    bad = tmp_path / "corrupt.onnx"
    bad.write_bytes(b"not a model")
    (tmp_path / "corrupt.json").write_text('{"first": "telea"}')
    with pytest.raises(ValueError, match="corrupt.onnx"):
        refiner.refine(img, img, hole, weights=bad)
    (tmp_path / "corrupt.json").write_text('{"first": "blur"}')
    with pytest.raises(ValueError, match="first"):
        refiner.first_fill(bad)


# --- the network ----------------------------------------------------------

torch = pytest.importorskip("torch")


def test_shipped_weights_load_and_refine_only_the_hole():
    from hybridinpaint.completion import net

    path = net.default_weights()
    assert path.is_file() and path.stat().st_size <= 5 * 1024 * 1024
    blob = torch.load(path, weights_only=True)
    assert all(v.dtype == torch.float16 for v in blob["state_dict"].values())
    img, hole = stripes(), hole_box()
    guide = hallucinate.classical(img, hole, "fsr")
    out = net.refine(guide, hallucinate.classical(img, hole, "telea"), hole)
    np.testing.assert_array_equal(out[~hole], guide[~hole])
    assert np.isfinite(out).all() and (out >= 0).all() and (out <= 1).all()


@pytest.mark.parametrize("shape", [(48, 64), (37, 51), (240, 432)])
def test_shipped_onnx_export_is_the_shipped_weights(shape):
    from hybridinpaint.completion import net, refiner

    rng = np.random.default_rng(sum(shape))
    img = rng.random(shape + (3,)).astype(np.float32)
    hole = rng.random(shape) > 0.6
    alt = hallucinate.classical(img, hole, "telea")
    np.testing.assert_allclose(refiner.refine(img, alt, hole), net.refine(img, alt, hole), atol=1e-5)
    assert refiner.first_fill() == net.load().first


def test_untrained_network_is_the_identity_on_its_input():
    from hybridinpaint.completion.net import RefineNet

    netw = RefineNet().eval()
    x = torch.rand(1, 3, 24, 32)
    m = (torch.rand(1, 1, 24, 32) > 0.7).float()
    with torch.inference_mode():
        torch.testing.assert_close(netw(x, torch.rand(1, 3, 24, 32), m), x)


def test_net_fill_in_the_pipeline_marks_hallucinated_pixels():
    frames = np.repeat(stripes()[None], 3, 0)
    masks = np.repeat(hole_box()[None], 3, 0)
    res = hybridinpaint.inpaint(frames, masks, hallucinate="net", backend="cpu", return_result=True)
    assert (res.provenance.method[masks] == HALLUCINATED).all()
    assert not (res.provenance.method[masks] == SPATIAL).any()


def test_bad_weight_files_are_refused_clearly(tmp_path):
    from hybridinpaint.completion import net

    with pytest.raises(FileNotFoundError, match="missing.pt"):
        net.load(tmp_path / "missing.pt")
    bad = tmp_path / "corrupt.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="corrupt.pt"):
        net.load(bad)
    # A pickle that would run code when unpickled is refused, not executed.
    evil = tmp_path / "evil.pt"
    torch.save({"state_dict": {}, "payload": Exploit()}, evil)
    with pytest.raises(ValueError, match="evil.pt"):
        net.load(evil)


class Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


def _photos(folder, seed):
    """Two small random photos in ``folder`` (a training set for a few steps)."""
    import cv2

    folder.mkdir()
    rng = np.random.default_rng(seed)
    for k in range(2):
        cv2.imwrite(str(folder / f"p{k}.png"), (rng.random((64, 80, 3)) * 255).astype(np.uint8))
    return folder


def test_training_checkpoints_resumes_and_exports(tmp_path):
    from hybridinpaint.completion import net, train

    photos = _photos(tmp_path / "photos", 0)
    run = tmp_path / "run"
    ck = train.train(photos, run, minutes=0.05, batch=2, crop=32, every=1e9)
    first = torch.load(ck, weights_only=True)
    assert first["step"] >= 1
    with pytest.raises(FileExistsError, match="resume"):
        train.train(photos, run, minutes=0.05, batch=2, crop=32)
    again = torch.load(train.train(photos, run, minutes=0.1, batch=2, crop=32, resume=True), weights_only=True)
    assert again["step"] > first["step"]
    out = train.export(ck, tmp_path / "w.pt")
    netw = net.load(out)
    assert isinstance(netw, net.RefineNet)
    # The export also writes what the package runs: the same network as ONNX.
    from hybridinpaint.completion import refiner

    img = np.random.default_rng(2).random((24, 40, 3)).astype(np.float32)
    hole = np.zeros((24, 40), bool)
    hole[6:18, 10:30] = True
    onnx = tmp_path / "w.onnx"
    assert refiner.first_fill(onnx) == "fsr" == refiner.first_fill(out)
    np.testing.assert_allclose(
        refiner.refine(img, img[::-1].copy(), hole, weights=onnx),
        net.refine(img, img[::-1].copy(), hole, weights=out),
        atol=1e-5,
    )
    assert (run / "log.tsv").read_text().count("\n") == again["step"]


def test_telea_network_trains_with_batch_workers_and_refines_telea(tmp_path):
    # The GPU-machine recipe (no FSR there): the network corrects TELEA, batches drawn in processes.
    from hybridinpaint.completion import net, train

    photos = _photos(tmp_path / "photos", 1)
    rng = np.random.default_rng(1)
    ck = train.train(photos, tmp_path / "run", minutes=0.1, batch=2, crop=32, first="telea", workers=1, device="cpu")
    blob = torch.load(ck, weights_only=True)
    assert blob["step"] >= 1 and blob["config"]["first"] == "telea"
    model = net.load(train.export(ck, tmp_path / "w.pt"))
    assert model.first == "telea"
    # Such a network refines the TELEA fill and ignores the FSR one.
    img = rng.random((24, 32, 3)).astype(np.float32)
    hole = np.zeros((24, 32), bool)
    hole[8:16, 10:20] = True
    a = net.refine(img, img, hole, weights=tmp_path / "w.pt")
    b = net.refine(np.zeros_like(img), img, hole, weights=tmp_path / "w.pt")
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="first"):
        train.train(photos, tmp_path / "other", minutes=0.01, first="ns")


def test_masks_cover_the_requested_range():
    from hybridinpaint.completion import train

    rng = np.random.default_rng(1)
    for _ in range(20):
        m = train.random_mask(rng, 64, 64)
        assert 0.01 <= m.mean() <= 0.35
