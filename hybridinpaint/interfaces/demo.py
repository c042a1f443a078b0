"""``hybridinpaint demo``: remove a moving blob from a short real clip that ships with the package."""

from __future__ import annotations

import json
import shutil
import sys
import time
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from hybridinpaint.runs import io


def clip() -> np.ndarray:
    """The bundled clip: 30 RGB frames, uint8, (30, 216, 384, 3). See data/demo/SOURCE.md."""
    folder = resources.files("hybridinpaint") / "data" / "demo"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".jpg"))
    frames = []
    for name in names:
        buf = np.frombuffer((folder / name).read_bytes(), np.uint8)
        frames.append(cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1])
    return np.stack(frames)


def moving_hole(t: int, h: int, w: int) -> np.ndarray:
    """An ellipse of about 8% of the frame gliding left to right, 3 px per frame."""
    yy, xx = np.mgrid[0:h, 0:w]
    masks = np.zeros((t, h, w), bool)
    for k in range(t):
        cx, cy = 0.3 * w + 3.0 * k, 0.55 * h
        masks[k] = ((xx - cx) / (0.16 * w)) ** 2 + ((yy - cy) / (0.28 * h)) ** 2 < 1
    return masks


def run(out_dir, *, backend="auto", overwrite=False, progress=True) -> Path:
    """Run the demo and write everything into ``out_dir`` (created whole or not at all).

    Writes ``result/`` (the filled frames), ``side_by_side/`` (input with the
    hole, result, provenance), ``provenance/``, ``flow/`` (the completed
    forward flow), and ``summary.json`` (timings and pixel counts).
    """
    import hybridinpaint
    from hybridinpaint import visualize

    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; choose another folder or pass overwrite=True (--overwrite)")
    io.clean_stale(out)
    tmp = io.temp_dir(out)  # made first: an unwritable folder fails now, not after the inpainting
    try:
        frames = clip()
        t, h, w, _ = frames.shape
        masks = moving_hole(t, h, w)
        shown = frames.copy()
        shown[masks] = (shown[masks] * 0.3 + np.array([255, 0, 255]) * 0.7).astype(np.uint8)
        if progress:
            from hybridinpaint.kernels import warm_up

            warm_up(backend, progress=True)  # "compiling kernels (first run only)" when it does
            print(f"hybridinpaint demo: filling a moving hole in {t} frames of {w}x{h}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        # One line per stage would be two dozen here (a propagation round per key frame): the
        # stage times go into summary.json and one line below instead.
        res = hybridinpaint.inpaint(frames, masks, backend=backend, return_result=True)
        seconds = time.perf_counter() - start
        if progress:
            stages = ", ".join(f"{k} {v:.2f}" for k, v in res.stats["seconds"].items())
            print(f"hybridinpaint demo: done in {seconds:.1f} s ({stages} s)", file=sys.stderr, flush=True)
        prov = visualize.provenance(res)
        flows = visualize.flow(res.flows["forward"])
        for sub in ("result", "side_by_side", "provenance", "flow"):
            (tmp / sub).mkdir()
        for k in range(t):
            io.write_frame(tmp / "result" / f"{k:05d}.png", res.frames[k])
            io.write_frame(tmp / "provenance" / f"{k:05d}.png", prov[k])
            io.write_frame(tmp / "side_by_side" / f"{k:05d}.png", np.concatenate([shown[k], res.frames[k], prov[k]], 1))
            if k < t - 1:
                io.write_frame(tmp / "flow" / f"{k:05d}.png", flows[k])
        summary = {
            "frames": t,
            "size": [w, h],
            "seconds": round(seconds, 3),
            "seconds_per_frame": round(seconds / t, 4),
            "stages": {k: round(v, 4) for k, v in res.stats["seconds"].items()},
            "pixels": res.stats["pixels"],
            "key_frames": res.stats.get("key_frames", []),
            "legend": visualize.LEGEND,
            "side_by_side": "input with the hole (magenta) | result | provenance",
        }
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2))
        io.replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
