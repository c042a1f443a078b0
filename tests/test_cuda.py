"""Every CUDA kernel against the CPU kernel and the numpy reference.

On a machine without a GPU these run under Numba's CUDA simulator (set up
in conftest.py) with 4 threads per block (4x4 in 2-D), so the sizes below
cover a single partial block, an exact block and sizes crossing block
edges. With ``NUMBA_ENABLE_CUDASIM=0`` on a GPU machine they run on the
device.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fill_cases
import reference as ref
import strategies as hst
from hybridinpaint.kernels import (
    HoleList,
    Placement,
    available_backends,
    cuda_simulated,
    diffuse,
    gather_holes,
    on_device,
    patchmatch,
    propagate_holes,
    propagate_sources,
    sample_known,
    sweep_start_into,
    unfilled_per_frame,
    vote,
    warp_backward,
    warp_backward_frames,
    warp_forward,
)

pytest.importorskip("numba.cuda", reason="numba-cuda (the 'cuda' extra) is not installed")
pytestmark = pytest.mark.skipif("cuda" not in available_backends(), reason="no CUDA device or simulator")

SIZES = [(3, 2), (4, 4), (5, 7)]


def _flow(h, w, seed):
    rng = np.random.default_rng(seed)
    return ((rng.random((h, w, 2)) - 0.5) * 3).astype(np.float32)


@pytest.mark.parametrize("h, w", SIZES)
def test_warp_backward(h, w):
    rng = np.random.default_rng(h * 10 + w)
    img = rng.random((h, w, 3)).astype(np.float32)
    flow = _flow(h, w, 1)
    cpu = warp_backward(img, flow, backend="cpu")
    gpu = warp_backward(img, flow, backend="cuda")
    exp, exp_valid = ref.warp_backward(img, flow)
    np.testing.assert_array_equal(gpu[1], cpu[1])
    np.testing.assert_array_equal(gpu[1], exp_valid)
    np.testing.assert_allclose(gpu[0], cpu[0], atol=1e-6)
    np.testing.assert_allclose(gpu[0], exp, atol=1e-5)


# The simulator runs each thread in Python: few, tiny examples (the "sim" profile).
@settings(settings.get_profile("sim"))
@given(hst.images(max_side=6), st.data())
def test_warp_backward_property(img, data):
    h, w = img.shape[:2]
    flow = data.draw(hst.smooth_flows(h, w))
    gpu = warp_backward(img, flow, backend="cuda")
    cpu = warp_backward(img, flow, backend="cpu")
    exp, exp_valid = ref.warp_backward(img, flow)
    np.testing.assert_array_equal(gpu[1], cpu[1])
    np.testing.assert_array_equal(gpu[1], exp_valid)
    np.testing.assert_allclose(gpu[0], cpu[0], atol=1e-6)
    np.testing.assert_allclose(gpu[0], exp, atol=1e-4)


@settings(settings.get_profile("sim"))
@given(hst.images(min_side=2, max_side=6), st.data())
def test_diffuse_property(img, data):
    h, w = img.shape[:2]
    unk = data.draw(hst.masks(h, w))
    gpu = diffuse(img, unk, tol=1e-6, backend="cuda")
    cpu = diffuse(img, unk, tol=1e-6, backend="cpu")
    np.testing.assert_array_equal(gpu[~unk], img[~unk])
    np.testing.assert_allclose(gpu, cpu, atol=1e-4)
    if (~unk).any():  # the maximum principle
        assert gpu.min() >= img[~unk].min() - 1e-4 and gpu.max() <= img[~unk].max() + 1e-4


@pytest.mark.parametrize("h, w", SIZES)
def test_warp_forward(h, w):
    rng = np.random.default_rng(h * 10 + w)
    img = rng.random((h, w, 2)).astype(np.float32)
    flow = _flow(h, w, 2)
    cpu = warp_forward(img, flow, backend="cpu")
    gpu = warp_forward(img, flow, backend="cuda")
    exp, exp_w = ref.warp_forward(img, flow)
    np.testing.assert_allclose(gpu[1], cpu[1], atol=1e-6)
    np.testing.assert_allclose(gpu[1], exp_w, atol=1e-5)
    np.testing.assert_allclose(gpu[0], cpu[0], atol=1e-5)
    np.testing.assert_allclose(gpu[0], exp, atol=1e-4)


@pytest.mark.parametrize("h, w", [(4, 5), (12, 13)])
def test_diffuse(h, w):
    rng = np.random.default_rng(h + w)
    field = rng.random((h, w, 2)).astype(np.float32)
    unk = np.zeros((h, w), bool)
    unk[1 : h - 1, 1 : w - 2] = True  # 12x13 gives 110 unknowns: two pyramid levels
    weights = rng.uniform(0.2, 1.0, (h, w)).astype(np.float32)
    cpu = diffuse(field, unk, weights=weights, tol=1e-6, backend="cpu")
    gpu = diffuse(field, unk, weights=weights, tol=1e-6, backend="cuda")
    exp = ref.diffuse(field, unk, weights)
    np.testing.assert_array_equal(gpu[~unk], field[~unk])
    np.testing.assert_allclose(gpu, cpu, atol=1e-5)
    np.testing.assert_allclose(gpu, exp, atol=1e-4)


@pytest.mark.parametrize("h, w", [(5, 7), (8, 8)])
def test_patchmatch_and_vote(h, w):
    rng = np.random.default_rng(h * w)
    src = rng.random((2, 9, 10, 3)).astype(np.float32)
    valid = np.ones((2, 9, 10), bool)
    valid[1, 4, 4] = False
    target = rng.random((h, w, 3)).astype(np.float32)
    hole = np.zeros((h, w), bool)
    hole[2:4, 2:5] = True
    args = (target, hole, src, valid)
    nnf_c, cost_c = patchmatch(*args, patch=3, iterations=3, seed=9, backend="cpu")
    nnf_g, cost_g = patchmatch(*args, patch=3, iterations=3, seed=9, backend="cuda")
    # Same algorithm, same counter-based random numbers: the same field, unless
    # two candidates tie to the last bit (costs are compared instead there).
    same = (nnf_c == nnf_g).all(axis=2)
    assert same.mean() > 0.9
    np.testing.assert_allclose(cost_g, cost_c, rtol=1e-5, atol=1e-6)
    region = nnf_g[..., 0] >= 0
    weight = (~hole).astype(np.float32)
    ok = ref.valid_centres(valid, 1)
    for y, x in zip(*np.nonzero(region)):
        s, sy, sx = nnf_g[y, x]
        assert ok[s, sy, sx]
        assert cost_g[y, x] == pytest.approx(
            ref.patch_cost(target, weight, src, y, x, s, sy, sx, 1), rel=1e-4, abs=1e-6
        )
    out_c = vote(nnf_c, cost_c, src, hole, patch=3, sigma=0.5, backend="cpu")
    out_g = vote(nnf_c, cost_c, src, hole, patch=3, sigma=0.5, backend="cuda")
    np.testing.assert_allclose(out_g, out_c, atol=1e-6)
    np.testing.assert_allclose(out_g, ref.vote(nnf_c, cost_c, src, hole, 1, 1 / 0.25), atol=1e-5)


@pytest.mark.parametrize("t, h, w", [(3, 4, 5), (4, 5, 7)])
@pytest.mark.parametrize("forward", [True, False])
def test_propagate_sources(t, h, w, forward):
    rng = np.random.default_rng(t * h * w)
    known = rng.random((t, h, w)) > 0.5
    known[0] = known[-1] = True  # somewhere for chains to end
    fwd = 0.3 * _flow(h, w, 3)[None].repeat(t - 1, 0)
    bwd = -fwd + np.float32(0.1)
    step, check = (bwd, fwd) if forward else (fwd, bwd)
    # A few large errors in the check flows break some chains.
    check = check + np.where(rng.random(check.shape) < 0.2, 4.0, 0.0).astype(np.float32)
    cpu = propagate_sources(known, step, check, forward=forward, backend="cpu")
    gpu = propagate_sources(known, step, check, forward=forward, backend="cuda")
    exp = ref.propagate_sources(known, step, check, forward)
    for g, c, e in zip(gpu, cpu, exp):
        np.testing.assert_allclose(g, c, atol=1e-6)
        np.testing.assert_allclose(g, e, atol=1e-4)
    assert ((gpu[0] >= 0) & ~known).any()  # some chains were followed


@pytest.mark.parametrize("n", [1, 4, 9])
def test_sample_known(n):
    rng = np.random.default_rng(n)
    imgs = rng.random((2, 4, 5, 3)).astype(np.float32)
    known = rng.random((2, 4, 5)) > 0.4
    args = (imgs, known, rng.integers(0, 2, n), rng.uniform(-1, 5, n), rng.uniform(-1, 4, n))
    cpu = sample_known(*args, backend="cpu")
    gpu = sample_known(*args, backend="cuda")
    exp = ref.sample_known(*args)
    np.testing.assert_array_equal(gpu[1], cpu[1])
    np.testing.assert_array_equal(gpu[1], exp[1])
    np.testing.assert_allclose(gpu[0], cpu[0], atol=1e-6)
    np.testing.assert_allclose(gpu[0], exp[0], atol=1e-5)


# --- the device-resident fill: stages on placed arrays, and the whole fill --------------------


@pytest.mark.parametrize("seed, c", [(0, 3), (1, 4)])
def test_combine_sources(seed, c):
    case = fill_cases.combine_case(seed, c=c)
    cpu = fill_cases.run_combine(case, "cpu")
    gpu = fill_cases.run_combine(case, "cuda")
    h = case["holes"]
    exp = ref.combine_sources(
        h.ts, h.ys, h.xs, case["filled"], case["forward"], case["backward"], case["images"], case["known"],
        case["gain"], case["n_gain"], case["guessed"], case["decay"], case["work"], case["prov"],
    )  # fmt: skip
    np.testing.assert_array_equal(gpu[2], cpu[2])
    np.testing.assert_array_equal(gpu[2], exp[2])
    # The simulator runs the body's float32 and float64 steps as the CPU build does: equal to the bit
    # (a confidence once came out of float32 there); on a device, fused multiply-adds may round differently.
    tol = 0 if cuda_simulated() else 1e-6
    np.testing.assert_allclose(gpu[0], cpu[0], rtol=0, atol=tol)
    np.testing.assert_allclose(gpu[0], exp[0], atol=1e-5)
    for g, c, e in zip(gpu[1], cpu[1], exp[1]):
        np.testing.assert_allclose(g, c, rtol=0, atol=tol)
        np.testing.assert_allclose(g, e, atol=1e-6)


def test_seam_mismatch_and_correct():
    case = fill_cases.seam_case(5, c=4)
    for k in range(case["hole"].shape[0]):
        cpu = fill_cases.run_seam(case, k, "cpu")
        gpu = fill_cases.run_seam(case, k, "cuda")
        boxed = fill_cases.run_seam(case, k, "cuda", box=(0, 5, 1, 6))  # the hole's box grown by one
        np.testing.assert_array_equal(boxed[1], cpu[1][:, 1:6])
        np.testing.assert_array_equal(boxed[2], cpu[2])
        args = [case[n] for n in ("hole", "source_frame", "source_xy", "images", "known", "gain", "n_gain", "work")]
        exp = ref.seam_mismatch(k, *args, case["seam_max"])
        np.testing.assert_array_equal(gpu[1], cpu[1])
        np.testing.assert_array_equal(gpu[1], exp[1])
        np.testing.assert_allclose(gpu[0], cpu[0], atol=1e-6)
        np.testing.assert_allclose(gpu[0], exp[0], atol=1e-5)
        np.testing.assert_allclose(gpu[2], cpu[2], atol=1e-6)


def test_sweep_stays_on_the_device():
    rng = np.random.default_rng(3)
    t, h, w = 4, 5, 6
    hole = rng.random((t, h, w)) < 0.5
    holes = HoleList(hole)
    fwd = 0.3 * _flow(h, w, 4)[None].repeat(t - 1, 0)
    bwd = -fwd
    state = np.full(holes.size, -1, np.int32), holes.own_positions(), np.zeros(holes.size, np.int32)
    host = propagate_holes(holes, *state, bwd, fwd, forward=True, backend="cpu")
    place = Placement("cuda")
    placed = [place.put(a) for a in state]
    dev = propagate_holes(holes, *placed, place.put(bwd), place.put(fwd), forward=True, backend="cuda")
    assert all(on_device(a) for a in dev)
    for d, c in zip(dev, host):
        np.testing.assert_array_equal(place.get(d), c)
    # The placed start state was copied, not written.
    np.testing.assert_array_equal(place.get(placed[0]), state[0])
    assert (host[0] >= 0).any()


def _panning(t, h, w, seed):
    rng = np.random.default_rng(seed)
    scene = rng.random((h, w + 2 * t, 3)).astype(np.float32)
    return np.stack([scene[:, 2 * k : 2 * k + w] for k in range(t)])


@pytest.mark.parametrize("fill", ["telea", "patch"])
def test_fill_on_the_device_equals_the_cpu(fill):
    """The fill stage (propagation rounds, key frames, seams) from the same flows: bit-identical.

    With ``"patch"`` the key frames' PatchMatch costs may differ in the last
    bit between the two builds (test_patchmatch_and_vote), and on a real
    device fused multiply-adds round differently, so there the fill is
    compared to a tolerance.
    """
    from hybridinpaint.completion import pipeline
    from hybridinpaint.settings import DEFAULT

    if fill == "patch" and not cuda_simulated():
        pytest.skip("on a device PatchMatch may pick other, equally good patches (test_patchmatch_and_vote)")

    video = _panning(4, 20, 22, 1)
    hole = np.zeros((4, 20, 22), bool)
    hole[:, 6:13, 5:14] = True  # the camera pans by 2 px a frame: most of it is seen elsewhere
    hole[2, 2:5, 15:20] = True
    clock = pipeline._Clock(False)
    inp = pipeline._validate(video, hole, "dis", 0, 8, fill, "cpu")
    motion = pipeline._flows(inp, "dis", 8, DEFAULT, clock)
    flows = motion.forward, motion.backward
    gain = pipeline._exposures(inp.work, inp.hole, flows[0], DEFAULT)
    out = {}
    for backend in ("cpu", "cuda"):
        inp = pipeline._validate(video, hole, "dis", 0, 8, fill, backend)
        out[backend] = pipeline._fill(inp, flows, gain, fill, True, DEFAULT, clock)
    (cw, cp), (gw, gp) = out["cpu"].result(), out["cuda"].result()
    assert out["cpu"].key_frames == out["cuda"].key_frames

    def same(a, b):
        # On a device the compiler may fuse a multiply and an add (one rounding instead of two).
        if fill == "telea" and cuda_simulated():
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, atol=1e-5)

    same(gw, cw)
    for name in vars(cp):
        same(getattr(gp, name), getattr(cp, name))
    assert {1} <= set(np.unique(cp.method))  # propagated pixels, besides the key frames' guesses


def test_key_frame_into():
    case = fill_cases.combine_case(8)
    rng = np.random.default_rng(2)
    t, h, w, c = case["work"].shape
    left = (rng.random((h, w)) < 0.5) & (case["holes"].index[2] >= 0)
    guess = rng.random((h, w, c)).astype(np.float32)
    nnf = rng.integers(0, 5, (h, w, 3)).astype(np.int32)
    assert left.any()
    for field in (nnf, None):
        cpu = fill_cases.run_key_frame(case, 2, left, guess, field, 3, "cpu")
        gpu = fill_cases.run_key_frame(case, 2, left, guess, field, 3, "cuda")
        for name in cpu:
            np.testing.assert_array_equal(gpu[name], cpu[name], err_msg=name)


def test_sweep_start_and_unfilled_per_frame():
    rng = np.random.default_rng(4)
    hole = rng.random((5, 3, 4)) < 0.5
    hole[3] = False  # a frame without hole pixels
    holes = HoleList(hole)
    key = np.array([0, 1, 0, 0, 1], np.uint8)
    filled = (rng.random(holes.size) < 0.5).astype(np.uint8)
    exp_start = np.where(key[holes.ts] > 0, holes.ts, -1)
    exp_counts = np.bincount(holes.ts[filled == 0], minlength=5)
    for backend in ("cpu", "cuda"):
        place = Placement(backend)
        start = place.empty(holes.size, np.int32)
        sweep_start_into(place, holes, place.put(key), start)
        np.testing.assert_array_equal(place.get(start), exp_start)
        np.testing.assert_array_equal(unfilled_per_frame(place, holes, place.put(filled)), exp_counts)


def test_gather_holes():
    rng = np.random.default_rng(6)
    t, h, w, c = 3, 4, 5, 2
    hole = rng.random((t, h, w)) < 0.4
    holes = HoleList(hole)
    work = rng.random((t, h, w, c)).astype(np.float32)
    for backend in ("cpu", "cuda"):
        place = Placement(backend)
        got = gather_holes(place, holes, place.put(work))
        np.testing.assert_array_equal(got, work[hole])  # numpy's boolean indexing: the same C order


@pytest.mark.parametrize("fill, grey", [("telea", False), ("patch", False), ("telea", True)])
def test_inpaint_on_the_device(fill, grey):
    """A whole run with backend="cuda" (the solves on the host, to keep the simulator quick)."""
    import hybridinpaint

    rng = np.random.default_rng(2)
    video = (255 * _panning(4, 18, 20, 3)).astype(np.uint8)
    if grey:  # (T, H, W): a found bug, the channel axis added with stride 0 could not go to the device
        video = np.ascontiguousarray(video[..., 1])
    hole = np.zeros((4, 18, 20), bool)
    hole[:, 5:11, 6:13] = True  # stationary: key frames, propagation, seams
    hole[1, 1:4, 14:18] = rng.random((3, 4)) < 0.7
    cfg = {"pipeline": {"FLOW_ON_HOST": True, "SEAMS_ON_HOST": True}}
    cpu = hybridinpaint.inpaint(video, hole, backend="cpu", hallucinate=fill, settings=cfg, return_result=True)
    gpu = hybridinpaint.inpaint(video, hole, backend="cuda", hallucinate=fill, settings=cfg, return_result=True)
    np.testing.assert_array_equal(gpu.frames[~hole], video[~hole])
    assert all(type(a) is np.ndarray for a in (gpu.frames, *vars(gpu.provenance).values()))
    if cuda_simulated():
        np.testing.assert_array_equal(gpu.frames, cpu.frames)
        for name in vars(cpu.provenance):
            np.testing.assert_array_equal(getattr(gpu.provenance, name), getattr(cpu.provenance, name))
    else:  # fused multiply-adds, and PatchMatch's ties, may differ on a device
        assert np.abs(gpu.frames.astype(int) - cpu.frames.astype(int))[hole].mean() < 8
    assert cpu.stats["pixels"]["propagated along flow"] > 0 and len(cpu.stats["key_frames"]) >= 2


def test_chunks_prepared_ahead_while_the_device_fills():
    """[stream] OVERLAP="device": the next chunk's flows in a second thread during a CUDA fill; the CPU's bits."""
    import hybridinpaint

    video = (255 * _panning(10, 16, 18, 3)).astype(np.uint8)
    hole = np.zeros((16, 18), bool)
    hole[5:10, 6:12] = True
    cfg = {"pipeline": {"FLOW_ON_HOST": True, "SEAMS_ON_HOST": True}, "stream": {"OVERLAP": "device"}}
    out = {}
    for backend in ("cpu", "cuda"):
        got = hybridinpaint.inpaint_chunks(
            iter(video), hole, chunk=5, overlap=1, backend=backend, hallucinate="telea", settings=cfg
        )
        out[backend] = np.stack([r.frame for r in got])
    np.testing.assert_array_equal(out["cuda"][:, ~hole], video[:, ~hole])
    if cuda_simulated():
        np.testing.assert_array_equal(out["cuda"], out["cpu"])
    else:
        assert np.abs(out["cuda"].astype(int) - out["cpu"].astype(int))[:, hole].mean() < 8


def test_warp_backward_frames():
    rng = np.random.default_rng(12)
    imgs = rng.random((3, 5, 7, 2)).astype(np.float32)
    flows = ((rng.random((3, 5, 7, 2)) - 0.5) * 4).astype(np.float32)
    cpu = warp_backward_frames(imgs, flows, backend="cpu")
    gpu = warp_backward_frames(imgs, flows, backend="cuda")
    np.testing.assert_array_equal(gpu[1], cpu[1])
    np.testing.assert_allclose(gpu[0], cpu[0], atol=1e-6)
    for k in range(3):
        np.testing.assert_allclose(gpu[0][k], ref.warp_backward(imgs[k], flows[k])[0], atol=1e-5)
