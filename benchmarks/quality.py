"""Video-completion quality on the shared clips, against per-frame OpenCV TELEA and NS.

Each clip is resized to 432x240 and cut to 40 frames. Two synthetic hole
kinds, with the original frames as ground truth: a stationary blob (~12% of
the frame, the same in every frame) and a moving blob (~8%, moving 1.5-4 px
per frame). Reports hole PSNR (MSE pooled over all hole pixels), full-frame
PSNR and SSIM (per-frame means, the papers' convention), flow warping error
in the hole, pixels changed outside the hole, and seconds per frame. Writes
the table into RESULTS.md between its ``quality`` markers.

A clip named ``still-jitter:NAME`` is NAME's first frame as a still shot
with film jitter, flicker and grain (:func:`still_with_jitter`): where
carried motion once mistook the jitter for an object's (issue 28).
``still-weave:NAME`` bends each frame as well, and lights it unevenly
(:func:`still_with_weave`): a scan's local distortion.

    python benchmarks/quality.py [--clips a,b] [--frames 40] [--kinds stationary,moving] [--no-write]
        [--flow-oracle hole|all|ring|laplace] [--flow dis|farneback|dualtvl1|rlof] [--fill patch|fsr|net|telea|ns]

``--flow-oracle`` measures what the flow is worth: the pipeline's completed
flows are replaced by the DIS flow of the unmasked truth, inside the holes
only (``hole``) or everywhere (``all``). An upper bound for flow completion,
never a result. Two more ask whether better border values would help the
completion. ``ring``: the truth's flow in an 8 px ring just inside each
grown hole (the band ``flow_dilation`` adds around the hole at 432x240), and
the rest of the hole Laplace-completed from it. ``laplace``: the truth's flow
Laplace-completed inside the whole grown hole from its own values at the
border. Both use the pipeline's solver (``flow.complete``) without its checks
and carried motion, and keep the pipeline's own flow outside the grown hole.

``--flow`` and ``--fill`` pass another estimator (``inpaint(flow=)``) or
key-frame fill (``inpaint(hallucinate=)``) to the pipeline; the TELEA and NS
rows do not change. Any of these options, or ``--kinds``, implies
``--no-write``: the RESULTS.md table is the defaults' on both hole kinds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

import hybridinpaint
from hybridinpaint import metrics as M

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _results import write_section  # noqa: E402

CLIPS = HERE.parent.parent / "shared" / "data" / "clips"
SIZE = (432, 240)


def load_clip(name: str, n: int) -> np.ndarray:
    if name.startswith(JITTER):
        return still_with_jitter(load_clip(name[len(JITTER) :], 1)[0], n, seed=sum(map(ord, name)))
    if name.startswith(WEAVE):
        return still_with_weave(load_clip(name[len(WEAVE) :], 1)[0], n, seed=sum(map(ord, name)))
    files = sorted((CLIPS / name / "frames").glob("*.png"))[:n]
    return np.stack([cv2.resize(cv2.imread(str(f))[:, :, ::-1], SIZE, interpolation=cv2.INTER_AREA) for f in files])


JITTER = "still-jitter:"  # a clip name prefix: its first frame as a still shot on scanned film
WEAVE = "still-weave:"  # the same with the local distortion and uneven flicker of a scan


def still_with_jitter(frame: np.ndarray, n: int, *, seed: int) -> np.ndarray:
    """``n`` frames of a still camera on a still scene as scanned film shows it.

    Each frame is shifted by its own sub-pixel jitter (0.7 px standard
    deviation each way, the gate weave of a film transport), its brightness
    scaled by a flicker of 4%, and a fresh grain of 2 grey levels added: a
    still picture whose every frame moves a little, independently.
    """
    rng = np.random.default_rng(seed)
    h, w = frame.shape[:2]
    base = frame.astype(np.float32)
    out = []
    for _ in range(n):
        dx, dy = rng.normal(0, 0.7, 2)
        moved = cv2.warpAffine(
            base, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        moved = moved * (1 + rng.normal(0, 0.04)) + rng.normal(0, 2.0, moved.shape)
        out.append(np.clip(np.round(moved), 0, 255).astype(np.uint8))
    return np.stack(out)


def still_with_weave(frame: np.ndarray, n: int, *, seed: int) -> np.ndarray:
    """``n`` frames of a still shot as a scan of shrunken, unevenly lit film shows it.

    Besides :func:`still_with_jitter`'s whole-frame weave, each frame is
    bent by its own smooth displacement field (a 3x4 grid of offsets of 0.6 px
    standard deviation, interpolated bicubically: film that has shrunk or
    buckled does not sit flat in the gate), and its flicker varies across the
    frame (a brightness ramp of 3% per frame width and height besides the 4%
    overall). The flow of such a shot moves locally and independently from
    frame to frame, with no object moving at all.
    """
    rng = np.random.default_rng(seed)
    h, w = frame.shape[:2]
    base = frame.astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = []
    for _ in range(n):
        dx, dy = rng.normal(0, 0.7, 2)
        grid = [rng.normal(0, 0.6, (3, 4)).astype(np.float32) for _ in "xy"]
        bend = [cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC) for g in grid]
        mx, my = (xx + bend[0] + dx).astype(np.float32), (yy + bend[1] + dy).astype(np.float32)
        moved = cv2.remap(base, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        gain = 1 + rng.normal(0, 0.04) + rng.normal(0, 0.03) * (xx / w - 0.5) + rng.normal(0, 0.03) * (yy / h - 0.5)
        moved = moved * gain[..., None] + rng.normal(0, 2.0, moved.shape)
        out.append(np.clip(np.round(moved), 0, 255).astype(np.uint8))
    return np.stack(out)


def all_clips() -> list[str]:
    return sorted(p.name for p in CLIPS.iterdir() if (p / "frames").is_dir())


def blob(h, w, frac, centre, rng) -> np.ndarray:
    """A smooth irregular blob of about ``frac`` of the frame around ``centre``."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = np.arctan2(yy - centre[1], xx - centre[0])
    # Radius wobbles with a few random harmonics.
    wobble = 1 + sum(0.12 * rng.uniform(-1, 1) * np.cos(k * ang + rng.uniform(0, 6.3)) for k in (2, 3, 5))
    r = np.hypot((xx - centre[0]) / 1.3, yy - centre[1]) / wobble
    rad = np.sqrt(frac * h * w / (np.pi * 1.3))
    for _ in range(20):  # adjust the radius to hit the area
        m = r < rad
        rad *= np.sqrt(frac / max(m.mean(), 1e-6))
    return r < rad


