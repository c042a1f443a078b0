"""Look at real old film before and after: fixes per frame, and one frame's scan | repairs | what was left alone.

For each old-film clip: ``film.restore(deflicker=True)`` on its first
``--frames`` frames; prints fixes per frame by kind and the regions left
alone, and writes ``benchmarks/film_look/<clip>-frame<k>.jpg``: the scan, the
restored frame with repaired pixels in red and regions left alone in
yellow, and four times the change.

    python benchmarks/film_look.py [--frames 20] [--frame 10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from hybridinpaint.film import repair as film

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import quality  # noqa: E402

OLD = ("oldfilm-market-street", "oldfilm-train-robbery")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--frame", type=int, default=10)
    args = ap.parse_args()
    out = HERE / "film_look"
    out.mkdir(exist_ok=True)
    for clip in OLD:
        files = sorted((quality.CLIPS / clip / "frames").glob("*.png"))[: args.frames]
        frames = np.stack([cv2.imread(str(f))[:, :, ::-1] for f in files])
        res = film.restore(frames, deflicker=True, backend="cpu")
        kinds = [f.kind for f in res.fixes]
        t = len(frames)
        left = [f.kind for f in res.spared]
        print(
            f"{clip}: {len(kinds) / t:.1f} fixes per frame ({kinds.count('blotch') / t:.1f} blotch, "
            f"{kinds.count('scratch') / t:.1f} scratch, {kinds.count('flicker') / t:.1f} flicker); left alone "
            f"{left.count('blotch') / t:.1f} moving objects and {left.count('scratch') / t:.1f} picture lines per frame"
        )
        k = args.frame
        marked = res.frames[k].copy()
        marked[res.mask[k]] = (255, 0, 0)
        for f in res.spared:
            if f.frame == k:
                marked[f.ys, f.xs] = (255, 255, 0)
        change = np.clip(4 * np.abs(res.frames[k].astype(int) - frames[k]), 0, 255).astype(np.uint8)
        sheet = np.concatenate([frames[k], marked, change], axis=1)
        cv2.imwrite(str(out / f"{clip}-frame{k}.jpg"), sheet[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])


if __name__ == "__main__":
    main()
