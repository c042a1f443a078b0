"""Face anonymization (``hybridinpaint.anonymize``) against the hand-annotated set in tests/data/faces.json.

Numbers, on the annotated frames and photos:

- detection per image: recall and precision of the bundled detector at each
  threshold, each image on its own;
- with tracking: the clips run whole through detection + ``link_tracks``;
  a face is found when a track's box covers its centre, a track box on an
  annotated frame covering no face (nor an ignored head) is a false alarm;
- the threshold chosen leave-one-group-out (each clip one group, the
  photos one): chosen on the others by F1 with tracking, scored on the
  group left out;
- leaks after anonymization: annotated faces on which a detector still
  fires in the output, for ``remove``, ``blur``, ``box`` and ``deface``'s
  own output (blur, its defaults) where a ``deface`` command is given.
  Two verifiers: the bundled detector at 0.2 (the tool's own check, biased
  towards it) and an independent one, scikit-image's LBP frontal-face
  cascade;
- seconds per frame at 432x240 and 1080p (detect, track, fill, verify).

    python benchmarks/privacy.py [--no-write] [--deface /path/to/venv/bin/deface]

Two measurements beside the table (each prints its own and writes nothing):

- ``--grey``: detection per image with every image turned grey (the grey
  in all three channels, as ``anonymize`` reads a film scan), beside the
  same images in colour;
- ``--grow-loco``: the head-box growth chosen leave-one-clip-out. For each
  box in ``GROWS`` (``RAISE`` as configured), ``remove`` runs on every
  annotated clip with faces and the faces the bundled detector still finds
  at 0.2 are counted; each clip in turn is scored with the box that leaks
  least on the other clips (ties to the smaller box).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from hybridinpaint.privacy import anonymizer as privacy
from hybridinpaint.privacy.faces import FaceDetector
from hybridinpaint.settings import Settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data"
ANNOTATIONS = ROOT / "tests" / "data" / "faces.json"
sys.path.insert(0, str(HERE))
from _results import write_section  # noqa: E402

THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


# The settings every measurement here uses (--grow changes the head box's).
SETTINGS = Settings()


def load_annotations():
    doc = json.loads(ANNOTATIONS.read_text())
    groups: dict[str, list] = {}
    for src, ann in doc["frames"].items():
        parts = src.split("/")
        group = parts[1] if parts[0] == "clips" else "photos"
        groups.setdefault(group, []).append((src, ann))
    return groups


def read_rgb(src):
    img = cv2.imread(str(DATA / src), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(DATA / src)
    return img[:, :, ::-1]


def _inside(box, x, y):
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def iou_of(a, b):
    return float(privacy.box_iou(np.float32([a[:4]]), np.float32([b[:4]]))[0, 0])


def match(dets, faces, ignore):
    """(hits, false alarms, faces): greedy by score; IoU >= 0.3 or centre inside an unmatched face."""
    used = [False] * len(faces)
    hits = fa = 0
    for d in sorted(dets, key=lambda d: -d[4] if len(d) > 4 else 0):
        cx, cy = (d[0] + d[2]) / 2, (d[1] + d[3]) / 2
        j = next((j for j, f in enumerate(faces) if not used[j] and (iou_of(d, f) >= 0.3 or _inside(f, cx, cy))), None)
        if j is not None:
            used[j] = True
            hits += 1
        elif not any(iou_of(d, g) > 0 and _inside(g, cx, cy) for g in ignore):
            fa += 1
    return hits, fa, len(faces)


def covered(track_boxes, faces, ignore):
    """With tracking: faces whose centre a track box covers; track boxes covering no face nor ignored head."""
    hits = sum(any(_inside(b, (f[0] + f[2]) / 2, (f[1] + f[3]) / 2) for b in track_boxes) for f in faces)
    fa = 0
    for b in track_boxes:
        if not any(_inside(b, (f[0] + f[2]) / 2, (f[1] + f[3]) / 2) for f in list(faces) + list(ignore)):
            fa += 1
    return hits, fa, len(faces)


def prf(h, fa, n):
    r = h / n if n else float("nan")
    p = h / (h + fa) if h + fa else float("nan")
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return r, p, f1


def grey3(img):
    """The image's grey in all three channels (a film scan as ``anonymize`` reads it)."""
    return np.repeat(cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)