def masks_for(kind: str, t: int, h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "stationary":
        c = (w * rng.uniform(0.35, 0.65), h * rng.uniform(0.35, 0.65))
        return np.broadcast_to(blob(h, w, 0.12, c, rng), (t, h, w)).copy()
    speed = rng.uniform(1.5, 4.0)
    ang = rng.uniform(0, 2 * np.pi)
    vx, vy = speed * np.cos(ang), speed * np.sin(ang)
    x, y = w * rng.uniform(0.3, 0.7), h * rng.uniform(0.3, 0.7)
    shape_rng_seed = rng.integers(1 << 30)
    out = np.zeros((t, h, w), bool)
    for k in range(t):
        out[k] = blob(h, w, 0.08, (x, y), np.random.default_rng(shape_rng_seed))
        x, y = x + vx, y + vy
        if not 0.2 * w < x < 0.8 * w:
            vx = -vx
        if not 0.25 * h < y < 0.75 * h:
            vy = -vy
    return out


def per_frame(frames, masks, flag):
    out = frames.copy()
    for k in range(len(frames)):
        fill = cv2.inpaint(np.ascontiguousarray(frames[k]), masks[k].astype(np.uint8) * 255, 5, flag)
        out[k][masks[k]] = fill[masks[k]]
    return out


def gt_flows(truth):
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in truth]
    return [(dis.calc(grey[k], grey[k + 1], None), dis.calc(grey[k + 1], grey[k], None)) for k in range(len(grey) - 1)]


def metrics(result, truth, masks, flows, original_input):
    """The table's measures, all from :mod:`hybridinpaint.metrics`; warp error along the truth's flow."""
    fwd = np.stack([f for f, _ in flows])
    bwd = np.stack([b for _, b in flows])
    changed = int((result[~masks] != original_input[~masks]).any(axis=-1).sum())
    return {
        "hole_psnr": M.psnr(result, truth, mask=masks),
        "psnr": float(np.mean(M.psnr(result, truth, per_frame=True))),
        "ssim": M.ssim(result, truth),
        "warp": 1000 * M.warp_error(result, mask=masks, flow=(fwd, bwd)),
        "changed": changed,
    }


