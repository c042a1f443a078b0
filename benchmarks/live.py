"""Live streams (``hybridinpaint.inpaint_stream``): speed, latency, and quality against offline ``inpaint``.

Every shared clip at 432x240, 40 frames, the quality benchmark's moving
holes: hole PSNR of the stream (lookahead 4) and of offline ``inpaint`` on
the same frames. Speed: frames per second of the stream at 432x240 and
854x480 (bmx-trees, after a warm-up), and the latency: ``lookahead``
frames, plus the time one frame takes to go through.

    python benchmarks/live.py [--frames 40] [--lookahead 4] [--no-write]
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
import quality  # noqa: E402
from _results import write_section  # noqa: E402


def stream_timed(frames, masks, lookahead):
    """The stream's output, and each frame's time from arriving to going out (s)."""
    arrived, out, lat = {}, [], []

    def source():
        for k, f in enumerate(frames):
            arrived[k] = time.perf_counter()
            yield f

    for k, f in enumerate(hybridinpaint.inpaint_stream(source(), iter(masks), lookahead=lookahead, backend="cpu")):
        lat.append(time.perf_counter() - arrived[k])
        out.append(f)
    return np.stack(out), lat


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--lookahead", type=int, default=4)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if not quality.CLIPS.is_dir():
        raise SystemExit(f"shared clips not found at {quality.CLIPS}")
    names = sorted(p.name for p in quality.CLIPS.iterdir() if (p / "frames").is_dir())
    warm = np.zeros((3, 32, 32, 3), np.uint8)
    hole = np.zeros((3, 32, 32), bool)
    hole[:, 8:20, 8:20] = True
    list(hybridinpaint.inpaint_stream(iter(warm), hole[0], lookahead=1, backend="cpu"))
    hybridinpaint.inpaint(warm, hole, backend="cpu")
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')}, 2 cores, CPU; lookahead {args.lookahead}; {args.frames} frames per "
        "clip at 432x240 with the quality benchmark's moving holes.",
        "",
        "| clip | stream hole PSNR | offline `inpaint` | difference |",
        "| --- | --- | --- | --- |",
    ]
    diffs = []
    for i, name in enumerate(names):
        truth = quality.load_clip(name, args.frames)
        t, h, w, _ = truth.shape
        masks = quality.masks_for("moving", t, h, w, seed=1000 * i + 1)
        video = truth.copy()
        video[masks] = 0
        live, _ = stream_timed(video, masks, args.lookahead)
        offline = hybridinpaint.inpaint(video, masks, backend="cpu")
        a, b = M.psnr(live, truth, mask=masks), M.psnr(offline, truth, mask=masks)
        diffs.append(a - b)
        lines.append(f"| {name} | {a:.2f} | {b:.2f} | {a - b:+.2f} |")
        print(lines[-1], flush=True)
    lines.append(f"| **mean** | | | {np.mean(diffs):+.2f} |")
    lines += ["", "| size | frames per second | latency: frames | latency: ms, median (max) |"]
    lines += ["| --- | --- | --- | --- |"]
    raw = quality.load_clip("bmx-trees", args.frames)
    for w, h in ((432, 240), (854, 480)):
        frames = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_CUBIC) for f in raw])
        masks = quality.masks_for("moving", len(frames), h, w, seed=1)
        frames[masks] = 0
        start = time.perf_counter()
        _, lat = stream_timed(frames, masks, args.lookahead)
        fps = len(frames) / (time.perf_counter() - start)
        ms = 1000 * np.array(lat)
        lines.append(f"| {w}x{h} | {fps:.1f} | {args.lookahead} | {np.median(ms):.0f} ({ms.max():.0f}) |")
        print(lines[-1], flush=True)
    md = "\n".join(lines) + "\n"
    print(md)
    if not args.no_write:
        write_section("live", md, heading="Live streams (issue 18)", command="python benchmarks/live.py")


if __name__ == "__main__":
    main()
