"""Object removal on the shared clips that ship object masks (no ground truth: look at it).

For each clip, removes the masked object (masks grown by 4 px to cover
halos) from the first 40 frames at 432x240 and saves a contact sheet:
rows = frames 0, 13, 26, 39; columns = input with the mask in magenta,
result, provenance. Written to ``benchmarks/object_removal/<clip>.jpg``.
``--fills`` instead compares the key-frame fills on frame 26, the masked
part of the frame enlarged: input, ``"patch"``, ``"net"``, ``"fsr"``
(``<clip>-fills.jpg``; where nothing is ever seen, the fill is what shows).

    python benchmarks/object_removal.py [--fills]
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

import hybridinpaint
from hybridinpaint import visualize

HERE = Path(__file__).resolve().parent
CLIPS = HERE.parent.parent / "shared" / "data" / "clips"
NAMES = ("bmx-trees", "schoolgirls", "dogs-jump")
SIZE = (432, 240)


def load(name: str, n: int = 40):
    fr = sorted((CLIPS / name / "frames").glob("*.png"))[:n]
    ms = sorted((CLIPS / name / "masks").glob("*.png"))[:n]
    frames = np.stack([cv2.resize(cv2.imread(str(f))[:, :, ::-1], SIZE, interpolation=cv2.INTER_AREA) for f in fr])
    masks = np.stack(
        [cv2.resize(cv2.imread(str(m), cv2.IMREAD_GRAYSCALE), SIZE, interpolation=cv2.INTER_NEAREST) > 127 for m in ms]
    )
    return frames, masks


def _save(sheet, path):
    tmp = path.with_suffix(".tmp.jpg")
    cv2.imwrite(str(tmp), sheet[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    tmp.replace(path)


def fills(out_dir, name, hows=("patch", "net", "fsr"), k=26):
    frames, masks = load(name)
    if not masks[k].any():
        raise SystemExit(f"{name}: frame {k} has no mask to compare fills on")
    ys, xs = np.nonzero(masks[k])
    box = (slice(max(0, ys.min() - 20), ys.max() + 20), slice(max(0, xs.min() - 20), xs.max() + 20))
    shown = frames[k][box].copy()
    shown[masks[k][box]] = (255, 0, 255)
    row = [shown]
    for how in hows:
        row.append(hybridinpaint.inpaint(frames, masks, mask_dilation=4, hallucinate=how)[k][box])
    sheet = np.concatenate(row, 1)
    sheet = cv2.resize(sheet, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    path = out_dir / f"{name}-fills.jpg"
    _save(sheet, path)
    print(f"{name}: {path.relative_to(HERE.parent)} (frame {k}; input, {', '.join(hows)})")


def main():
    out_dir = HERE / "object_removal"
    if "--fills" in sys.argv[1:]:
        out_dir.mkdir(exist_ok=True)
        for name in ("schoolgirls",):
            fills(out_dir, name)
        return
    out_dir.mkdir(exist_ok=True)
    for name in NAMES:
        if not (CLIPS / name / "masks").is_dir():
            print(f"{name}: no masks, skipped")
            continue
        frames, masks = load(name)
        res = hybridinpaint.inpaint(frames, masks, mask_dilation=4, return_result=True)
        prov = visualize.provenance(res)
        shown = frames.copy()
        m = res.masks
        shown[m] = (shown[m] * 0.4 + np.array([255, 0, 255]) * 0.6).astype(np.uint8)
        rows = [np.concatenate([shown[k], res.frames[k], prov[k]], 1) for k in (0, 13, 26, len(frames) - 1)]
        sheet = np.concatenate(rows, 0)
        path = out_dir / f"{name}.jpg"
        _save(sheet, path)
        px = res.stats["pixels"]
        print(
            f"{name}: {path.relative_to(HERE.parent)}  propagated {px['propagated along flow']}, "
            f"patch {px['patch copy']}, spatial {px['spatial fallback']}, key frames {res.stats['key_frames']}"
        )


if __name__ == "__main__":
    main()
