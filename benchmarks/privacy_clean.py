"""``anonymize`` (default mode) on shared clips with no face in them: every track is a false alarm.

    python benchmarks/privacy_clean.py

Prints, per clip (the first 40 frames at 480x270), the tracks made, the
share of pixels changed and the frames with any change.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np

from hybridinpaint.privacy import LeakWarning
from hybridinpaint.privacy import anonymizer as privacy

CLIPS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "clips"
FACELESS = ("sam2-coffee", "sam2-cups", "running-car")  # no face in any frame (tests/data/faces.json)


def main():
    for name in FACELESS:
        files = sorted((CLIPS / name / "frames").glob("*.png"))[:40]
        video = np.stack(
            [cv2.resize(cv2.imread(str(f))[:, :, ::-1], (480, 270), interpolation=cv2.INTER_AREA) for f in files]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LeakWarning)
            res = privacy.anonymize(video, backend="cpu", return_result=True)
        changed = int(res.masks.any(axis=(1, 2)).sum())
        print(
            f"{name}: {len(res.tracks)} tracks, {100 * res.masks.mean():.3f}% of pixels changed, "
            f"{changed} of {len(video)} frames with any change"
        )


if __name__ == "__main__":
    main()
