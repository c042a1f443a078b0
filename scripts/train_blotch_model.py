"""Fit the blotch classifier shipped in ``hybridinpaint/data/blotch_model.json``.

Training data: every clean shared clip (``../shared/data/clips``, the old
films excepted), damaged by two generators that differ from the one the
leave-one-clip-out benchmark scores on (``benchmarks/film_loco.py``):
issue 5's round, soft-edged blotches (``benchmarks/film.py``), and the
generator below (Gaussian spots, hairs, tilted streaks; white or clumped
grain). Each frame's blotch candidates (:func:`hybridinpaint.film.blotch_candidates`)
are labelled dirt when a quarter of their pixels lie on a true blotch
(those :func:`hybridinpaint.film.blotches.plausible` refuses are left out: the
classifier never sees them).

The model is a logistic regression (scikit-learn) on standardised features;
its decision threshold is the one with the best F1 of blotch recall and
precision (as ``benchmarks/film.py`` scores them) when each clip is
predicted by a model fitted on the others.

    pip install scikit-learn
    python scripts/train_blotch_model.py [--frames 20] [--out hybridinpaint/data/blotch_model.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy import ndimage

from hybridinpaint.film import blotches
from hybridinpaint.film import repair as film

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import film as film_bench  # noqa: E402 - issue 5's damage generator, and how blotch detection is scored
import quality  # noqa: E402 - the shared clips

THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
LABEL_SHARE = 0.25
# The fitted model's regularisation (scikit-learn's C: larger fits harder).
C = 1.0


def damage_streaks(clean: np.ndarray, seed: int):
    """Gaussian spots, hairs and tilted streaks, 30-100% opaque, over white or clumped grain."""
    rng = np.random.default_rng(5000 + seed)
    t, h, w, _ = clean.shape
    noise = rng.normal(0, 1, clean.shape).astype(np.float32)
    if rng.random() < 0.5:
        noise = np.stack([cv2.GaussianBlur(f, (0, 0), 0.8) for f in noise])
        noise /= noise.std() + 1e-6
    dirty = clean.astype(np.float32) + rng.uniform(0, 8) * noise
    truth = np.zeros((t, h, w), bool)
    yy, xx = np.mgrid[0:h, 0:w]
    for k in range(1, t - 1):
        for _ in range(rng.integers(2, 10)):
            kind = rng.random()
            cy, cx = rng.uniform(10, h - 10), rng.uniform(10, w - 10)
            if kind < 0.35:
                s = rng.uniform(0.8, 4)
                alpha = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
            elif kind < 0.6:  # a hair: a short random walk
                m = np.zeros((h, w), np.float32)
                pts, ang = [(cx, cy)], rng.uniform(0, np.pi)
                for _ in range(rng.integers(4, 12)):
                    ang += rng.normal(0, 0.4)
                    pts.append((pts[-1][0] + 2 * np.cos(ang), pts[-1][1] + 2 * np.sin(ang)))
                cv2.polylines(m, [np.int32(np.round(pts))], False, 1.0, int(rng.integers(1, 3)), cv2.LINE_AA)
                alpha = m
            else:
                a, b, th = rng.uniform(1.5, 8), rng.uniform(1, 3), rng.uniform(0, np.pi)
                u = (xx - cx) * np.cos(th) + (yy - cy) * np.sin(th)
                v = -(xx - cx) * np.sin(th) + (yy - cy) * np.cos(th)
                alpha = np.clip(1.5 - 1.5 * np.hypot(u / a, v / b), 0, 1)
            alpha = np.clip(alpha, 0, 1) * rng.uniform(0.3, 1.0)
            r = rng.random()
            if r < 0.5:
                value = np.full(3, rng.uniform(0, 50))
            elif r < 0.85:
                value = np.full(3, rng.uniform(200, 255))
            else:
                value = rng.uniform(0, 255, 3)
            dirty[k] = dirty[k] * (1 - alpha[..., None]) + value * alpha[..., None]
            truth[k] |= alpha > 0.25
    return np.clip(dirty + 0.5, 0, 255).astype(np.uint8), truth


@dataclass
class Labelled:
    """One damaged clip's candidates: features ``x``, labels ``y``, and what scores a mask built from them."""

    x: np.ndarray
    y: np.ndarray
    frames: list  # (frame, candidate labels, index of each candidate into x, or -1 where refused)
    truth: np.ndarray


