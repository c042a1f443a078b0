"""Anonymization measured on heads annotated by hand, never by a detector (issue 27).

The clips are still photos with people (``benchmarks/data/faces/``, each
head and face boxed by eye without any detector; sources and licences in
its SOURCE.md) filmed by a synthetic camera that pans and zooms
(``face_clips.py``): 480x270, 40 frames, the boxes moved with the camera.
None of these clips chose a threshold or a setting: they are held out.

Per mode (``box``, the default; ``blur``; ``remove``; ``none``, the input):

- **covered**: face-frames (a face at least half in the picture) whose face
  box is at least 90% inside what was replaced; per pose;
- **head**: the mean share of each such head's box (hair, ears, beard)
  that was replaced;
- **leaks**: face-frames on which a verifier still finds a face centred in
  the head (the bundled detector at 0.3, single scale, the check the
  issue names; and scikit-image's LBP frontal-face cascade); and frames on
  which the bundled detector at 0.3 finds anything at all;
- **away**: the share of each frame's pixels replaced outside every
  annotated head, and outside every head grown by half its size each way
  (what is replaced far from anyone: false alarms, not hair or shoulders);
- seconds per frame (2 cores).

    python benchmarks/privacy_heads.py [--no-write] [--modes box,blur,remove,none] [--ablate]

``--ablate`` adds ``box`` with the ellipse inside each head box
(``BOX_SHAPE = "ellipse"``), without carrying tracks (``CARRY = 0``), without
the search at twice the size (``UPSCALE_EVERY = 0``) and without either, to
show what each brings. ``--speed`` (only; prints) times the default mode
per clip, in Python and as the file command; ``--head-stats`` (only;
prints) measures the annotated heads against the detector's face box.
``--shapes`` (only; writes nothing) compares head
models: the grown face box (``GROW_W`` x ``GROW_H``, raised by ``RAISE``)
as a rectangle or the ellipse inside it, by faces covered, heads replaced
and pixels replaced away from heads (tracks only, before the check).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from hybridinpaint.privacy import LeakWarning
from hybridinpaint.privacy import anonymizer as privacy
from hybridinpaint.privacy.faces import FaceDetector
from hybridinpaint.settings import Settings

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _results import write_section  # noqa: E402
from face_clips import clips  # noqa: E402
from privacy import Lbp  # noqa: E402

VERIFY = 0.3
COVERED = 0.9  # share of a face box that must be replaced for the face to count as covered
VISIBLE = 0.5


def _box_px(box, h, w):
    x1, y1 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    x2, y2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    return x1, y1, x2, y2


def _share(mask, box):
    x1, y1, x2, y2 = _box_px(box, *mask.shape)
    if x2 <= x1 or y2 <= y1:
        return None
    return float(mask[y1:y2, x1:x2].mean())


def _inside(box, d):
    cx, cy = (d[0] + d[2]) / 2, (d[1] + d[3]) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def score_clip(clip, frames, masks, det, lbp):
    """Counts for one clip's output: see the module's list."""
    t_count, h, w = masks.shape
    c = {
        "faces": 0,
        "covered": 0,
        "head": [],
        "leak_det": 0,
        "leak_lbp": 0,
        "hit_frames": 0,
        "away": [],
        "far": [],
        "pose": {},
        "worst_face": 1.0,
    }
    per_face = {}
    for t in range(t_count):
        found = det(frames[t], VERIFY)
        lb = lbp(frames[t])
        c["hit_frames"] += int(len(found) > 0)
        heads = np.zeros((h, w), bool)
        near = np.zeros((h, w), bool)  # heads grown by half their size each way: hair, neck, shoulders
        for p in clip.people:
            x1, y1, x2, y2 = _box_px(p["heads"][t], h, w)
            if x2 > x1 and y2 > y1:
                heads[y1:y2, x1:x2] = True
            hx1, hy1, hx2, hy2 = p["heads"][t]
            hw, hh = (hx2 - hx1) / 2, (hy2 - hy1) / 2
            x1, y1, x2, y2 = _box_px((hx1 - hw, hy1 - hh, hx2 + hw, hy2 + hh), h, w)
            if x2 > x1 and y2 > y1:
                near[y1:y2, x1:x2] = True
            if p["faces"] is None or p["visible"][t] < VISIBLE:
                continue
            share = _share(masks[t], p["faces"][t])
            if share is None:
                continue
            ok = share >= COVERED
            c["faces"] += 1
            c["covered"] += ok
            pose = c["pose"].setdefault(p["pose"], [0, 0])
            pose[0] += ok
            pose[1] += 1
            per_face.setdefault(p["id"], []).append(ok)
            c["head"].append(_share(masks[t], p["heads"][t]))
            c["leak_det"] += any(_inside(p["heads"][t], d) for d in found)
            c["leak_lbp"] += any(_inside(p["heads"][t], d) for d in lb)
        c["away"].append(float((masks[t] & ~heads).mean()))
        c["far"].append(float((masks[t] & ~near).mean()))
    if per_face:
        c["worst_face"] = min(float(np.mean(v)) for v in per_face.values())
    return c


def run(modes, ablate=False):
    det, lbp = FaceDetector(), Lbp()
    runs = [(m, m, Settings()) for m in modes]
    if ablate:
        runs += [
            ("box, ellipse", "box", Settings().replace(privacy={"BOX_SHAPE": "ellipse"})),
            ("box, no carry", "box", Settings().replace(privacy={"CARRY": 0})),
            ("box, no 2x search", "box", Settings().replace(privacy={"UPSCALE_EVERY": 0})),
            ("box, neither", "box", Settings().replace(privacy={"CARRY": 0, "UPSCALE_EVERY": 0})),
        ]
    totals = {name: [] for name, _, _ in runs}
    secs = {name: [] for name, _, _ in runs}
    per_clip = {}
    for clip in clips():
        for name, mode, settings in runs:
            t0 = time.perf_counter()
            if mode == "none":
                frames, masks = clip.frames, np.zeros(clip.frames.shape[:3], bool)
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", LeakWarning)
                    res = privacy.anonymize(
                        clip.frames, mode=mode, backend="cpu", settings=settings, return_result=True
                    )
                frames, masks = res.frames, res.masks
            secs[name].append((time.perf_counter() - t0) / len(clip.frames))
            c = score_clip(clip, frames, masks, det, lbp)
            totals[name].append(c)
            per_clip.setdefault(clip.name, {})[name] = c
            print(f"{clip.name} {name}: covered {c['covered']}/{c['faces']}, leaks {c['leak_det']}", flush=True)
    return totals, secs, per_clip


def _sum(cs, key):
    return sum(c[key] for c in cs)


def table(totals, secs, per_clip):
    lines = [
        "| output | faces covered | worst face | head replaced (mean) | leaks: detector at 0.3 | leaks: LBP | frames "
        "with any detection at 0.3 | replaced away from heads (mean / worst frame) | replaced farther than half a head "
        "from any head (mean / worst) | s/frame |",
        "| --- " * 10 + "|",
    ]
    for name, cs in totals.items():
        faces, cov = _sum(cs, "faces"), _sum(cs, "covered")
        heads = [v for c in cs for v in c["head"] if v is not None]
        away = [v for c in cs for v in c["away"]]
        far = [v for c in cs for v in c["far"]]
        frames = sum(len(c["away"]) for c in cs)
        lines.append(
            f"| {name} | {cov}/{faces} = {cov / max(faces, 1):.3f} | {min(c['worst_face'] for c in cs):.2f} | "
            f"{np.mean(heads):.2f} | {_sum(cs, 'leak_det')}/{faces} | {_sum(cs, 'leak_lbp')}/{faces} | "
            f"{_sum(cs, 'hit_frames')}/{frames} | {100 * np.mean(away):.2f}% / {100 * max(away):.1f}% | "
            f"{100 * np.mean(far):.2f}% / {100 * max(far):.1f}% | {np.mean(secs[name]):.3f} |"
        )
    poses = sorted({p for cs in totals.values() for c in cs for p in c["pose"]})
    lines += ["", "Faces covered by pose (face-frames):", ""]
    lines += ["| output | " + " | ".join(poses) + " |", "| --- " * (len(poses) + 1) + "|"]
    for name, cs in totals.items():
        cells = []
        for p in poses:
            a = sum(c["pose"].get(p, [0, 0])[0] for c in cs)
            n = sum(c["pose"].get(p, [0, 0])[1] for c in cs)
            cells.append(f"{a}/{n}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Per clip (covered / face-frames, leaks at 0.3):", ""]
    names = list(totals)
    lines += ["| clip | " + " | ".join(names) + " |", "| --- " * (len(names) + 1) + "|"]
    for clip, row in per_clip.items():
        lines.append(
            f"| {clip} | "
            + " | ".join(f"{row[n]['covered']}/{row[n]['faces']}, {row[n]['leak_det']}" for n in names)
            + " |"
        )
    return "\n".join(lines) + "\n"


SHAPES = (  # (GROW_W, GROW_H, RAISE, BOX_SHAPE)
    (2.1, 2.3, 0.18, "rectangle"),
    (2.1, 2.3, 0.18, "ellipse"),
    (2.2, 2.3, 0.15, "ellipse"),
    (1.8, 2.0, 0.15, "ellipse"),
    (1.7, 1.8, 0.15, "ellipse"),
    (1.5, 1.6, 0.10, "ellipse"),
    (1.5, 1.6, 0.10, "rectangle"),
)


def shapes():
    """Markdown: per head model, faces covered, heads replaced (mean, and share >= 0.9), away from heads."""
    rows = {v: {"faces": 0, "covered": 0, "head": [], "away": [], "far": []} for v in SHAPES}
    for clip in clips():
        found = privacy.detect(clip.frames, threshold=Settings().privacy.LINK_FRACTION * Settings().privacy.THRESHOLD)
        frame_at = privacy.grey_reader(clip.frames.__getitem__)
        t_count, h, w = clip.frames.shape[:3]
        for v in SHAPES:
            cfg = Settings().replace(privacy={"GROW_W": v[0], "GROW_H": v[1], "RAISE": v[2]})
            tracks = privacy.link_tracks(found, (h, w), frame_at=frame_at, settings=cfg)
            masks = privacy.track_masks(tracks, t_count, (h, w), ellipse=v[3] == "ellipse")
            c = score_clip(clip, clip.frames, masks, lambda *a: np.zeros((0, 5)), lambda *a: np.zeros((0, 5)))
            for k in ("faces", "covered"):
                rows[v][k] += c[k]
            rows[v]["head"] += [x for x in c["head"] if x is not None]
            rows[v]["away"] += c["away"]
            rows[v]["far"] += c["far"]
        print(clip.name, flush=True)
    lines = [
        "| head model (face box grown W x H, raised) | shape | faces covered | head replaced: mean / share >= 0.9 "
        "| replaced away from heads (mean / worst frame) | farther than half a head |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for v, r in rows.items():
        head = np.array(r["head"])
        lines.append(
            f"| {v[0]} x {v[1]}, {v[2]} | {v[3]} | {r['covered']}/{r['faces']} = {r['covered'] / r['faces']:.3f} | "
            f"{head.mean():.2f} / {(head >= 0.9).mean():.2f} | {100 * np.mean(r['away']):.2f}% / "
            f"{100 * np.max(r['away']):.1f}% | {100 * np.mean(r['far']):.2f}% |"
        )
    return "\n".join(lines) + "\n"


def speed():
    """Markdown: seconds per frame of the default mode, in Python and as the file command, per clip (2 cores)."""
    import tempfile

    from hybridinpaint.runs import io
    from hybridinpaint.runs.anonymize import anonymize_file

    lines = [
        "| clip (480x270, 40 frames) | faces | `anonymize()` s/frame | `anonymize_file` s/frame |",
        "| --- " * 4 + "|",
    ]
    privacy.anonymize(np.zeros((2, 270, 480, 3), np.uint8), backend="cpu")  # load the network once
    for clip in clips():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LeakWarning)
            t0 = time.perf_counter()
            privacy.anonymize(clip.frames, backend="cpu")
            py = (time.perf_counter() - t0) / len(clip.frames)
            with tempfile.TemporaryDirectory() as tmp:
                for k, f in enumerate(clip.frames):
                    io.write_frame(Path(tmp) / "in" / f"{k:05d}.png", f)
                t0 = time.perf_counter()
                anonymize_file(Path(tmp) / "in", Path(tmp) / "out", backend="cpu")
                files = (time.perf_counter() - t0) / len(clip.frames)
        lines.append(f"| {clip.name} | {len(clip.people)} | {py:.3f} | {files:.3f} |")
        print(lines[-1], flush=True)
    return "\n".join(lines) + "\n"


def head_stats():
    """Markdown: the annotated heads in units of the detector's face box height, and the shift a profile explains.

    Each photo at half and full size; a detection (a local maximum of the
    heatmap at 0.3) is matched to the annotated head holding its centre.
    ``s``: the nose's horizontal offset from between the eyes, in eye
    distances (CenterFace's landmarks); the head centre's offset is fitted
    as ``k * s`` face heights.
    """
    import cv2

    from hybridinpaint.privacy.faces import FaceDetector

    det = FaceDetector()
    doc = json.loads((HERE / "data" / "faces" / "annotations.json").read_text())
    rows = []
    for name, ann in doc["images"].items():
        img = cv2.imread(str(HERE / "data" / "faces" / name))[:, :, ::-1]
        for scale in (0.5, 1.0):
            im = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            (heat, size, off, lm), (sx, sy) = det.heatmap(im)
            heat = heat[0, 0]
            for y, x in zip(*np.nonzero(heat > VERIFY)):
                if heat[y, x] < heat[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2].max():
                    continue
                bh, bw = np.exp(size[0, 0, y, x]) * 4, np.exp(size[0, 1, y, x]) * 4
                cy, cx = (y + off[0, 0, y, x] + 0.5) * 4, (x + off[0, 1, y, x] + 0.5) * 4
                pts = np.array(
                    [
                        (lm[0, 2 * j + 1, y, x] * bw + cx - bw / 2, lm[0, 2 * j, y, x] * bh + cy - bh / 2)
                        for j in range(5)
                    ]
                )
                fh, fx, fy = bh * sy / scale, cx * sx / scale, cy * sy / scale
                for p in ann["people"]:
                    hx1, hy1, hx2, hy2 = p["head"]
                    if p["face"] and hx1 <= fx <= hx2 and hy1 <= fy <= hy2:
                        eyes = np.linalg.norm(pts[1] - pts[0])
                        s = (pts[2, 0] - (pts[0, 0] + pts[1, 0]) / 2) / max(eyes, 1e-3)
                        rows.append(
                            (s, ((hx1 + hx2) / 2 - fx) / fh, (hx2 - hx1) / fh, (fy - hy1) / fh, (hy2 - fy) / fh)
                        )
                        break
    s, dx, width, top, bottom = np.array(rows, float).T
    k = float(np.sum(s * dx) / np.sum(s * s))
    pct = lambda v: " / ".join(f"{x:.2f}" for x in np.percentile(v, [50, 90, 95, 100]))  # noqa: E731
    lines = [
        f"{len(rows)} detections matched to annotated heads; in face-box heights, median / 90th / 95th percentile / "
        "largest:",
        "",
        "| head | median / p90 / p95 / max |",
        "| --- | --- |",
        f"| width | {pct(width)} |",
        f"| top, above the face box centre | {pct(top)} |",
        f"| bottom, below it | {pct(bottom)} |",
        "",
        f"Head centre offset = {k:.2f} x s face heights (s: the nose's offset from between the eyes, in eye "
        f"distances); residual 5th / 95th percentile {np.percentile(dx - k * s, 5):.2f} / "
        f"{np.percentile(dx - k * s, 95):.2f}, against {np.percentile(dx, 5):.2f} / {np.percentile(dx, 95):.2f} "
        "without it.",
    ]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--modes", default="box,blur,remove,none")
    ap.add_argument("--ablate", action="store_true")
    ap.add_argument("--shapes", action="store_true", help="only: head models compared (prints, writes nothing)")
    ap.add_argument("--speed", action="store_true", help="only: seconds per frame of the default mode (prints)")
    ap.add_argument("--head-stats", action="store_true", help="only: annotated heads against the face box (prints)")
    args = ap.parse_args()
    if args.head_stats:
        print(head_stats())
        return
    if args.speed:
        print(speed())
        return
    if args.shapes:
        print(shapes())
        return
    md = table(*run(args.modes.split(","), args.ablate))
    print(md)
    if not args.no_write:
        write_section(
            "privacy-heads",
            md,
            heading="Privacy on hand-annotated heads (issue 27)",
            command="python benchmarks/privacy_heads.py --ablate",
        )


if __name__ == "__main__":
    main()
