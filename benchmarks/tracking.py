"""Mask tracking from one drawn mask (``hybridinpaint.track_mask``) against the clips' own object masks.

DAVIS definitions: J = IoU, F = boundary F-measure with a tolerance of
0.008 x the image diagonal, J&F their mean, over all frames but the
annotated one (the first). Baselines: the first mask held still, and the
first mask warped along DIS flow frame to frame (no appearance). Also a
correction: a second annotation on the middle frame.

    python benchmarks/tracking.py [--frames N] [--no-write] [--sheet]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from hybridinpaint import metrics, track_mask
from hybridinpaint.completion import flow as flowmod

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import quality  # noqa: E402
from _results import write_section  # noqa: E402

CLIPS = ("bmx-trees", "dogs-jump", "schoolgirls")


def load(name, n):
    frames = quality.load_clip(name, n)
    files = sorted((quality.CLIPS / name / "masks").glob("*.png"))[: len(frames)]
    masks = [cv2.resize(cv2.imread(str(f), 0), quality.SIZE, interpolation=cv2.INTER_NEAREST) > 127 for f in files]
    masks = np.stack(masks)
    return frames, masks


def jf(result, truth, skip=(0,)):
    keep = [k for k in range(len(truth)) if k not in skip]
    j = metrics.jaccard(result[keep], truth[keep])
    f = metrics.boundary_f(result[keep], truth[keep])
    return float(j.mean()), float(f.mean())


def warped(frames, first):
    calc = flowmod.estimator("dis")
    grey = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])
    h, w = first.shape
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = [first.astype(np.float32)]
    for k in range(1, len(frames)):
        f = calc(grey[k], grey[k - 1])
        out.append(cv2.remap(out[-1], gx + f[..., 0], gy + f[..., 1], cv2.INTER_LINEAR))
    return np.stack(out) > 0.5


def sheet(name, frames, result, truth):
    picks = np.linspace(0, len(frames) - 1, 5).astype(int)
    tiles = []
    for k in picks:
        o = frames[k].copy()
        o[result[k]] = (0.5 * o[result[k]] + (0, 0, 0) + np.array([0, 110, 0])).astype(np.uint8)
        edge = truth[k] ^ cv2.erode(truth[k].astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        o[edge] = (255, 0, 0)
        tiles.append(o)
    path = HERE / "tracking" / f"{name}.jpg"
    path.parent.mkdir(exist_ok=True)
    cv2.imwrite(str(path), np.concatenate(tiles, 1)[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])


def run(n, write_sheets):
    rows = []
    track_mask(np.zeros((2, 32, 32, 3), np.uint8), np.ones((32, 32), bool))  # imports and first calls
    for name in CLIPS:
        if not (quality.CLIPS / name / "masks").is_dir():
            continue
        frames, truth = load(name, n)
        start = time.perf_counter()
        res = track_mask(frames, truth[0], return_result=True)
        sec = (time.perf_counter() - start) / len(frames)
        mid = len(frames) // 2
        corrected = track_mask(frames, {0: truth[0], mid: truth[mid]})
        rows.append(
            {
                "clip": name,
                "frames": len(frames),
                "ours": jf(res.masks, truth),
                "corrected": jf(corrected, truth, skip=(0, mid)),
                "still": jf(np.broadcast_to(truth[0], truth.shape), truth),
                "warp": jf(warped(frames, truth[0]), truth),
                "sec": sec,
                "unsure": len(res.unsure),
                "conf_corr": float(np.corrcoef(res.confidence[1:], metrics.jaccard(res.masks, truth)[1:])[0, 1]),
            }
        )
        print(rows[-1], flush=True)
        if write_sheets:
            sheet(name, frames, res.masks, truth)
    return rows


def table(rows):
    def m(pair):
        return f"{np.mean(pair):.3f} ({pair[0]:.3f} / {pair[1]:.3f})"

    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} at 432x240, CPU, 2 cores, the first mask given. Cells: J&F (J / F).",
        "",
        "| clip | frames | track_mask | + a correction on the middle frame | first mask held still | "
        "warped along DIS flow | s/frame | unsure frames | corr(confidence, J) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['clip']} | {r['frames']} | {m(r['ours'])} | {m(r['corrected'])} | {m(r['still'])} | "
            f"{m(r['warp'])} | {r['sec']:.3f} | {r['unsure']} | {r['conf_corr']:.2f} |"
        )
    mean = lambda k: float(np.mean([np.mean(r[k]) for r in rows]))  # noqa: E731
    lines.append(
        f"| **mean** | | {mean('ours'):.3f} | {mean('corrected'):.3f} | {mean('still'):.3f} | {mean('warp'):.3f} | "
        f"{np.mean([r['sec'] for r in rows]):.3f} | | |"
    )
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--sheet", action="store_true", help="write contact sheets to benchmarks/tracking/")
    args = ap.parse_args()
    if not quality.CLIPS.is_dir():
        raise SystemExit(f"shared clips not found at {quality.CLIPS}")
    md = table(run(args.frames, args.sheet))
    print(md)
    if not args.no_write:
        heading = "Mask tracking (issue 14)"
        write_section("tracking", md, heading=heading, command="python benchmarks/tracking.py --sheet")


if __name__ == "__main__":
    main()
