"""Do no harm: what film restoration finds on clean footage, where every detection is a false one.

No damage generator at all. Every shared clip except the old films is clean
modern footage; so are the clips in ``--extra`` folders (each with
``frames/``; the ones measured are listed in ``benchmarks/clean_clips.md``).
Beside them, two made cases of what fools a dirt detector, built from clean
clips:

- ``ball-on-<clip>``: a small ball (radius 3-5 px, bright or dark, soft-edged)
  thrown along a parabola at 9-16 px per frame over a clean clip: the
  pathological motion of the literature, an impulse that the
  motion-compensated neighbours do not share but that is in every frame;
- ``pole-on-<clip>``: two still, thin vertical lines (1-2 px, dark and
  bright, full height) painted into a clean still-camera clip: the picture's
  own vertical edges, which do not move because the camera does not.

Reported per clip: fixes (connected detections, as ``restore`` repairs them)
per 100 frames, blotches and scratches separately, changed pixels per frame,
and the regions left alone as moving objects or still picture edges (which
``restore`` does not change).

    python benchmarks/film_harm.py [--frames 24] [--extra DIR ...] [--no-write]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

import hybridinpaint
from hybridinpaint.film import repair as film

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import quality  # noqa: E402
from _results import write_section  # noqa: E402

BALL_ON = ("sam2-dog", "schoolgirls", "skateboard")
POLE_ON = ("sam2-cups", "dogs-jump")


def ball(clean: np.ndarray, seed: int) -> np.ndarray:
    """``clean`` (T, H, W, 3) uint8 with a small ball thrown across it along a parabola."""
    rng = np.random.default_rng(seed)
    t, h, w, _ = clean.shape
    out = clean.astype(np.float32)
    r = rng.uniform(3, 5)
    colour = np.array([235, 225, 90]) if rng.random() < 0.6 else np.array([25, 25, 30])
    vx = rng.uniform(9, 16) * (1 if rng.random() < 0.5 else -1)
    x0 = 20 if vx > 0 else w - 20
    y0, vy, g = rng.uniform(0.3, 0.7) * h, -rng.uniform(4, 8), rng.uniform(0.4, 0.8)
    yy, xx = np.mgrid[0:h, 0:w]
    for k in range(t):
        cx = x0 + vx * k
        cy = y0 + vy * k + 0.5 * g * k * k
        cx = cx % (w - 20) + 10  # wraps round: the ball stays in the frame
        cy = float(np.clip(cy if cy < h - 10 else 2 * (h - 10) - cy, 10, h - 10))
        alpha = np.clip(r + 0.5 - np.hypot(yy - cy, xx - cx), 0, 1)[..., None]
        out[k] = out[k] * (1 - alpha) + colour * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def poles(clean: np.ndarray, seed: int) -> np.ndarray:
    """``clean`` with two still, thin, full-height vertical lines painted into the picture (dark and bright)."""
    rng = np.random.default_rng(seed)
    t, h, w, _ = clean.shape
    out = clean.astype(np.float32)
    for value, width in ((30.0, 1), (220.0, 2)):
        x = int(rng.uniform(0.15, 0.85) * w)
        # Shaded along its length like a real pole, the same in every frame.
        shade = value + 15 * np.sin(np.arange(h) / 23.0)[:, None]
        out[:, :, x : x + width] = shade[None, :, :, None]  # opaque: a pole hides what passes behind it
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def read_extra(folder: Path, n: int) -> np.ndarray:
    files = sorted((folder / "frames").glob("*.png"))[:n]
    return np.stack([cv2.imread(str(f))[:, :, ::-1] for f in files])


def cases(frames: int, extra: list[Path]):
    """(name, family, clean uint8 RGB frames) for every clean case."""
    names = [c for c in quality.all_clips() if not c.startswith("oldfilm")]
    for c in names:
        yield c, "shared", quality.load_clip(c, frames)
    for i, c in enumerate(BALL_ON):
        yield f"ball-on-{c}", "made: fast ball", ball(quality.load_clip(c, frames), i)
    for i, c in enumerate(POLE_ON):
        yield f"pole-on-{c}", "made: still lines", poles(quality.load_clip(c, frames), i)
    for root in extra:
        for folder in sorted(p for p in root.iterdir() if (p / "frames").is_dir()):
            yield folder.name, f"extra ({root.name})", read_extra(folder, frames)


def run(frames: int, extra: list[Path]):
    film.detect_defects(np.zeros((3, 32, 32, 3), np.uint8), backend="cpu")  # compile first
    rows = []
    for name, family, clean in cases(frames, extra):
        t = len(clean)
        start = time.perf_counter()
        found = film.detect_defects(clean, backend="cpu")
        sec = (time.perf_counter() - start) / t
        kinds = [d.kind for d in found.records]
        spared = getattr(found, "spared", [])
        rows.append(
            {
                "clip": name,
                "family": family,
                "size": f"{clean.shape[2]}x{clean.shape[1]}",
                "frames": t,
                "fixes": 100 * len(kinds) / t,
                "blotches": 100 * kinds.count("blotch") / t,
                "scratches": 100 * kinds.count("scratch") / t,
                "pixels": float(found.mask.sum()) / t,
                "spared": 100 * len(spared) / t,
                "sec": sec,
            }
        )
        print({k: round(v, 2) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
    return rows


def table(rows, frames):
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')}, hybridinpaint {hybridinpaint.__version__}, up to {frames} frames "
        "per clip, CPU, 2 cores, `film.detect_defects` with its defaults. Clean footage: every detection is a "
        "false one. A fix is one connected detection in one frame (what `restore` repairs); left alone: regions "
        "refused as moving objects or still picture edges (not changed).",
        "",
        "| clip | family | size | frames | false fixes /100 frames | blotches | scratches | changed px/frame | "
        "left alone /100 frames | det s/frame |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['clip']} | {r['family']} | {r['size']} | {r['frames']} | {r['fixes']:.1f} | {r['blotches']:.1f} | "
            f"{r['scratches']:.1f} | {r['pixels']:.0f} | {r['spared']:.1f} | {r['sec']:.3f} |"
        )
    m = lambda k: float(np.mean([r[k] for r in rows]))  # noqa: E731
    worst = max(rows, key=lambda r: r["fixes"])
    lines.append(
        f"| **mean** | | | | {m('fixes'):.1f} | {m('blotches'):.1f} | {m('scratches'):.1f} | {m('pixels'):.0f} | "
        f"{m('spared'):.1f} | {m('sec'):.3f} |"
    )
    lines += ["", f"Worst clip: {worst['clip']} ({worst['fixes']:.1f} false fixes per 100 frames)."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--extra", type=Path, nargs="*", default=[], help="folders of clean clips (<name>/frames/*.png)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    if not quality.CLIPS.is_dir():
        raise SystemExit(f"shared clips not found at {quality.CLIPS}")
    md = table(run(args.frames, args.extra), args.frames)
    print(md)
    if not args.no_write:
        write_section(
            "film-harm",
            md,
            heading="Film restoration on clean footage (issue 26)",
            command="python benchmarks/film_harm.py",
        )


if __name__ == "__main__":
    main()
