"""End-to-end seconds per frame of hybridinpaint.inpaint at 432x240 and 1920x1080.

A shared clip (bmx-trees) resized to each size, a moving blob of ~8% of the
frame, CPU backend, after a JIT warm-up. Prints the split by stage and
writes it into RESULTS.md between the ``speed`` markers.

    python benchmarks/speed.py [--frames 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

import hybridinpaint

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import quality  # noqa: E402 - the same clip loading and masks
from _results import write_section  # noqa: E402

SIZES = [(432, 240), (1920, 1080)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    files = sorted((quality.CLIPS / "bmx-trees" / "frames").glob("*.png"))[: args.frames]
    raw = [cv2.imread(str(f))[:, :, ::-1] for f in files]
    warm = np.zeros((3, 32, 32, 3), np.uint8)
    wm = np.zeros((3, 32, 32), bool)
    wm[:, 8:20, 8:20] = True
    hybridinpaint.inpaint(warm, wm, backend="cpu")
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')}: bmx-trees, {args.frames} frames, moving blob of ~8%, CPU backend, "
        "after JIT warm-up.",
        "",
        "| size | s/frame | split by stage (s/frame) |",
        "| --- | --- | --- |",
    ]
    for w, h in SIZES:
        frames = np.stack(
            [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA if w < 640 else cv2.INTER_CUBIC) for f in raw]
        )
        masks = quality.masks_for("moving", len(frames), h, w, seed=1)
        frames[masks] = 0
        start = time.perf_counter()
        res = hybridinpaint.inpaint(frames, masks, backend="cpu", return_result=True)
        per = (time.perf_counter() - start) / len(frames)
        split = ", ".join(f"{k} {v / len(frames):.3f}" for k, v in res.stats["seconds"].items())
        lines.append(f"| {w}x{h} | {per:.3f} | {split} |")
        print(lines[-1], flush=True)
    md = "\n".join(lines) + "\n"
    if not args.no_write:
        write_section("speed", md, heading="Video completion speed (issue 3)", command="python benchmarks/speed.py")


if __name__ == "__main__":
    main()