ORACLES = ("hole", "all", "ring", "laplace")
ORACLE_RING = 8  # px: the width of the truth's ring inside each grown hole (--flow-oracle ring)


def oracle_completion(truth_flows, where):
    """A stand-in for ``flow.complete_pair`` that brings in the truth's flows (see the module's doc)."""
    from hybridinpaint.completion import flow as flowmod

    real = flowmod.complete_pair
    fwd_t = np.stack([f for f, _ in truth_flows])
    bwd_t = np.stack([b for _, b in truth_flows])

    def inside(truth, unknown, backend, settings):
        """What fills the hole: the truth, or its Laplace completion from the truth's border (or ring)."""
        if where == "hole":
            return truth
        if where == "ring":
            # Pixels more than ORACLE_RING px inside the hole's edge are completed from the ring.
            unknown = ~flowmod.within(~unknown, ORACLE_RING)
        return flowmod.complete(truth, unknown, backend, settings=settings)

    def complete_pair(fwd, bwd, unknown, backend, **kwargs):
        if fwd_t.shape != fwd.shape:
            raise SystemExit("--flow-oracle needs flows at the frame size (432x240 is under the working width)")
        if where == "all":
            return fwd_t.copy(), bwd_t.copy()
        cf, cb = real(fwd, bwd, unknown, backend, **kwargs)
        uf, ub = unknown[:-1], unknown[1:]
        return (
            np.where(uf[..., None], inside(fwd_t, uf, backend, kwargs["settings"]), cf),
            np.where(ub[..., None], inside(bwd_t, ub, backend, kwargs["settings"]), cb),
        )

    return complete_pair


def run(clips, n, oracle=None, *, kinds=("stationary", "moving"), flow="dis", fill="patch", settings=None):
    from hybridinpaint.completion import flow as flowmod

    real_completion = flowmod.complete_pair
    # Compile the kernels first, so the first clip's seconds per frame are not JIT time.
    warm = np.zeros((3, 32, 32, 3), np.uint8)
    warm_mask = np.zeros((3, 32, 32), bool)
    warm_mask[:, 10:20, 10:20] = True
    # The estimator needs no warm-up (and RLOF fails on these flat 32x32 frames: std::bad_alloc).
    hybridinpaint.inpaint(warm, warm_mask, backend="cpu", hallucinate=fill)
    rows = []
    # Holes are seeded by the clip's place among all shared clips, so a subset gets the full run's holes.
    every = all_clips()
    for name in clips:
        base = name.split(":", 1)[1] if name.startswith((JITTER, WEAVE)) else name
        i = every.index(base) if base in every else len(every)
        truth = load_clip(name, n)
        t, h, w, _ = truth.shape
        flows = gt_flows(truth)
        flowmod.complete_pair = oracle_completion(flows, oracle) if oracle else real_completion
        for kind in kinds:
            masks = masks_for(kind, t, h, w, seed=1000 * i + (kind == "moving"))
            video = truth.copy()
            video[masks] = 0  # what a user would hand in: the hole's content is gone
            for method in ("hybridinpaint", "telea", "ns"):
                start = time.perf_counter()
                if method == "hybridinpaint":
                    res = hybridinpaint.inpaint(
                        video, masks, backend="cpu", flow=flow, hallucinate=fill, settings=settings, return_result=True
                    )
                    out = res.frames
                else:
                    out = per_frame(video, masks, cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS)
                sec = (time.perf_counter() - start) / t
                m = metrics(out, truth, masks, flows, video)
                m.update(clip=name, kind=kind, method=method, sec=sec)
                if method == "hybridinpaint":
                    m["stages"] = {k: v / t for k, v in res.stats["seconds"].items()}
                rows.append(m)
                print(
                    f"{name:24s} {kind:10s} {method:14s} hole {m['hole_psnr']:6.2f} dB  psnr {m['psnr']:6.2f} "
                    f"ssim {m['ssim']:.4f}  warp {m['warp']:7.3f}  changed {m['changed']}  {sec:.3f} s/frame",
                    flush=True,
                )
    flowmod.complete_pair = real_completion
    return rows


