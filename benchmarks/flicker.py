"""Flicker removal on synthetic flicker over every shared clip, and on clips without flicker.

Each clean clip (30 frames at 432x240) gets flicker from two generators:
``gain``, a brightness gain of 1 +- 0.15 per frame with a left-right tilt of
+- 0.05, and ``gain+offset``, a gain of 1 +- 0.10 plus an offset of +- 0.04 of
full scale (which the gain-only model can only approximate). Flicker is the
frame-to-frame change of each of 4x4 blocks' brightness relative to the
clean clip (RMS); the residual is the corrected clip's flicker over the
flickered clip's (target <= 0.2). On the clean clips, the change the
correction makes where there is no flicker is reported as a flicker of its
own, relative to that of the ``gain`` generator.

    python benchmarks/flicker.py [--no-write]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from hybridinpaint.film import flicker

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import quality  # noqa: E402
from _results import write_section  # noqa: E402

N = 30


def jitter(frames, clean, grid=4):
    t, h, w = clean.shape[:3]

    def blocks(a):
        a = a.astype(np.float64).mean(axis=3)[:, : h // grid * grid, : w // grid * grid]
        return a.reshape(t, grid, h // grid, grid, w // grid).mean(axis=(2, 4))

    ratio = blocks(frames) / np.maximum(blocks(clean), 1)
    return float(np.sqrt((np.diff(ratio, axis=0) ** 2).mean()))


def generate(clean, kind, rng):
    t, h, w = clean.shape[:3]
    x = np.linspace(-1, 1, w)[None, None, :, None]
    if kind == "gain":
        level, tilt = rng.uniform(-0.15, 0.15, t), rng.uniform(-0.05, 0.05, t)
        gain = 1 + level[:, None, None, None] + tilt[:, None, None, None] * x
        return np.clip(clean * gain, 0, 255).round().astype(np.uint8)
    gain = 1 + rng.uniform(-0.10, 0.10, t)[:, None, None, None]
    offset = 255 * rng.uniform(-0.04, 0.04, t)[:, None, None, None]
    return np.clip(clean * gain + offset, 0, 255).round().astype(np.uint8)


def run():
    names = sorted(p.name for p in quality.CLIPS.iterdir() if (p / "frames").is_dir() and not p.name.startswith("old"))
    rows = []
    for i, clip in enumerate(names):
        clean = quality.load_clip(clip, N)
        row = {"clip": clip}
        for kind in ("gain", "gain+offset"):
            dirty = generate(clean, kind, np.random.default_rng(i))
            start = time.perf_counter()
            fixed, _ = flicker.deflicker(dirty)
            row[f"{kind} sec"] = (time.perf_counter() - start) / N
            row[kind] = jitter(fixed, clean) / jitter(dirty, clean)
        ref = jitter(generate(clean, "gain", np.random.default_rng(i)), clean)
        row["clean"] = jitter(flicker.deflicker(clean)[0], clean) / ref
        rows.append(row)
        print(clip, {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
    return rows


def table(rows):
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')}, {N} frames per clip at 432x240, every shared clip but the old "
        "films (no clean truth there). Residual flicker = corrected / flickered (target <= 0.2); the last "
        "column is the flicker the correction adds to a clean clip, relative to the `gain` generator's.",
        "",
        "| clip | residual, gain | residual, gain+offset | clean clip | s/frame |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['clip']} | {r['gain']:.3f} | {r['gain+offset']:.3f} | {r['clean']:.3f} | {r['gain sec']:.4f} |"
        )
    mean = lambda k: float(np.mean([r[k] for r in rows]))  # noqa: E731
    worst = lambda k: float(np.max([r[k] for r in rows]))  # noqa: E731
    lines.append(f"| **mean** | {mean('gain'):.3f} | {mean('gain+offset'):.3f} | {mean('clean'):.3f} | |")
    lines.append(f"| **worst** | {worst('gain'):.3f} | {worst('gain+offset'):.3f} | {worst('clean'):.3f} | |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if not quality.CLIPS.is_dir():
        raise SystemExit(f"shared clips not found at {quality.CLIPS}")
    md = table(run())
    print(md)
    if not args.no_write:
        write_section("flicker", md, heading="Flicker (issue 13)", command="python benchmarks/flicker.py")


if __name__ == "__main__":
    main()
