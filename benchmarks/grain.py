"""Grain in repairs: does a repaired blotch carry the film's grain?

Clean shared clips (20 frames at 432x240) get film grain (Gaussian, sigma 4
or 8 grey levels, white or slightly clumped), then the film benchmark's
blotches and scratch. The repair is run on the true defect mask (so that
detection errors do not enter) with and without ``regrain``. Reported: the
high-pass energy of the repaired pixels over that of the grainy truth there
(target 0.8-1.2; frame minus a Gaussian blur of sigma 1), and the PSNR of
the repaired pixels.

    python benchmarks/grain.py [--no-write]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from hybridinpaint import metrics as M
from hybridinpaint.film import repair as film

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import film as film_bench  # noqa: E402
import quality  # noqa: E402
from _results import write_section  # noqa: E402

N = 20
GRAINS = (("sigma 4, white", 4.0, 0.0), ("sigma 8, clumped", 8.0, 0.7))


def grainy(clean, sigma, clump, rng):
    noise = rng.normal(0, 1, clean.shape).astype(np.float32)
    if clump:
        noise = np.stack([cv2.GaussianBlur(f, (0, 0), clump) for f in noise])
        noise /= noise.std()
    return np.clip(clean + sigma * noise, 0, 255).round().astype(np.uint8)


def energy(frames, sel):
    hp = np.stack([f - cv2.GaussianBlur(f, (0, 0), 1.0) for f in frames.astype(np.float32)])
    return float((hp[sel] ** 2).mean())


def run(limit=0):
    names = sorted(p.name for p in quality.CLIPS.iterdir() if (p / "frames").is_dir() and not p.name.startswith("old"))
    names = names[:limit] if limit else names
    rows = []
    for i, clip in enumerate(names):
        clean = quality.load_clip(clip, N)
        for label, sigma, clump in GRAINS:
            truth = grainy(clean, sigma, clump, np.random.default_rng(100 + i))
            dirty, blotches, scratch = film_bench.damage(truth, i)
            defect = blotches | scratch
            row = {"clip": clip, "grain": label}
            for regrain in (False, True):
                start = time.perf_counter()
                res = film.restore(dirty, defects=defect, regrain=regrain, backend="cpu")
                row[f"sec {regrain}"] = (time.perf_counter() - start) / N
                row[f"ratio {regrain}"] = energy(res.frames, defect) / energy(truth, defect)
                row[f"psnr {regrain}"] = M.psnr(res.frames, truth, mask=defect)
            rows.append(row)
            print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
    return rows


def table(rows):
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')}, {N} frames per clip at 432x240, repairs on the true defect mask. "
        "Grain energy ratio = high-pass energy of the repaired pixels / the grainy truth's there (target 0.8-1.2).",
        "",
        "| clip | grain | energy ratio, no regrain | with regrain | PSNR no regrain | with regrain |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['clip']} | {r['grain']} | {r['ratio False']:.2f} | {r['ratio True']:.2f} | "
            f"{r['psnr False']:.2f} | {r['psnr True']:.2f} |"
        )
    for label, *_ in GRAINS:
        sel = [r for r in rows if r["grain"] == label]
        lines.append(
            f"| **mean** | {label} | {np.mean([r['ratio False'] for r in sel]):.2f} | "
            f"{np.mean([r['ratio True'] for r in sel]):.2f} | {np.mean([r['psnr False'] for r in sel]):.2f} | "
            f"{np.mean([r['psnr True'] for r in sel]):.2f} |"
        )
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--clips", type=int, default=0, help="only the first N clips (0: all)")
    args = ap.parse_args()
    if not quality.CLIPS.is_dir():
        raise SystemExit(f"shared clips not found at {quality.CLIPS}")
    md = table(run(args.clips))
    print(md)
    if not args.no_write:
        write_section("grain", md, heading="Grain in repairs (issue 13)", command="python benchmarks/grain.py")


if __name__ == "__main__":
    main()
