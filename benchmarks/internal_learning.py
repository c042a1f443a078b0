"""Internal learning for never-seen pixels (issue 16; tried and not kept): the shipped network adapted on
the image's own known pixels before it guides PatchMatch.

For each still case (every other image of ``benchmarks/hallucination.py``'s still images, with its
blob and box holes), a copy of the shipped network is trained on 64x64 crops of the same image that
hold no missing pixel (``NEAR_SHARE`` of them centred within ``NEAR`` px of the hole), each crop given
one of the training's random holes (``train.random_mask``) and TELEA inputs, with an L1 loss over the
hole, batch 8, Adam; then it is PatchMatch's guide (``hallucinate.fill(..., "net", weights=...)``).
Reports the mean hole PSNR of ``patch``, the shipped ``net`` and each adapted setting (steps of
training and learning rate), and the seconds the steps took. A number of steps rather than a time
budget, so the result does not depend on the machine's load; 65 and 115 steps are what 8 and 15
seconds bought on two cores when this was first tried.

    python benchmarks/internal_learning.py [--settings 65:2e-4,115:5e-4] [--images N]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from hybridinpaint import metrics as M
from hybridinpaint.completion import hallucinate, net
from hybridinpaint.completion import train as trainmod

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import hallucination  # noqa: E402
import quality  # noqa: E402

CROP = 64
BATCH = 8
NEAR = 64  # px: a "near" crop's centre is at most this far from the hole
NEAR_SHARE = 0.7
KINDS = ("blob", "box")


def crop_positions(hole):
    """Top-left corners of the CROP x CROP windows free of hole pixels: (all, near the hole)."""
    import cv2

    h, w = hole.shape
    ii = np.pad(hole.astype(np.int64), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    win = ii[CROP:, CROP:] - ii[:-CROP, CROP:] - ii[CROP:, :-CROP] + ii[:-CROP, :-CROP]
    ys, xs = np.nonzero(win == 0)
    dist = cv2.distanceTransform((~hole).view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    near = dist[ys + CROP // 2, xs + CROP // 2] <= NEAR
    return np.stack([ys, xs], 1), np.stack([ys[near], xs[near]], 1)


def adapt(image, hole, steps, lr, seed):
    """A copy of the shipped network trained ``steps`` steps on crops of ``image`` outside ``hole``; (net, s)."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = copy.deepcopy(net.load())
    model.train()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    every, near = crop_positions(hole)
    start = time.monotonic()
    if not len(every):
        return model.eval(), 0.0
    for _ in range(steps):
        xs, ms, ys = [], [], []
        for _ in range(BATCH):
            pool = near if len(near) and rng.random() < NEAR_SHARE else every
            y, x = pool[rng.integers(len(pool))]
            patch = np.ascontiguousarray(image[y : y + CROP, x : x + CROP])
            m = trainmod.random_mask(rng, CROP, CROP)
            _, telea = trainmod.classical_fills(patch, m, "telea")
            xs.append(telea)
            ms.append(m)
            ys.append(patch)
        xt, yt = (torch.from_numpy(np.stack(a).transpose(0, 3, 1, 2).copy()) for a in (xs, ys))
        mt = torch.from_numpy(np.stack(ms)[:, None].astype(np.float32))
        l1, _ = trainmod.losses(torch, model(xt, xt, mt), yt, mt)
        opt.zero_grad()
        l1.backward()
        opt.step()
    return model.eval(), time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", default="65:2e-4,115:5e-4", help="STEPS:LR of training, comma-separated")
    ap.add_argument("--images", type=int, default=0, help="only the first N of the images (0: all)")
    args = ap.parse_args()
    import torch

    settings = [(int(a), float(b)) for a, b in (s.split(":") for s in args.settings.split(","))]
    shipped = torch.load(net.default_weights(), map_location="cpu", weights_only=True)
    cases = hallucination.still_cases()[::2]
    cases = cases[: args.images] if args.images else cases
    scores: dict[str, list] = {}
    seconds: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, truth in cases:
            h, w = truth.shape[:2]
            for kind in KINDS:
                # The benchmark's own holes for this case.
                rng = np.random.default_rng(zlib.crc32(f"{name}/{kind}".encode()))
                hole = hallucination.hole_of(kind, rng, h, w)
                img = truth.astype(np.float32) / 255
                src = np.where(hole[..., None], 0, img).astype(np.float32)
                fills = {
                    "patch": hallucinate.fill(src, hole, "patch", backend="cpu")[0],
                    "net (shipped)": hallucinate.fill(src, hole, "net", backend="cpu")[0],
                }
                for n, lr in settings:
                    label = f"net adapted {n} steps, lr {lr:g}"
                    model, sec = adapt(img, hole, n, lr, zlib.crc32(f"{name}/{kind}/{n}/{lr}".encode()))
                    path = Path(tmp) / f"adapted-{sum(map(len, seconds.values()))}.pt"  # a new name: net.load caches
                    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    torch.save({"state_dict": state, "config": shipped.get("config", {})}, path)
                    fills[label] = hallucinate.fill(src, hole, "net", backend="cpu", weights=path)[0]
                    seconds.setdefault(label, []).append(sec)
                line = []
                for label, out in fills.items():
                    out8 = np.clip(out * 255 + 0.5, 0, 255).astype(np.uint8)
                    p = M.psnr(out8[None], truth[None], mask=hole)
                    scores.setdefault(label, []).append(p)
                    line.append(f"{label} {p:.2f}")
                print(f"{name} {kind}: " + ", ".join(line), flush=True)
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')}; {len(cases)} images x {len(KINDS)} holes at "
        f"{quality.SIZE[0]}x{quality.SIZE[1]}; mean hole PSNR.",
        "",
        "| fill | hole PSNR dB | training seconds per image (mean, min-max) |",
        "| --- | --- | --- |",
    ]
    for label, v in scores.items():
        st = seconds.get(label)
        span = f"{np.mean(st):.1f} ({min(st):.1f}-{max(st):.1f})" if st else ""
        lines.append(f"| {label} | {np.mean(v):.2f} | {span} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
