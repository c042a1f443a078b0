"""Film restoration speed per frame at 480x368 (50 frames of bmx-trees): detection, detection + repair, one call.

python benchmarks/film_speed.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2
import numpy as np

from hybridinpaint.film import repair as film

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import quality  # noqa: E402

SIZE = (480, 368)


def main():
    files = sorted((quality.CLIPS / "bmx-trees" / "frames").glob("*.png"))[:50]
    if not files:
        raise SystemExit(f"shared clips not found at {quality.CLIPS}")
    frames = np.stack([cv2.resize(cv2.imread(str(f))[:, :, ::-1], SIZE, interpolation=cv2.INTER_AREA) for f in files])
    film.restore(frames[:3], backend="cpu")  # compile and load everything first
    start = time.perf_counter()
    found = film.detect_defects(frames, backend="cpu")
    det = time.perf_counter() - start
    film.restore(frames, defects=found, backend="cpu")
    total = time.perf_counter() - start
    start = time.perf_counter()
    film.restore(frames, backend="cpu")  # as `hybridinpaint restore` runs it: the repair reuses the detection's flows
    whole = time.perf_counter() - start
    n = len(frames)
    print(
        f"{n} frames at {SIZE[0]}x{SIZE[1]}: detection {det / n:.3f} s/frame, detection then repair "
        f"{total / n:.3f} s/frame, restore in one call {whole / n:.3f} s/frame"
    )


if __name__ == "__main__":
    main()
