"""Mask dilation by measurement: objects with soft edges composited over other clips, removed, scored.

Real object masks have no truth behind the object, so the moving objects of
the clips with masks (dogs-jump, bmx-trees, schoolgirls) are pasted over
other clips, their edges blurred by a Gaussian of 0.7, 1.5 or 3 px
(anti-aliasing to motion blur). The mask handed to ``inpaint`` is where the
object covers at least half a pixel; the score is PSNR against the clean
clip over the object, its blurred edge and the largest dilation around it.
Prints the table; writes nothing.

    python benchmarks/mask_dilation.py [--frames 30] [--dilations 0,2,3,5,8]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import cv2
import numpy as np

import hybridinpaint
from hybridinpaint import metrics as M
from hybridinpaint.completion import flow as flowmod

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import quality  # noqa: E402
import tracking  # noqa: E402

PAIRS = [
    ("dogs-jump", "sam2-coffee"),
    ("bmx-trees", "running-car"),
    ("schoolgirls", "skateboard"),
    ("dogs-jump", "sam2-dog"),
]
SIGMAS = (0.7, 1.5, 3.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--dilations", default="0,2,3,5,8")
    args = ap.parse_args()
    if not quality.CLIPS.is_dir():
        raise SystemExit(f"shared clips not found at {quality.CLIPS}")
    ds = [int(d) for d in args.dilations.split(",")]
    rows = []
    for (obj, bg), sigma in itertools.product(PAIRS, SIGMAS):
        fa, ma = tracking.load(obj, args.frames)
        fb = quality.load_clip(bg, args.frames)
        alpha = np.stack([cv2.GaussianBlur(m.astype(np.float32), (0, 0), sigma) for m in ma])[..., None]
        comp = (alpha * fa + (1 - alpha) * fb + 0.5).astype(np.uint8)
        drawn = alpha[..., 0] >= 0.5
        region = flowmod.dilate(drawn, max(ds)) | (alpha[..., 0] > 0.01)
        scores = []
        for d in ds:
            out = hybridinpaint.inpaint(comp, drawn, mask_dilation=d, backend="cpu")
            scores.append(M.psnr(out, fb, mask=region))
        rows.append(scores)
        cells = "  ".join(f"{d}: {p:.2f}" for d, p in zip(ds, scores))
        print(f"{obj} over {bg}, edges {sigma} px: {cells}", flush=True)
    rows = np.array(rows)
    print("\n| mask dilation | " + " | ".join(str(d) for d in ds) + " |")
    print("|" + " --- |" * (len(ds) + 1))
    for i, sigma in enumerate(SIGMAS):
        print(f"| edges blurred {sigma} px | " + " | ".join(f"{v:.2f}" for v in rows[i :: len(SIGMAS)].mean(0)) + " |")
    print("| mean | " + " | ".join(f"{v:.2f}" for v in rows.mean(0)) + " |")


if __name__ == "__main__":
    main()