def labelled(dirty: np.ndarray, truth: np.ndarray, backend="cpu") -> Labelled:
    """Features and labels of every candidate in ``dirty`` (uint8 RGB) against the blotch truth."""
    grey = film._grey(dirty.astype(np.float32) / 255)
    xs, ys, frames, used = [], [], [], 0
    for k, labels, n, x, _ in film.blotch_candidates(grey, backend):
        if n == 0:
            continue
        near = ndimage.binary_dilation(truth[k], iterations=1).astype(float)
        y = np.asarray(ndimage.mean(near, labels, np.arange(1, n + 1))) >= LABEL_SHARE
        keep = blotches.plausible(x)  # the others are refused before the classifier
        index = np.full(n + 1, -1)
        index[1:][keep] = used + np.arange(int(keep.sum()))
        used += int(keep.sum())
        frames.append((k, labels, index))
        ys.append(y[keep])
        xs.append(x[keep])
    if not xs:
        return Labelled(np.zeros((0, len(blotches.FEATURES))), np.zeros(0, bool), frames, truth)
    return Labelled(np.concatenate(xs), np.concatenate(ys), frames, truth)


def blotch_f1(data: Labelled, p: np.ndarray, threshold: float) -> float:
    """F1 of blotch recall and precision as the benchmarks score them, at ``threshold``."""
    mask = np.zeros(data.truth.shape, bool)
    for k, labels, index in data.frames:
        hit = np.concatenate([[0.0], p])[index + 1] >= threshold
        hit[0] = False
        mask[k] = hit[labels]
    recall, precision = film_bench.recall_precision(mask, data.truth, data.truth)
    return 2 * recall * precision / max(recall + precision, 1e-9)


def clip_data(names, frames):
    """``{clip: [Labelled, Labelled]}``: both training generators' damage on each clip."""
    data = {}
    for i, clip in enumerate(names):
        clean = quality.load_clip(clip, frames)
        data[clip] = [labelled(*film_bench.damage(clean, i)[:2]), labelled(*damage_streaks(clean, i))]
        n, dirt = sum(len(d.y) for d in data[clip]), sum(int(d.y.sum()) for d in data[clip])
        print(f"{clip}: {n} candidates, {dirt} dirt", flush=True)
    return data


def _stack(parts):
    return np.concatenate([d.x for d in parts]), np.concatenate([d.y for d in parts])


def fit(x: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> blotches.BlotchModel:
    from sklearn.linear_model import LogisticRegression

    z = blotches.transform(x)
    mean, scale = z.mean(axis=0), z.std(axis=0)
    scale[scale < 1e-9] = 1.0
    lr = LogisticRegression(C=C, max_iter=5000).fit((z - mean) / scale, y)
    return blotches.BlotchModel(mean, scale, lr.coef_[0], float(lr.intercept_[0]), threshold)


def choose_threshold(data: dict) -> float:
    """The threshold with the best mean blotch F1 over clips, each predicted by a model fitted on the others."""
    scores = {t: [] for t in THRESHOLDS}
    for clip in data:
        model = fit(*_stack([d for c in data if c != clip for d in data[c]]))
        for d in data[clip]:
            p = model.probability(d.x)
            for t in THRESHOLDS:
                scores[t].append(blotch_f1(d, p, t))
    return max(THRESHOLDS, key=lambda t: np.mean(scores[t]))


def train(data: dict) -> blotches.BlotchModel:
    threshold = choose_threshold(data)
    model = fit(*_stack([d for parts in data.values() for d in parts]))
    model.threshold = threshold
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--out", type=Path, default=ROOT / "hybridinpaint" / "data" / "blotch_model.json")
    args = ap.parse_args()
    if not quality.CLIPS.is_dir():
        raise SystemExit(f"shared clips not found at {quality.CLIPS}")
    names = sorted(p.name for p in quality.CLIPS.iterdir() if (p / "frames").is_dir() and not p.name.startswith("old"))
    data = clip_data(names, args.frames)
    model = train(data)
    model.provenance = {
        "trained": time.strftime("%Y-%m-%d"),
        "clips": names,
        "frames_per_clip": args.frames,
        "generators": ["benchmarks/film.py damage", "scripts/train_blotch_model.py damage_streaks"],
        "candidates": int(sum(len(d.y) for parts in data.values() for d in parts)),
        "dirt": int(sum(int(d.y.sum()) for parts in data.values() for d in parts)),
    }
    text = json.dumps(model.to_json(), indent=1) + "\n"
    from hybridinpaint.runs import io

    io.write_text(args.out, text)
    print(f"wrote {args.out}: threshold {model.threshold}")
    for name, c in sorted(zip(blotches.NAMES, model.coef), key=lambda v: -abs(v[1])):
        print(f"  {name:18s} {c:+.2f}")


if __name__ == "__main__":
    main()
