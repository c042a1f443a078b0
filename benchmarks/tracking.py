"""Mask tracking from one drawn mask (``hybridinpaint.track_mask``) against the clips' own object masks.

DAVIS definitions: J = IoU, F = boundary F-measure with a tolerance of
0.008 x the image diagonal, J&F their mean, over all frames but the
annotated ones. ``hybridinpaint.metrics`` follows the DAVIS 2017 evaluation
code's definitions to the pixel (its boundary map included); ``--davis-eval
PATH`` (a checkout of davisvideochallenge/davis2017-evaluation, BSD-3, not
shipped here) scores with that code's ``db_eval_iou`` and ``db_eval_boundary``
as well, and stops if the two disagree. Baselines: the first mask held still,
and the first mask warped along DIS flow frame to frame (no appearance).
Corrections as an interactive user would give them: 1, 2 and 4 annotated
frames, evenly spaced from the first (``track_mask(frames, {k: mask, ...})``).

    python benchmarks/tracking.py [--frames N] [--no-write] [--sheet] [--davis-eval PATH] [--config TOML]
"""

from __future__ import annotations

import argparse
import resource
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


def load(name, n, scale=1.0):
    frames = quality.load_clip(name, n)
    files = sorted((quality.CLIPS / name / "masks").glob("*.png"))[: len(frames)]
    masks = [cv2.resize(cv2.imread(str(f), 0), quality.SIZE, interpolation=cv2.INTER_NEAREST) > 127 for f in files]
    masks = np.stack(masks)
    if scale != 1.0:  # the same shot at a higher resolution (a user's HD clip)
        frames = np.stack([cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) for f in frames])
        big = [cv2.resize(m.astype(np.uint8), None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST) for m in masks]
        masks = np.stack(big) > 0
    return frames, masks


OFFICIAL = None  # the DAVIS 2017 evaluation code's metrics module, with --davis-eval


def jf(result, truth, skip=(0,)):
    keep = [k for k in range(len(truth)) if k not in skip]
    j = metrics.jaccard(result[keep], truth[keep])
    f = metrics.boundary_f(result[keep], truth[keep])
    if OFFICIAL is not None:
        oj = np.array([OFFICIAL.db_eval_iou(truth[k], result[k]) for k in keep])
        of = OFFICIAL.db_eval_boundary(truth[keep].astype(np.uint8), result[keep].astype(np.uint8))
        if not (np.allclose(j, oj, atol=1e-9) and np.allclose(f, of, atol=1e-9)):
            ours, theirs = f"{j.mean()} / {f.mean()}", f"{oj.mean()} / {of.mean()}"
            raise SystemExit(f"J/F differ from the DAVIS code's: {ours} against {theirs}")
    return float(j.mean()), float(f.mean())


def given_frames(n, count):
    """``count`` annotated frames evenly spaced from the first (0; 0 and n/2; 0, n/4, n/2, 3n/4)."""
    return sorted({round(i * n / count) for i in range(count)})


def load_official(path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("davis2017_metrics", Path(path) / "davis2017" / "metrics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def _flagged(res, truth):
    """(frames under J 0.5 listed as unsure, frames under J 0.5, listed frames at or over J 0.5)."""
    j = metrics.jaccard(res.masks, truth)
    free = [k for k in range(len(truth)) if k not in res.annotated]
    bad = {k for k in free if j[k] < 0.5}
    listed = set(res.unsure)
    return len(bad & listed), len(bad), len(listed - bad)


def run(n, write_sheets, settings=None, scale=1.0, clips=CLIPS):
    rows = []
    track_mask(np.zeros((2, 32, 32, 3), np.uint8), np.ones((32, 32), bool))  # imports and first calls
    for name in clips:
        if not (quality.CLIPS / name / "masks").is_dir():
            continue
        frames, truth = load(name, n, scale)
        start = time.perf_counter()
        res = track_mask(frames, truth[0], settings=settings, return_result=True)
        sec = (time.perf_counter() - start) / len(frames)
        given = {}
        for count in (2, 4):
            keys = given_frames(len(frames), count)
            given[count] = jf(track_mask(frames, {k: truth[k] for k in keys}, settings=settings), truth, skip=keys)
        rows.append(
            {
                "clip": name,
                "frames": len(frames),
                "ours": jf(res.masks, truth),
                "given 2": given[2],
                "given 4": given[4],
                "still": jf(np.broadcast_to(truth[0], truth.shape), truth),
                "warp": jf(warped(frames, truth[0]), truth),
                "sec": sec,
                "unsure": len(res.unsure),
                "bad": _flagged(res, truth),
                "conf_corr": float(np.corrcoef(res.confidence[1:], metrics.jaccard(res.masks, truth)[1:])[0, 1]),
            }
        )
        print(rows[-1], flush=True)
        if write_sheets:
            sheet(name, frames, res.masks, truth)
    return rows


def table(rows, size="432x240"):
    def m(pair):
        return f"{np.mean(pair):.3f} ({pair[0]:.3f} / {pair[1]:.3f})"

    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} at {size}, CPU, 2 cores. Cells: J&F (J / F) over the frames not"
        f" given{', checked against the DAVIS 2017 evaluation code' if OFFICIAL is not None else ''}.",
        "",
        "| clip | frames | track_mask, first frame given | 2 frames given | 4 frames given | first mask held still | "
        "warped along DIS flow | s/frame | unsure frames | frames under J 0.5 listed as unsure | "
        "listed frames at or over J 0.5 | corr(confidence, J) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['clip']} | {r['frames']} | {m(r['ours'])} | {m(r['given 2'])} | {m(r['given 4'])} | "
            f"{m(r['still'])} | {m(r['warp'])} | {r['sec']:.3f} | {r['unsure']} | "
            f"{r['bad'][0]}/{r['bad'][1]} | {r['bad'][2]} | {r['conf_corr']:.2f} |"
        )
    mean = lambda k: float(np.mean([np.mean(r[k]) for r in rows]))  # noqa: E731
    lines.append(
        f"| **mean** | | {mean('ours'):.3f} | {mean('given 2'):.3f} | {mean('given 4'):.3f} | {mean('still'):.3f} | "
        f"{mean('warp'):.3f} | {np.mean([r['sec'] for r in rows]):.3f} | | | | |"
    )
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--sheet", action="store_true", help="write contact sheets to benchmarks/tracking/")
    ap.add_argument("--davis-eval", help="a checkout of davis2017-evaluation: score with its code as well")
    ap.add_argument("--config", default=None, help="a settings file (TOML), track_mask(settings=)")
    ap.add_argument("--scale", type=float, default=1.0, help="track the clips scaled up by this (HD input)")
    ap.add_argument("--clips", default=",".join(CLIPS), help="comma-separated clip names")
    args = ap.parse_args()
    if args.davis_eval:
        global OFFICIAL
        OFFICIAL = load_official(args.davis_eval)
    if not quality.CLIPS.is_dir():
        raise SystemExit(f"shared clips not found at {quality.CLIPS}")
    rows = run(args.frames, args.sheet, args.config, args.scale, args.clips.split(","))
    md = table(rows, f"{round(432 * args.scale)}x{round(240 * args.scale)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak memory of this process: {peak:.2f} GiB (frames at {args.scale}x of 432x240)")
    print(md)
    if not args.no_write and args.config is None and args.scale == 1.0 and args.clips == ",".join(CLIPS):
        heading = "Mask tracking (issue 14)"
        write_section("tracking", md, heading=heading, command="python benchmarks/tracking.py --sheet")


if __name__ == "__main__":
    main()