def per_image(groups, det, grey=False):
    """{group: {threshold: (hits, fa, n)}} of the detector on each image alone (turned grey with ``grey``)."""
    out = {}
    for g, items in groups.items():
        out[g] = {}
        dets = {src: det(grey3(read_rgb(src)) if grey else read_rgb(src), 0.1) for src, _ in items}
        for th in THRESHOLDS:
            tot = np.zeros(3, int)
            for src, ann in items:
                d = dets[src][dets[src][:, 4] >= th]
                tot += match(d.tolist(), ann["faces"], ann["ignore"])
            out[g][th] = tuple(int(v) for v in tot)
    return out


def clip_frames(name):
    files = sorted((DATA / "clips" / name / "frames").glob("*.png"))
    return np.stack([cv2.imread(str(f))[:, :, ::-1] for f in files])


def with_tracking(groups, det):
    """{group: {threshold: (hits, fa, n)}}: clips whole through link_tracks; photos as one-frame clips."""
    out = {}
    for g, items in groups.items():
        if g == "photos":
            seqs = [(read_rgb(src)[None], [(0, ann)]) for src, ann in items]
        else:
            video = clip_frames(g)
            seqs = [(video, [(int(Path(src).stem), ann) for src, ann in items])]
        found = [[det(f, 0.1) for f in video] for video, _ in seqs]
        out[g] = {}
        for th in THRESHOLDS:
            tot = np.zeros(3, int)
            for (video, anns), dets in zip(seqs, found):
                tracks = privacy.link_tracks(dets, video.shape[1:3], threshold=th, settings=SETTINGS)
                for k, ann in anns:
                    boxes = [b for b in (tr.box_at(k) for tr in tracks) if b is not None]
                    tot += covered(boxes, ann["faces"], ann["ignore"])
            out[g][th] = tuple(int(v) for v in tot)
    return out


def leave_one_out(table):
    """Per held-out group: the threshold best on the others (F1, summed counts) and its held-out counts."""
    rows = []
    for g in table:
        best = max(THRESHOLDS, key=lambda th: prf(*np.sum([table[o][th] for o in table if o != g], axis=0))[2])
        rows.append((g, best, table[g][best]))
    return rows


class Lbp:
    """scikit-image's bundled LBP frontal-face cascade: an independent second verifier."""

    def __init__(self):
        from skimage import data
        from skimage.feature import Cascade

        self.c = Cascade(data.lbp_frontal_face_cascade_filename())

    def __call__(self, img, threshold=None):
        from skimage.color import rgb2gray

        g = rgb2gray(img)
        found = self.c.detect_multi_scale(g, scale_factor=1.15, step_ratio=1, min_size=(8, 8), max_size=(400, 400))
        return np.float32([[d["c"], d["r"], d["c"] + d["width"], d["r"] + d["height"], 1.0] for d in found]).reshape(
            -1, 5
        )


VERIFIERS = (0.2, 0.3, 0.4)


def leaks(groups, det, threshold, deface=None, modes=("none", "remove", "blur", "box"), per_clip=None):
    """{mode: {verifier: [faces still found, faces]}} on the annotated clip frames; and seconds per frame.

    ``per_clip``, a dict, receives the same counts per clip: ``{clip: {mode: {verifier: [found, faces]}}}``.
    """
    lbp = Lbp()
    modes = list(modes) + (["deface"] if deface else [])
    out = {
        m: {**{f"bundled detector at {v}": [0, 0] for v in VERIFIERS}, "scikit-image LBP cascade": [0, 0]}
        for m in modes
    }
    secs = {}
    for g, items in groups.items():
        if g == "photos" or not any(ann["faces"] for _, ann in items):
            continue
        video = clip_frames(g)
        for mode in modes:
            t0 = time.perf_counter()
            if mode == "none":
                res = video
            elif mode == "deface":
                res = run_deface(deface, video)
            else:
                res = privacy.anonymize(video, mode=mode, threshold=threshold, backend="cpu", settings=SETTINGS)
            secs.setdefault(mode, []).append((time.perf_counter() - t0) / len(video))
            for src, ann in items:
                k = int(Path(src).stem)
                found = det(res[k], min(VERIFIERS))
                checks = [found[found[:, 4] >= v] for v in VERIFIERS] + [lbp(res[k])]
                for name, d in zip(out[mode], checks):
                    h, _, n = match(d.tolist(), ann["faces"], [])
                    out[mode][name][0] += h
                    out[mode][name][1] += n
                    if per_clip is not None:
                        counts = per_clip.setdefault(g, {}).setdefault(mode, {}).setdefault(name, [0, 0])
                        counts[0] += h
                        counts[1] += n
    return out, {m: float(np.mean(v)) for m, v in secs.items()}


