"""Chunked runs with and without the next chunk prepared meanwhile ([stream] OVERLAP), same machine.

A shared clip resized to ``--size``, a box a fifth of the width moving
across it, ``inpaint_chunks`` with automatic chunks; each mode run
``--repeats`` times, alternated, after a JIT warm-up. Prints seconds per
frame per mode and whether the outputs are identical. On a GPU machine
use ``--backend cuda`` (``benchmarks/gpu.py`` does, for the device session).

    python benchmarks/chunk_overlap.py [--clip bmx-trees] [--size 432x240] [--frames 48]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

import hybridinpaint

CLIPS = Path(__file__).resolve().parents[2] / "shared" / "data" / "clips"


def moving_box(t, h, w):
    masks = np.zeros((t, h, w), bool)
    for k in range(t):
        x = int(0.6 * w * k / max(t - 1, 1)) + w // 10
        masks[k, h // 3 : h // 3 + h // 4, x : x + w // 5] = True
    return masks


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default="bmx-trees")
    ap.add_argument("--size", default="432x240")
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--modes", default="never,always")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    files = sorted((CLIPS / args.clip / "frames").glob("*"))[: args.frames]
    if not files:
        raise SystemExit(f"no frames in {CLIPS / args.clip / 'frames'} (the shared clips are needed)")
    frames = np.stack([cv2.resize(cv2.imread(str(f)), (w, h), interpolation=cv2.INTER_AREA) for f in files])
    masks = moving_box(len(frames), h, w)
    hybridinpaint.inpaint(frames[:4], masks[:4], backend=args.backend)  # compile
    seconds, outputs = {}, {}
    for _ in range(args.repeats):
        for mode in args.modes.split(","):
            t0 = time.perf_counter()
            chunks = hybridinpaint.inpaint_chunks(
                iter(frames), masks, backend=args.backend, settings={"stream": {"OVERLAP": mode}}
            )
            out = np.stack([r.frame for r in chunks])
            seconds.setdefault(mode, []).append((time.perf_counter() - t0) / len(out))
            outputs.setdefault(mode, out)
    same = all(np.array_equal(o, next(iter(outputs.values()))) for o in outputs.values())
    print(f"{args.clip}, {len(frames)} frames at {w}x{h}, backend {args.backend}:")
    for mode, s in seconds.items():
        print(f"  OVERLAP={mode}: " + ", ".join(f"{v:.3f}" for v in s) + " s/frame")
    print(f"  outputs identical: {same}")


if __name__ == "__main__":
    main()