def table(rows, n, variant="") -> str:
    kinds = ("stationary", "moving")
    methods = ("hybridinpaint", "telea", "ns")
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')}, hybridinpaint {hybridinpaint.__version__}, {n} frames per clip at "
        f"{SIZE[0]}x{SIZE[1]}, CPU backend{variant}. Hole PSNR pools all hole pixels; PSNR/SSIM are per-frame "
        "means over whole frames; warp = 1000 x mean squared difference between consecutive result frames aligned "
        "by the ground truth's DIS flow, over consistent hole pixels; changed = pixels outside the hole that differ "
        "from the input (must be 0).",
        "",
        "| clip | holes | method | hole PSNR dB | PSNR dB | SSIM | warp err | changed | s/frame |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['clip']} | {r['kind']} | {r['method']} | {r['hole_psnr']:.2f} | {r['psnr']:.2f} | {r['ssim']:.4f} "
            f"| {r['warp']:.3f} | {r['changed']} | {r['sec']:.3f} |"
        )
    lines += [
        "",
        "Averages over the clips:",
        "",
        "| holes | method | hole PSNR dB | PSNR dB | SSIM | warp err | s/frame |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind in kinds:
        for m in methods:
            sel = [r for r in rows if r["kind"] == kind and r["method"] == m]
            if sel:
                avg = {k: np.mean([r[k] for r in sel]) for k in ("hole_psnr", "psnr", "ssim", "warp", "sec")}
                lines.append(
                    f"| {kind} | {m} | {avg['hole_psnr']:.2f} | {avg['psnr']:.2f} | {avg['ssim']:.4f} | "
                    f"{avg['warp']:.3f} | {avg['sec']:.3f} |"
                )
    ours = [r for r in rows if r["method"] == "hybridinpaint"]
    if ours:
        stages = {}
        for r in ours:
            for k, v in r["stages"].items():
                stages.setdefault(k, []).append(v)
        lines += [
            "",
            "hybridinpaint, seconds per frame by stage (mean over runs): "
            + ", ".join(f"{k} {np.mean(v):.4f}" for k, v in stages.items()),
        ]
        worst = []
        for r in ours:
            tel = next(x for x in rows if x["clip"] == r["clip"] and x["kind"] == r["kind"] and x["method"] == "telea")
            worst.append((r["hole_psnr"] - tel["hole_psnr"], r["clip"], r["kind"]))
        d, c, k = min(worst)
        lines += ["", f"Worst clip against TELEA: {c} ({k}), {d:+.2f} dB hole PSNR."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", default=None, help="comma-separated clip names (default: all shared clips)")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--kinds", default="stationary,moving", help="hole kinds, comma-separated")
    ap.add_argument("--flow-oracle", choices=ORACLES, help="the truth's flow in place of (part of) the completed one")
    ap.add_argument("--flow", default="dis", help="the estimator, inpaint(flow=) (dis, farneback, dualtvl1, rlof)")
    ap.add_argument("--fill", default="patch", help="the key-frame fill, inpaint(hallucinate=)")
    ap.add_argument("--config", default=None, help="a settings file (TOML), inpaint(settings=)")
    args = ap.parse_args()
    if not CLIPS.is_dir():
        raise SystemExit(f"shared clips not found at {CLIPS}")
    clips = args.clips.split(",") if args.clips else all_clips()
    kinds = tuple(args.kinds.split(","))
    bad = set(kinds) - {"stationary", "moving"}
    if bad:
        raise SystemExit(f"--kinds: unknown hole kind(s) {sorted(bad)}")
    options = {"flow oracle": args.flow_oracle, "flow": args.flow, "fill": args.fill, "settings": args.config}
    defaults = {"flow oracle": None, "flow": "dis", "fill": "patch", "settings": None}
    variant = "".join(f", {k} {v}" for k, v in options.items() if v != defaults[k])
    rows = run(clips, args.frames, args.flow_oracle, kinds=kinds, flow=args.flow, fill=args.fill, settings=args.config)
    md = table(rows, args.frames, variant)
    print(md)
    if not args.no_write and not variant and kinds == ("stationary", "moving"):
        write_section(
            "quality", md, heading="Video completion quality (issue 3)", command="python benchmarks/quality.py"
        )


if __name__ == "__main__":
    main()