def run_deface(deface, video):
    """deface's output (its defaults: threshold 0.2, blurred ellipses, mask scale 1.3) on the frames, as PNGs."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for k, f in enumerate(video):
            cv2.imwrite(str(folder / f"{k:05d}.png"), f[:, :, ::-1])
        subprocess.run([deface, str(folder)], check=True, capture_output=True)
        return np.stack([cv2.imread(str(folder / f"{k:05d}_anonymized.png"))[:, :, ::-1] for k in range(len(video))])


def speed(threshold):
    video = clip_frames("schoolgirls")[:20]
    out = {}
    for name, size in (("432x240", (432, 240)), ("1080p", (1920, 1080))):
        v = np.stack(
            [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in video[: 20 if name == "432x240" else 8]]
        )
        res = privacy.anonymize(v, threshold=threshold, backend="cpu", return_result=True)  # warm
        t0 = time.perf_counter()
        res = privacy.anonymize(v, threshold=threshold, backend="cpu", return_result=True)
        out[name] = ((time.perf_counter() - t0) / len(v), len(res.tracks))
    return out


# Head boxes (width, height factors over the face box) compared by --grow-loco, smallest first.
GROWS = ((1.5, 1.7), (1.8, 2.0), (2.1, 2.3))
LOCO_VERIFIER = "bundled detector at 0.2"


def grow_loco(groups, det):
    """Markdown: leaks after ``remove`` per box and clip, and the box chosen leave-one-clip-out."""
    global SETTINGS
    saved = SETTINGS
    cfg = saved.privacy
    found = {}  # box -> clip -> [faces still found, faces]
    try:
        for box in GROWS:
            SETTINGS = saved.replace(privacy={"GROW_W": box[0], "GROW_H": box[1]})
            per_clip = {}
            leaks(groups, det, cfg.THRESHOLD, modes=("remove",), per_clip=per_clip)
            found[box] = {g: v["remove"][LOCO_VERIFIER] for g, v in per_clip.items()}
            print(f"box {box}: {found[box]}", flush=True)
    finally:
        SETTINGS = saved
    clips = list(found[GROWS[0]])
    name = lambda b: f"{b[0]} x {b[1]}"  # noqa: E731
    lines = [
        f"`remove` at threshold {cfg.THRESHOLD}, RAISE {cfg.RAISE}; faces the bundled detector still finds at 0.2:",
        "",
        "| clip | " + " | ".join(name(b) for b in GROWS) + " |",
        "| --- " * (len(GROWS) + 1) + "|",
    ]
    for g in clips:
        lines.append(f"| {g} | " + " | ".join(f"{found[b][g][0]}/{found[b][g][1]}" for b in GROWS) + " |")
    totals = {b: sum(found[b][g][0] for g in clips) for b in GROWS}
    faces = sum(found[GROWS[0]][g][1] for g in clips)
    lines.append("| **all** | " + " | ".join(f"{totals[b]}/{faces} = {totals[b] / faces:.2f}" for b in GROWS) + " |")
    lines += ["", "Leave one clip out (the box that leaks least on the other clips, ties to the smaller):", ""]
    lines += ["| held out | chosen | faces still found there |", "| --- | --- | --- |"]
    held = [0, 0]
    for g in clips:
        best = min(GROWS, key=lambda b: (sum(found[b][o][0] for o in clips if o != g), GROWS.index(b)))
        a, n = found[best][g]
        held[0] += a
        held[1] += n
        lines.append(f"| {g} | {name(best)} | {a}/{n} |")
    lines.append(f"| **all, held out** | | **{held[0]}/{held[1]} = {held[0] / max(held[1], 1):.2f}** |")
    return "\n".join(lines) + "\n"


def grey_table(groups, det):
    """Markdown: per-image recall / precision at each threshold, in colour and turned grey."""
    colour, grey = per_image(groups, det), per_image(groups, det, grey=True)
    lines = ["| threshold | per image, colour: recall / precision | turned grey |", "| --- | --- | --- |"]
    for th in THRESHOLDS:
        a = np.sum([colour[g][th] for g in colour], axis=0)
        b = np.sum([grey[g][th] for g in grey], axis=0)
        lines.append(f"| {th} | {fmt_counts(a)} | {fmt_counts(b)} |")
    return "\n".join(lines) + "\n"


def fmt_counts(c):
    r, p, f1 = prf(*c)
    return f"{r:.2f} / {p:.2f} ({c[0]}/{c[2]}, {c[1]} false)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--deface", help="a deface command (installed elsewhere: it needs opencv-python)")
    ap.add_argument("--skip-leaks", action="store_true")
    ap.add_argument("--modes", default="none,remove,blur,box", help="outputs whose leaks are counted")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--grow", help="head box factors W,H,RAISE instead of the settings' privacy.GROW_W, GROW_H, RAISE")
    ap.add_argument("--grey", action="store_true", help="only: detection per image, in colour and turned grey")
    ap.add_argument("--grow-loco", action="store_true", help="only: the head box chosen leave-one-clip-out")
    args = ap.parse_args()
    if not DATA.is_dir():
        sys.exit(f"needs the shared data at {DATA}")
    if args.grow:
        global SETTINGS
        gw, gh, raise_ = (float(v) for v in args.grow.split(","))
        SETTINGS = SETTINGS.replace(privacy={"GROW_W": gw, "GROW_H": gh, "RAISE": raise_})
    groups = load_annotations()
    det = FaceDetector()
    if args.grey or args.grow_loco:
        if args.grey:
            print(grey_table(groups, det), flush=True)
        if args.grow_loco:
            print(grow_loco(groups, det), flush=True)
        return
    img = per_image(groups, det)
    trk = with_tracking(groups, det)
    lines = ["| threshold | per image: recall / precision | with tracking: recall / precision |", "| --- | --- | --- |"]
    for th in THRESHOLDS:
        a = np.sum([img[g][th] for g in img], axis=0)
        b = np.sum([trk[g][th] for g in trk], axis=0)
        lines.append(f"| {th} | {fmt_counts(a)} | {fmt_counts(b)} |")
    loo = leave_one_out(trk)
    held = np.sum([c for _, _, c in loo], axis=0)
    lines += [
        "",
        "Leave one group out (threshold chosen by F1 with tracking on the other groups):",
        "",
        "| held out | chosen | recall / precision there |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {g} | {th} | {fmt_counts(c)} |" for g, th, c in loo]
    lines.append(f"| **all, held out** | | **{fmt_counts(held)}** |")
    chosen = max(set(th for _, th, _ in loo), key=[th for _, th, _ in loo].count)
    lines.append(f"\nDefault threshold, the most chosen: {chosen} (`privacy.anonymize(threshold=)`).")
    print("\n".join(lines), flush=True)
    if not args.skip_leaks:
        lk, secs = leaks(groups, det, chosen, args.deface, args.modes.split(","))
        names = list(next(iter(lk.values())))
        lines += ["", "Leaks: annotated faces a verifier still finds in the output (clip frames):", ""]
        lines += ["| output | " + " | ".join(names) + " | s/frame |", "| --- " * (len(names) + 2) + "|"]
        for mode, v in lk.items():
            cells = " | ".join(f"{a}/{n} = {a / max(n, 1):.2f}" for a, n in v.values())
            lines.append(f"| {mode} | {cells} | {secs.get(mode, 0):.3f} |")
    if not args.skip_speed:
        sp = speed(chosen)
        lines += [
            "",
            "Seconds per frame, `anonymize(mode='remove')` (detect, track, fill, verify; schoolgirls, 2 cores): "
            + ", ".join(f"{k} {s:.3f} s ({n} tracks)" for k, (s, n) in sp.items()),
        ]
    md = "\n".join(lines) + "\n"
    print(md)
    if not args.no_write:
        write_section(
            "privacy",
            md,
            heading="Privacy: faces found, tracked, removed (issue 17)",
            command="python benchmarks/privacy.py --deface /path/to/deface",
        )


if __name__ == "__main__":
    main()
